"""Every notebook runs headless, as a user runs it: against a plain, non-editable install.

The package is built into a wheel from this checkout and installed without its
dependencies (already in the environment) into a folder of its own; the notebooks are
copied out of the repository and executed there with nbclient, each in a fresh kernel
(``python3``) whose ``PYTHONPATH`` is only that folder. A notebook that needs a file the
wheel does not ship (``scripts/``, ``docs/``, the source tree) fails here. A cell added
before the notebook's own cells checks that ``tcnn_widgets`` comes from the install and
records every warning raised while tcnn_widgets code is on the call stack; a cell added
after them fails when any was recorded. The notebooks in git must carry no outputs.

The wheel is built with the installed ``hatchling`` when there is one (about 3 s), else in
pip's isolated build environment (about 15 s, fetching ``hatchling`` from PyPI).
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPOSITORY = Path(__file__).parents[1]
NOTEBOOKS = sorted((REPOSITORY / "notebooks").glob("*.ipynb"))

RECORD_WARNINGS = """\
import inspect as _inspect
import pathlib as _pathlib
import warnings as _warnings

import os as _os

import tcnn_widgets as _tcnn_widgets

_PACKAGE = str(_pathlib.Path(_tcnn_widgets.__file__).resolve().parent)
_INSTALLED = str(_pathlib.Path(_os.environ["PYTHONPATH"]).resolve())
assert _PACKAGE.startswith(_INSTALLED), f"tcnn_widgets imported from {_PACKAGE}, not the install"
_OUR_WARNINGS = []
_show_warning = _warnings.showwarning


def _from_our_code(filename):
    return str(_pathlib.Path(filename).resolve()).startswith(_PACKAGE)


def _record_warning(message, category, filename, lineno, file=None, line=None):
    stack = [frame.filename for frame in _inspect.stack()[1:]]
    if any(_from_our_code(name) for name in [filename, *stack]):
        _OUR_WARNINGS.append(f"{category.__name__}: {message} ({filename}:{lineno})")
    _show_warning(message, category, filename, lineno, file, line)


_warnings.showwarning = _record_warning
_warnings.simplefilter("always")
"""

CHECK_WARNINGS = """\
assert not _OUR_WARNINGS, "warnings from tcnn_widgets:\\n" + "\\n".join(_OUR_WARNINGS)
"""


def test_there_are_notebooks():
    names = [path.name for path in NOTEBOOKS]
    assert names == [
        "01_quickstart.ipynb",
        "02_quadratic_forms.ipynb",
        "03_pretrained_vs_random.ipynb",
        "04_your_own_network.ipynb",
        "05_pytorch_models.ipynb",
        "06_layer_by_layer.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package as ``pip install .`` gives it: a wheel of this checkout, installed alone."""
    root = tmp_path_factory.mktemp("installed")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "wheel")]
    if importlib.util.find_spec("hatchling") is not None:
        build.append("--no-build-isolation")
    done = subprocess.run([*build, str(REPOSITORY)], capture_output=True, text=True)
    assert done.returncode == 0, f"building the wheel failed:\n{done.stderr}"
    (wheel,) = (root / "wheel").glob("*.whl")
    site = root / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q"]
    done = subprocess.run(
        [*install, "--target", str(site), str(wheel)], capture_output=True, text=True
    )
    assert done.returncode == 0, f"installing the wheel failed:\n{done.stderr}"
    return site


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_against_an_installed_wheel(path, installed, tmp_path, monkeypatch):
    copies = tmp_path / "notebooks"
    shutil.copytree(path.parent, copies)  # outside the repository, as a user's copy
    notebook = nbformat.read(copies / path.name, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(RECORD_WARNINGS))
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK_WARNINGS))
    monkeypatch.setenv("PYTHONPATH", str(installed))  # the kernel sees the install, not the tree
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(copies)}},
    )
    client.execute()  # raises CellExecutionError on any error, with the cell and traceback
