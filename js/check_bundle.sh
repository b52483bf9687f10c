#!/usr/bin/env bash
# CI check of the front end: a clean install from package-lock.json, a type check of
# js/src (// @ts-check with anywidget's types, tsc --noEmit), a fresh build compared byte
# for byte with the files shipped in tcnn_widgets/static/, and the JS unit tests.
# Needs Node.js 20 and npm.
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund
npx --no-install tsc -p tsconfig.json
echo "js/src type-checks (tsc --noEmit, checkJs)"

fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
node build.mjs "$fresh"
for name in widget.js embed-amd.js require.js anywidget.js; do
  if ! cmp -s "$fresh/$name" "../tcnn_widgets/static/$name"; then
    echo "tcnn_widgets/static/$name differs from a fresh build of js/:" \
      "run 'npm run build' in js/ and commit the result" >&2
    exit 1
  fi
done
echo "tcnn_widgets/static matches a fresh build of js/"

node --test test/*.test.js
