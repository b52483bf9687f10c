"""Figures: pixels read back from the rendered figure, plotted data, layout and export."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from tcnn_widgets import figures
from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.pixels import to_gray_bytes
from tcnn_widgets.selection import choose_directions

RADIUS = 2.0  # not 1, so that a missing rho^2 in the approximation shows


@pytest.fixture(scope="module")
def unit():
    network = TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0, image_size=8)
    return network.unit(0, 0, 1)


@pytest.fixture(scope="module")
def inv(unit):
    return analyze(unit, radius=RADIUS, restarts=2, seed=0)


def reference_frames(inv, index, count):
    """Frames from the raw arrays: cos t x* + sin t rho w over the video range."""
    a, b = inv.video_ranges[index]
    t = np.linspace(a, b, count)[:, None, None]
    return np.cos(t) * inv.stimulus + np.sin(t) * inv.radius * inv.directions[index]


def render(fig):
    """The figure drawn by Agg, as an RGBA array (top row first)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())


def rendered_pixels(buffer, ax, columns, rows):
    """RGB of the rendered figure at the centres of image pixels (column, row) of ``ax``."""
    jj, ii = np.meshgrid(columns, rows)
    xy = ax.transData.transform(np.column_stack([jj.ravel(), ii.ravel()]))
    x = np.floor(xy[:, 0]).astype(int)
    y = np.floor(buffer.shape[0] - xy[:, 1]).astype(int)
    return buffer[y, x, :3].reshape(len(rows), len(columns), 3)


def test_strip_pixels_equal_the_engine_frames_through_the_gray_rule(inv):
    count = 5
    fig = figures.invariance_strips(inv, top=2, frames=count)
    h, w = inv.shape
    # the rows of choose_directions (tested in test_selection.py): here the least
    # invariant end is a tie of all but three directions, passed over
    indices = [row.index for row in choose_directions(inv, 2)]
    assert len(fig.axes) == len(indices) == 3
    buffer = render(fig)
    for ax, index in zip(fig.axes, indices, strict=True):
        frames = reference_frames(inv, index, count)
        limit = inv.gray_limit(index)
        assert np.max(np.abs(frames)) <= limit * (1 + 1e-12)  # the video's scale holds every frame
        for k in range(count):
            left = k * (w + figures.GAP)
            pixels = rendered_pixels(buffer, ax, np.arange(left, left + w), np.arange(h))
            expected = to_gray_bytes(frames[k], limit)
            np.testing.assert_array_equal(pixels, np.repeat(expected[..., None], 3, axis=2))
            data = ax.get_images()[0].get_array()[:, left : left + w, 0]
            np.testing.assert_array_equal(data, expected)


def test_strip_labels_give_the_activation_under_each_frame(inv, unit):
    count = 5
    fig = figures.invariance_strips(inv, top=1, frames=count)
    labels = [tick.get_text() for tick in fig.axes[0].get_xticklabels()]
    truth = [unit.value(frame) for frame in reference_frames(inv, 0, count)]
    assert [float(label.split("=")[1]) for label in labels] == pytest.approx(truth, rel=2e-3)


def test_strip_rows_pass_over_a_tie_and_say_so(inv):
    fig = figures.invariance_strips(inv, top=1, frames=3)
    least = inv.index(0, "least")
    size = int(np.sum(inv.groups == inv.groups[least]))
    assert size > 1  # a one-layer pooling unit has a large degenerate group
    assert f"beyond a tie of {size} directions, which has no single image" in (
        fig.axes[1].get_ylabel()
    )


def test_grid_shows_each_stimulus_on_its_own_symmetric_scale(inv):
    results = [inv, inv]
    fig = figures.stimulus_grid(results, columns=2, labels=["first", "second"])
    h, w = inv.shape
    ax = fig.axes[0]
    expected = to_gray_bytes(inv.stimulus, np.max(np.abs(inv.stimulus)))
    pixels = rendered_pixels(
        render(fig), ax, np.arange(w + figures.GAP, 2 * w + figures.GAP), np.arange(h)
    )
    np.testing.assert_array_equal(pixels[..., 0], expected)
    assert expected.min() == 0 or expected.max() == 255  # the largest |pixel| ends the scale
    assert [t.get_text() for t in ax.get_xticklabels()] == ["first", "second"]


