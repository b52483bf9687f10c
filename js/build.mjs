// Build the front end: bundle js/src into one self-contained ES module,
// tcnn_widgets/static/widget.js, and copy the three files that static HTML pages
// need offline (the widget HTML manager, require.js and anywidget's AMD build).
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, "..", "tcnn_widgets", "static");

await build({
  entryPoints: [join(here, "src", "widget.js")],
  outfile: join(out, "widget.js"),
  bundle: true,
  format: "esm",
  target: "es2020",
  loader: { ".css": "text" },
  legalComments: "none",
  charset: "utf8",
  logLevel: "warning",
});

const offline = {
  "embed-amd.js": "node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js",
  "require.js": "node_modules/requirejs/require.js",
  "anywidget.js": "node_modules/anywidget/dist/index.js",
};
for (const [name, source] of Object.entries(offline)) copyFileSync(join(here, source), join(out, name));
