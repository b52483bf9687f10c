"""Every notebook in notebooks/ runs headless without errors or warnings from tcnn_widgets.

Each notebook is executed with nbclient in a fresh kernel (``python3``) and a temporary
working directory. A cell added before the notebook's own cells records every warning
raised while tcnn_widgets code is on the call stack; a cell added after them fails
when any was recorded. The notebooks in git must carry no outputs.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

RECORD_WARNINGS = """\
import inspect as _inspect
import pathlib as _pathlib
import warnings as _warnings

import tcnn_widgets as _tcnn_widgets

_PACKAGE = str(_pathlib.Path(_tcnn_widgets.__file__).resolve().parent)
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
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_without_errors_or_warnings(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(RECORD_WARNINGS))
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK_WARNINGS))
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError on any error, with the cell and traceback