def test_grid_default_labels_and_partial_last_row(inv):
    fig = figures.stimulus_grid([inv] * 5, columns=3)
    assert len(fig.axes) == 2
    labels = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert labels[2] == "" and "m0 r0 c1" in labels[0] and f"{inv.activation:.3g}" in labels[0]


def test_curvature_spectrum_plots_every_curvature_and_marks_groups(inv):
    fig = figures.curvature_spectrum(inv)
    ax = fig.axes[0]
    points = ax.lines[1]
    np.testing.assert_array_equal(points.get_ydata(), inv.curvatures)
    sizes = np.bincount(inv.groups)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"×{s}" for s in sizes if s > 1]


def test_activation_curve_second_order_form_matches_the_real_curvature(inv, unit):
    # The drawn approximation g* + (1/2) rho^2 nu t^2 must have the real curve's
    # second derivative at t = 0, measured here by finite differences of the unit.
    for order in ("most", "least"):
        index = inv.index(0, order)
        fig = figures.activation_curve(inv, 0, order=order)
        real, approximation = fig.axes[0].lines[1:3]
        np.testing.assert_allclose(real.get_ydata(), inv.geodesic_activations[index])
        t = np.radians(approximation.get_xdata())
        g = approximation.get_ydata()
        drawn = np.polyfit(t, g, 2)[0] * 2  # second derivative of the drawn parabola
        x, w, rho, h = inv.stimulus, inv.directions[index], inv.radius, 1e-3
        along = [unit.value(np.cos(s) * x + np.sin(s) * rho * w) for s in (-h, 0.0, h)]
        measured = (along[0] - 2 * along[1] + along[2]) / h**2
        assert drawn == pytest.approx(measured, rel=1e-4)
        assert g[np.argmin(np.abs(t))] == pytest.approx(inv.activation)


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_savefig_formats(inv, fmt, magic):
    for fig in (
        figures.invariance_strips(inv, top=1, frames=3),
        figures.stimulus_grid([inv]),
        figures.curvature_spectrum(inv),
        figures.activation_curve(inv),
    ):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt)
        assert buffer.getvalue().startswith(magic)
    if fmt == "png":
        image = Image.open(io.BytesIO(buffer.getvalue()))
        assert image.size == (750, 480)  # 5 x 3.2 inches at 150 dpi


def test_draws_into_the_given_axes_and_figures(inv):
    outer = Figure()
    left, right = outer.subfigures(1, 2)
    ax = left.subplots()
    assert figures.curvature_spectrum(inv, ax=ax) is outer
    assert ax.lines  # drawn where asked
    assert figures.invariance_strips(inv, top=1, frames=3, fig=right) is outer
    assert len(right.axes) == 2
    mine = Figure()
    assert figures.stimulus_grid([inv], fig=mine) is mine
    assert figures.activation_curve(inv, ax=mine.subplots(1, 1)) is mine


def test_bad_arguments_get_clear_errors(inv):
    with pytest.raises(ValueError, match="top"):
        figures.invariance_strips(inv, top=0)
    with pytest.raises(ValueError, match="count"):
        figures.invariance_strips(inv, frames=1)
    with pytest.raises(TypeError, match="Invariances"):
        figures.stimulus_grid([])
    with pytest.raises(ValueError, match="labels"):
        figures.stimulus_grid([inv], labels=["a", "b"])
    with pytest.raises(ValueError, match="order"):
        figures.activation_curve(inv, order="sideways")
    with pytest.raises(IndexError, match="rank"):
        figures.activation_curve(inv, rank=inv.n_directions)


def test_titles_name_the_invariance():
    """The named invariance (METHOD section 9) appears in strip labels and curve titles."""
    from tcnn_widgets import TiledCNN, analyze
    from tcnn_widgets.figures import activation_curve, invariance_strips

    result = analyze(TiledCNN.random(4, 2, 3, 2, seed=0, image_size=6).unit(0, 0, 0), seed=0)
    result.labels[0] = "rotation"  # as if the most invariant direction were a rotation
    curve = activation_curve(result, 0)
    assert "rotation" in curve.axes[0].get_title()
    strips = invariance_strips(result, top=1)
    assert "rotation" in strips.axes[0].get_ylabel()
    least = result.index(0, "least")
    assert result.labels[least] in strips.axes[1].get_ylabel()
