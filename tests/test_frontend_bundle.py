"""js/src type-checks, the shipped front-end bundle equals a fresh build of js/, and the
JS unit tests pass."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent.parent / "js"


def test_bundle_is_fresh_and_js_unit_tests_pass():
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js and npm are needed to check the front-end bundle in CI")
        pytest.skip("Node.js and npm are not installed: the bundle check needs them")
    done = subprocess.run(
        ["bash", str(JS / "check_bundle.sh")], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "matches a fresh build" in done.stdout
    assert "type-checks" in done.stdout
