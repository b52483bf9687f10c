"""Figures: pixels read back from the rendered figure, plotted data, layout and export."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from result_helpers import as_channels, ends_only, pooling_result

from tcnn_widgets import figures
from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.pixels import CHANNEL_GAP, to_gray_bytes

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
    t = np.linspace(a, b, count).reshape(-1, *[1] * inv.stimulus.ndim)
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
    tie = inv.group_members(inv.n_directions - 1)
    assert len(tie) > 1  # the least invariant end is a tie: its rows start outside it
    indices = [0, 1, tie.min() - 1]  # two most invariant rows, then the one distinct least
    assert tie.min() - 2 == 1  # (the next one is already a most invariant row)
    assert len(fig.axes) == len(indices)
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
    angles = np.degrees(np.linspace(*inv.video_ranges[0], count))
    assert [float(label.split("°")[0]) for label in labels] == pytest.approx(angles, abs=0.5)


def test_strips_never_show_a_member_of_the_least_invariant_tie_as_the_least(inv):
    fig = figures.invariance_strips(inv, top=1, frames=3)
    least = inv.index(0, "least")
    size = int(np.sum(inv.groups == inv.groups[least]))
    assert size > 1  # a one-layer pooling unit has a large degenerate group
    label = fig.axes[1].get_ylabel()
    # the first direction outside the tie is the (size + 1)-th from the least invariant end
    assert f"least invariant #{size + 1}" in label and f"tie of {size}" in label
    assert "no single image" in fig._suptitle.get_text().replace("\n", " ")
    shown = figures.shown_directions(inv, 1)
    assert [d.index for d in shown] == [0, inv.n_directions - size - 1]
    assert all(inv.groups[d.index] != inv.groups[least] for d in shown)


def test_shown_directions_of_an_untied_result_are_the_plain_ends(inv):
    untied = dataclasses.replace(inv, groups=np.arange(inv.n_directions))
    shown = figures.shown_directions(untied, 2)
    m = inv.n_directions
    assert [(d.index, d.rank, d.order) for d in shown] == [
        (0, 0, "most"),
        (1, 1, "most"),
        (m - 1, 0, "least"),
        (m - 2, 1, "least"),
    ]
    assert [d.caption for d in shown][2] == "least invariant #1"
    assert figures.tie_note(untied) == ""


def test_colour_stimuli_are_drawn_as_rgb_with_one_limit():
    result = as_channels(pooling_result(), 3)
    count = 3
    fig = figures.invariance_strips(result, top=1, frames=count)
    c, h, w = result.shape
    buffer = render(fig)
    ax, index = fig.axes[0], 0
    frames = reference_frames(result, index, count)
    limit = result.gray_limit(index)
    for k in range(count):
        left = k * (w + figures.GAP)
        pixels = rendered_pixels(buffer, ax, np.arange(left, left + w), np.arange(h))
        expected = np.stack([to_gray_bytes(frames[k][ch], limit) for ch in range(3)], axis=-1)
        np.testing.assert_array_equal(pixels, expected)
    assert not np.array_equal(pixels[..., 0], pixels[..., 1])  # really in colour


def test_other_channel_counts_are_drawn_channel_by_channel():
    result = as_channels(pooling_result(), 4)
    fig = figures.stimulus_grid([result])
    c, h, w = result.shape
    limit = np.max(np.abs(result.stimulus))
    data = fig.axes[0].get_images()[0].get_array()
    for ch in range(c):
        left = ch * (w + CHANNEL_GAP)
        expected = to_gray_bytes(result.stimulus[ch], limit)
        np.testing.assert_array_equal(data[:, left : left + w, 1], expected)
    assert data.shape[1] == c * w + (c - 1) * CHANNEL_GAP


def test_results_with_2k_directions_say_which_end_they_show():
    full = pooling_result()
    ends = ends_only(full, 3)
    n = full.stimulus.size
    spectrum = figures.curvature_spectrum(ends)
    ax = spectrum.axes[0]
    assert "3 most and 3 least invariant of 35" in ax.get_title().replace("\n", " ")
    points = ax.lines[1]
    np.testing.assert_array_equal(points.get_xdata(), [0, 1, 2, n - 4, n - 3, n - 2])
    np.testing.assert_array_equal(points.get_ydata(), ends.curvatures)
    assert "≥×3" in [t.get_text() for t in ax.texts]  # the tie continues past the kept ones
    strips = figures.invariance_strips(ends, top=2, frames=3)
    title = strips._suptitle.get_text().replace("\n", " ")
    assert "3 most and 3 least" in title
    assert "At least 3 least invariant directions tie" in title
    assert [a.get_ylabel().split("\n")[0] for a in strips.axes] == [
        "most invariant #1",
        "most invariant #2",
        "least invariant #33",  # kept index 2 is rank 2 of 35: the 33rd from the least end
    ]
    assert "first outside the tie of ≥3" in strips.axes[2].get_ylabel().replace("\n", " ")


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
        assert image.size == (750, 480)  # the activation curve: 5 x 3.2 inches at 150 dpi


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
    with pytest.raises(ValueError, match="frames"):
        figures.invariance_strips(inv, frames=1)
    with pytest.raises(TypeError, match="top"):
        figures.invariance_strips(inv, top=1.5)
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
    least = figures.shown_directions(result, 1)[1].index
    assert result.labels[least] in strips.axes[1].get_ylabel()


def test_a_colour_unit_analyzed_end_to_end_is_drawn_in_rgb():
    rng = np.random.default_rng(3)
    filters = rng.normal(size=(2, 3, 4, 4))  # an energy unit on (3, 4, 4) colour stimuli

    def f(x):
        return float(np.sqrt(np.sum(np.tensordot(filters, x, axes=3) ** 2)))

    def grad(x):
        return np.tensordot(np.tensordot(filters, x, axes=3), filters, axes=1) / f(x)

    result = analyze(f, grad, shape=(3, 4, 4), seed=0, restarts=2)
    fig = figures.invariance_strips(result, top=1, frames=2)
    data = fig.axes[0].get_images()[0].get_array()
    limit = result.gray_limit(0)
    first = result.frame(0, result.video_ranges[0, 0])
    expected = np.stack([to_gray_bytes(first[ch], limit) for ch in range(3)], axis=-1)
    np.testing.assert_array_equal(data[:, :4], expected)


def test_a_matrix_free_analysis_is_drawn_with_its_ends_and_its_open_tie():
    network = TiledCNN.random(maps=4, tile=2, field=5, pool=2, seed=0, image_size=12)
    result = analyze(network.unit(0, 0, 1), restarts=2, seed=0, directions=3, method="matrix-free")
    assert not result.complete and result.ends_tied[1]
    n = result.stimulus.size
    ax = figures.curvature_spectrum(result).axes[0]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), [0, 1, 2, n - 4, n - 3, n - 2])
    strips = figures.invariance_strips(result, top=2, frames=2)
    labels = [a.get_ylabel().replace("\n", " ") for a in strips.axes]
    assert len(labels) == 3  # 2 most invariant, then the one distinct direction left
    assert labels[-1].startswith(f"least invariant #{n - 3} (first outside the tie of ≥3)")
    assert "At least 3 least invariant directions tie" in strips._suptitle.get_text().replace(
        "\n", " "
    )
