"""Report folders: what the page shows about each featured unit, and how its results are stored."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image
from result_helpers import ends_only, pooling_result

from tcnn_widgets import figures, load_results
from tcnn_widgets.report import GIF_FRAMES, compact_png, write_index, write_section


def test_report_shows_the_least_invariant_direction_outside_the_tie(tmp_path):
    result = pooling_result()
    tie = result.group_members(result.n_directions - 1)
    assert len(tie) > 1
    section = write_section(tmp_path, "units", "Units", [result], featured=1)
    (unit,) = section.units
    most, least = unit.gifs
    assert most.caption.startswith("most invariant #1")
    assert least.caption.startswith(f"least invariant #{len(tie) + 1} (first outside the tie of")
    assert "no single image" in unit.note
    page = write_index(tmp_path, "Report", [section]).read_text(encoding="utf-8")
    assert "no single image" in page and "first outside the tie" in page
    for gif in unit.gifs:
        image = Image.open(tmp_path / gif.path)
        assert image.n_frames == 2 * GIF_FRAMES - 2  # forward then back: no jump at the loop
    shown = figures.shown_directions(result, 1)[1]
    assert shown.index not in tie and shown.index == tie.min() - 1


def test_figures_are_shown_at_a_readable_size(tmp_path):
    section = write_section(tmp_path, "units", "Units", [pooling_result()], featured=1)
    page = write_index(tmp_path, "Report", [section]).read_text(encoding="utf-8")
    shown = re.findall(r'<img src="([^"]+\.png)"[^>]* width="(\d+)"', page)
    assert len(shown) == 5  # the grid, strips, spectrum and two activation curves
    for path, width in shown:
        pixels = Image.open(tmp_path / path).size[0]
        assert int(width) == pixels  # one PNG pixel per CSS pixel: 9-point text is 12.5 px
        assert int(width) >= 400 or path.endswith("stimuli.png")  # (one unit: one tile)
    assert page.count("<img") == len(re.findall(r"<img [^>]*>", page))


def test_compact_results_load_exactly_what_was_stored(tmp_path):
    result = pooling_result()
    write_section(
        tmp_path, "units", "Units", [result], featured=0, hessians=False, precision="float32"
    )
    (loaded,) = load_results(tmp_path / "units" / "results.npz")
    assert loaded.hessian is None
    np.testing.assert_array_equal(loaded.directions, result.directions.astype(np.float32))
    np.testing.assert_array_equal(loaded.stimulus, result.stimulus)  # the core stays float64
    np.testing.assert_array_equal(loaded.curvatures, result.curvatures)
    full = write_section(tmp_path, "full", "Units", [result], featured=0)
    (exact,) = load_results(tmp_path / full.results_file)
    np.testing.assert_array_equal(exact.hessian, result.hessian)


def test_report_of_a_matrix_free_result(tmp_path):
    ends = ends_only(pooling_result(), 3)  # the least end's kept directions are all tied
    section = write_section(tmp_path, "units", "Units", [ends], featured=1, precision="float32")
    (unit,) = section.units
    most, least = unit.gifs
    assert least.caption.startswith("least invariant #33 (first outside the tie of ≥3)")
    assert "At least 3 least invariant directions tie" in unit.note
    assert all((tmp_path / p.path).is_file() for p in [*unit.gifs, *unit.curves])
    (loaded,) = load_results(tmp_path / section.results_file)
    assert not loaded.complete and loaded.hessian is None


def test_report_pngs_are_the_figures_pixel_for_pixel_in_fewer_bytes(tmp_path):
    result = pooling_result()
    (unit,) = write_section(tmp_path, "units", "Units", [result], featured=1).units
    figure = figures.invariance_strips(result)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)  # what matplotlib writes, RGBA
    written = (tmp_path / unit.strips.path).read_bytes()
    original = np.asarray(Image.open(buffer).convert("RGBA"))
    assert original.shape[-1] == 4 and (original[..., 3] == 255).all()
    np.testing.assert_array_equal(
        np.asarray(Image.open(io.BytesIO(written)).convert("RGBA")), original
    )
    assert len(written) < 0.8 * len(buffer.getvalue())
    assert compact_png(buffer.getvalue()) == written
    translucent = Image.new("RGBA", (4, 3), (10, 20, 30, 128))  # alpha kept when not opaque
    data = io.BytesIO()
    translucent.save(data, format="PNG")
    again = Image.open(io.BytesIO(compact_png(data.getvalue())))
    assert np.array_equal(np.asarray(again.convert("RGBA")), np.asarray(translucent))


def test_report_videos_play_in_a_browser(tmp_path, browser):
    """The animated PNG videos load in Chromium from the folder alone and play."""
    from browser_helpers import local_only

    section = write_section(tmp_path, "units", "Units", [pooling_result()], featured=1)
    index = write_index(tmp_path, "Report", [section])
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    blocked = local_only(page)
    page.goto(index.as_uri())
    for video in section.units[0].gifs:
        image = page.locator(f'img[src="{video.path}"]')
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        assert image.evaluate("img => img.naturalWidth") == Image.open(tmp_path / video.path).width
        shots = set()
        for _ in range(6):
            shots.add(image.screenshot())
            page.wait_for_timeout(150)
        assert len(shots) > 1, f"{video.path} does not play"
    assert blocked == []
    page.close()
