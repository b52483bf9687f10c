"""Inline display of a result: the PNG summary and plain text (the live view is the widget)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from result_helpers import as_channels, ends_only, pooling_result

from tcnn_widgets.analysis import analyze
from tcnn_widgets.display import invariances_mimebundle, invariances_png, summary_figure
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.pixels import to_gray_bytes


@pytest.fixture(scope="module")
def inv():
    network = TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=2, image_size=8)
    return analyze(network.unit(2, 0, 0), restarts=2, seed=0)


def test_png_is_a_picture_of_the_summary(inv):
    data = invariances_png(inv)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1150, 500)
    gray = np.asarray(image.convert("L"))
    assert gray.min() < 40 and gray.max() == 255  # dark stimulus pixels on a white page


def test_summary_shows_the_optimal_stimulus_on_its_own_scale(inv):
    fig = summary_figure(inv)
    data = fig.axes[0].get_images()[0].get_array()
    expected = to_gray_bytes(inv.stimulus, np.max(np.abs(inv.stimulus)))
    np.testing.assert_array_equal(data[..., 0], expected)


def test_mimebundle_is_png_and_text_without_a_player(inv):
    bundle = invariances_mimebundle(inv)
    assert sorted(bundle) == ["image/png", "text/plain"]
    assert bundle["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert bundle["text/plain"] == repr(inv)


def test_colour_and_matrix_free_results_display_themselves():
    full = pooling_result()
    for result in (as_channels(full, 3), ends_only(full, 3)):
        bundle = result._repr_mimebundle_()
        assert bundle["image/png"].startswith(b"\x89PNG")
    rgb = summary_figure(as_channels(full, 3)).axes[0].get_images()[0].get_array()
    assert not np.array_equal(rgb[..., 0], rgb[..., 2])  # drawn in colour


def test_invariances_display_themselves_with_png_and_text():
    """What a notebook (and nbconvert, with no widget state) asks an Invariances for."""
    from tcnn_widgets import TiledCNN, analyze

    result = analyze(TiledCNN.random(4, 2, 3, 2, seed=0, image_size=6).unit(0, 0, 0), seed=0)
    bundle = result._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert "text/html" not in bundle


def test_a_result_shows_as_its_png_in_an_nbconvert_html_export(inv, tmp_path):
    """`jupyter nbconvert --to html` of an executed notebook keeps the PNG summary."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    inv.save(tmp_path / "unit.npz")
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            f"import tcnn_widgets as tw\ntw.Invariances.load({str(tmp_path / 'unit.npz')!r})"
        )
    )
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    (output,) = notebook.cells[0].outputs
    assert sorted(output["data"]) == ["image/png", "text/plain"]
    page, _ = HTMLExporter().from_notebook_node(notebook)
    assert f'src="data:image/png;base64,{output["data"]["image/png"]}' in page.replace("\n", "")
