"""InvarianceExplorer in a real browser: canvas pixels against the frames Python computes.

Most tests open the standalone page written by ``to_html`` (no kernel, every
non-local request blocked); one test drives a headless JupyterLab end to end.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from browser_helpers import (
    assert_frame_matches,
    colour_unit,
    jupyter_lab,
    large_result,
    local_only,
    need,
    open_notebook_and_run,
    shown_frame,
    shown_rgb,
    write_explorer_notebook,
)
from PIL import Image

from tcnn_widgets._page_state import page_state
from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.pixels import to_display_bytes, to_gray_bytes
from tcnn_widgets.widget import InvarianceExplorer, inline_offline_scripts

pytestmark = pytest.mark.browser

NETWORK = "TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0)"


def small_network() -> TiledCNN:
    return TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0)


@pytest.fixture(scope="module")
def explorer():
    """An explorer of 16 small units, showing unit 2."""
    return InvarianceExplorer(small_network(), unit=2, analysis_options={"seed": 0})


@pytest.fixture(scope="module")
def page_path(explorer, tmp_path_factory):
    """The explorer's one-file page (all units analyzed and embedded), moved alone to
    another folder after writing: nothing beside it is needed."""
    written = explorer.to_html(
        tmp_path_factory.mktemp("page") / "explorer.html", report="../index.html"
    )
    assert [p.name for p in written.parent.iterdir()] == ["explorer.html"], "nothing beside it"
    moved = tmp_path_factory.mktemp("elsewhere") / "copy.html"
    shutil.move(written, moved)
    return moved


def open_page(browser, path, **options):
    """Open a standalone page with only local requests allowed; wait for the first frame."""
    page = browser.new_page(viewport={"width": 1100, "height": 1000}, **options)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.blocked = local_only(page)
    page.errors = errors
    page.goto(path.as_uri())
    page.wait_for_selector(".tcnn-frame[data-unit]", timeout=30_000)
    return page


@pytest.fixture
def page(browser, page_path):
    page = open_page(browser, page_path)
    yield page
    assert page.errors == []
    assert page.blocked == [], "the standalone page must not need the network"
    page.close()


def check(page, explorer, unit: int, index: int, angle: float | None = None) -> dict:
    """The canvas shows Python's frame of (unit, index) at the angle drawn (or ``angle``)."""
    shown = shown_frame(page.locator(".tcnn-frame"))
    assert shown["unit"] == unit
    assert_frame_matches(
        shown, explorer.result(unit), index, shown["angle"] if angle is None else angle
    )
    return shown


# ---- the standalone page: every control, no kernel -----------------------------------------
def test_first_view_is_the_optimal_stimulus_enlarged_without_smoothing(page, explorer):
    check(page, explorer, unit=2, index=0, angle=0.0)
    result = explorer.result(2)
    np.testing.assert_allclose(result.frame(0, 0.0), result.stimulus)
    canvas = page.locator(".tcnn-frame")
    assert canvas.evaluate("c => getComputedStyle(c).imageRendering") == "pixelated"
    assert canvas.bounding_box()["width"] >= 20 * result.shape[1]
    readouts = page.locator(".tcnn-readouts").inner_text()
    assert "map 0, row 1, col 0" in readouts
    assert f"{result.activation:.4g}" in readouts
    fractions = result.label_fractions[0]
    assert (
        f"{result.labels[0]} (translation {round(100 * fractions[0])}%, "
        f"rotation {round(100 * fractions[1])}%, scale {round(100 * fractions[2])}%)"
    ) in readouts


def test_page_has_a_heading_an_explanation_and_a_link_back(page):
    assert page.get_by_role("heading", level=1).inner_text() == "Invariance explorer"
    assert "optimal stimulus" in page.locator("header").inner_text()
    assert page.get_by_role("link", name="Back to the report").get_attribute("href") == (
        "../index.html"
    )
    assert page.locator("script[src]").count() == 0, "every script is inlined"


def test_rank_slider_moves_by_keyboard(page, explorer):
    rank = page.get_by_role("slider", name="Rank")
    rank.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert rank.input_value() == "3"
    check(page, explorer, unit=2, index=3)
    page.keyboard.press("End")
    check(page, explorer, unit=2, index=explorer.result(2).n_directions - 1)
    selected = page.locator(".tcnn-spectrum rect.tcnn-selected")
    assert selected.count() == 1
    assert int(selected.get_attribute("data-first")) <= explorer.result(2).n_directions - 1


def test_angle_slider_follows_mouse_and_keyboard(page, explorer):
    page.get_by_role("slider", name="Rank").focus()
    page.keyboard.press("ArrowRight")
    angle = page.get_by_role("slider", name="Angle θ")
    box = angle.bounding_box()
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + box["height"] / 2)
    shown = check(page, explorer, unit=2, index=1, angle=float(angle.input_value()))
    start, stop = explorer.result(2).video_ranges[1]
    assert start < shown["angle"] < 0.5 * (start + stop)
    page.keyboard.press("PageUp")
    after = check(page, explorer, unit=2, index=1, angle=float(angle.input_value()))
    assert after["angle"] == pytest.approx(shown["angle"] + (stop - start) / 10, abs=1e-6)


def test_least_invariant_first_switch(page, explorer):
    page.get_by_role("switch", name="Least invariant first").check()
    count = explorer.result(2).n_directions
    check(page, explorer, unit=2, index=count - 1, angle=0.0)
    page.get_by_role("slider", name="Rank").focus()
    page.keyboard.press("ArrowRight")
    check(page, explorer, unit=2, index=count - 2)
    assert "least invariant first" in page.locator(".tcnn-readouts").inner_text()


def test_unit_slider_and_gallery_switch_units_without_a_kernel(page, explorer):
    page.get_by_role("slider", name="Unit").focus()
    page.keyboard.press("ArrowRight")
    check(page, explorer, unit=3, index=0, angle=0.0)
    page.locator('.tcnn-tile[data-unit="7"]').click()
    check(page, explorer, unit=7, index=0, angle=0.0)
    assert page.locator('.tcnn-tile[aria-pressed="true"]').get_attribute("data-unit") == "7"
    assert page.get_by_role("slider", name="Unit").input_value() == "7"


def test_gallery_tiles_show_each_optimal_stimulus(page, explorer):
    for unit in (0, 11):
        tile = page.locator(f'.tcnn-tile[data-unit="{unit}"] canvas')
        gray = np.array(
            tile.evaluate(
                "c => Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)"
                ".filter((_, i) => i % 4 === 0)"
            )
        )
        stimulus = explorer.result(unit).stimulus
        limit = np.max(np.abs(stimulus))
        expected = np.clip(np.floor((stimulus / limit + 1) * 127.5 + 0.5), 0, 255).ravel()
        assert np.max(np.abs(gray - expected)) <= 1


def test_play_loops_the_video_and_pause_stops_it(page, explorer):
    page.get_by_role("slider", name="Rank").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    start, stop = explorer.result(2).video_ranges[2]
    play = page.get_by_role("button", name="Play")
    play.click()
    angles = []
    for _ in range(3):
        page.wait_for_timeout(250)
        angles.append(check(page, explorer, unit=2, index=2)["angle"])
        assert start - 1e-6 <= angles[-1] <= stop + 1e-6
    assert len(set(angles)) == 3, "playback must move the angle"
    pause = page.get_by_role("button", name="Pause")
    assert pause.get_attribute("aria-pressed") == "true"
    pause.click()
    stopped = shown_frame(page.locator(".tcnn-frame"))["angle"]
    page.wait_for_timeout(200)
    assert shown_frame(page.locator(".tcnn-frame"))["angle"] == stopped


def test_play_starts_from_the_keyboard(page, explorer):
    page.get_by_role("button", name="Play").focus()
    page.keyboard.press("Space")
    page.wait_for_timeout(200)
    assert page.get_by_role("button", name="Pause").get_attribute("aria-pressed") == "true"


def runs(groups) -> list[int]:
    """Sizes of the runs of equal consecutive group ids."""
    sizes = [1]
    for previous, current in zip(groups[:-1], groups[1:], strict=True):
        if current == previous:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return sizes


def test_plots_show_one_band_per_tie_and_the_threshold_in_the_legend(page, explorer):
    result = explorer.result(2)
    sizes = runs(result.groups)
    assert page.locator(".tcnn-spectrum rect.tcnn-bar").count() == sum(s == 1 for s in sizes)
    assert page.locator(".tcnn-spectrum rect.tcnn-band").count() == sum(s > 1 for s in sizes)
    labels = page.locator(".tcnn-spectrum .tcnn-band-label").all_text_contents()
    assert labels == [f"×{s}" for s in sizes if s > 1]
    label = page.locator(".tcnn-geodesic .tcnn-threshold-label")
    assert label.text_content() == f"c·g* = {result.threshold * result.activation:.4g}"
    curve = page.locator(".tcnn-geodesic .tcnn-curve").bounding_box()
    box = label.bounding_box()
    assert box["y"] > curve["y"] + curve["height"], "the c·g* label sits below the plot"
    points = page.locator(".tcnn-geodesic .tcnn-curve").get_attribute("points").split()
    assert len(points) == len(result.geodesic_angles)


def test_chart_text_is_at_least_10_px_and_angles_are_in_degrees(page, explorer):
    sizes = page.locator(".tcnn-plot text").evaluate_all(
        """(texts) => texts.filter((t) => t.textContent.trim()).map((t) => {
            const svg = t.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(t).fontSize) * scale;
        })"""
    )
    assert len(sizes) > 8 and min(sizes) >= 10, sizes
    assert page.locator(".tcnn-angle-value").inner_text() == "0°"
    start, stop = np.degrees(explorer.result(2).video_ranges[0])
    readouts = page.locator(".tcnn-readouts").inner_text()
    assert f"video range [{start:.4g}°, {stop:.4g}°]" in readouts
    assert "rad" not in readouts


def test_play_goes_back_and_forth_without_a_jump(page, explorer):
    start, stop = explorer.result(2).video_ranges[0]
    page.get_by_role("button", name="Play").click()
    samples = []  # (browser time in s, angle drawn)
    for _ in range(40):
        page.wait_for_timeout(150)
        samples.append(
            page.locator(".tcnn-frame").evaluate(
                "c => [performance.now() / 1000, Number(c.dataset.angle)]"
            )
        )
    page.get_by_role("button", name="Pause").click()
    times, angles = np.array(samples).T
    steps = np.diff(angles)
    assert np.any(steps > 0) and np.any(steps < 0), "play turns back at the ends"
    # one sweep of the range per 3 s (a frame may be drawn up to ~0.25 s before it is
    # read on a loaded machine): far below the whole-range jump of a restarting loop
    speed = (stop - start) / 3
    assert np.all(np.abs(steps) <= speed * (np.diff(times) + 0.25))
    assert min(angles) >= start - 1e-6 and max(angles) <= stop + 1e-6


def test_dark_theme_is_followed(browser, page_path):
    page = open_page(browser, page_path, color_scheme="dark")
    colours = page.locator(".tcnn-explorer").evaluate(
        "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]"
    )
    page.close()
    background, text = ([int(v) for v in re.findall(r"\d+", colour)[:3]] for colour in colours)
    assert sum(background) < 200 < sum(text)


# ---- colour, partial results and groups ------------------------------------------------------
@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """Results of three kinds in named groups: colour, matrix-free-like and gray."""
    colour = analyze(*colour_unit(), shape=(3, 4, 4), seed=0, progress=False)
    four = analyze(*colour_unit(channels=4, size=3), shape=(4, 3, 3), seed=0, progress=False)
    gray = analyze(small_network().unit_types()[:3], seed=0, progress=False)
    matrix_free = analyze(
        small_network().unit_types()[2], seed=0, directions=4, method="matrix-free", progress=False
    )
    groups = {"colour": [colour, four], "partial": [matrix_free], "gray": gray}
    explorer = InvarianceExplorer(groups)
    path = explorer.to_html(tmp_path_factory.mktemp("mixed") / "mixed.html")
    return explorer, path


def test_colour_is_drawn_as_rgb_by_the_python_rule(browser, mixed):
    explorer, path = mixed
    page = open_page(browser, path)
    result = explorer.result(0)
    frame = page.locator(".tcnn-frame")
    for rank, angle in ((0, 0.0), (5, None)):
        page.get_by_role("slider", name="Rank").fill(str(rank))
        if angle is None:
            page.get_by_role("slider", name="Angle θ").fill(str(result.video_ranges[rank][1] * 0.6))
        shown = frame.evaluate("c => ({...c.dataset})")
        index, angle = int(shown["index"]), float(shown["angle"])
        expected = to_display_bytes(result.frame(index, angle), result.gray_limit(index))
        assert expected.shape == (4, 4, 3) and np.ptp(expected) > 10
        difference = np.abs(shown_rgb(frame).astype(int) - expected.astype(int))
        assert difference.max() <= 1, f"RGB canvas differs by {difference.max()} levels"
    tile = shown_rgb(page.locator('.tcnn-tile[data-unit="0"] canvas'))
    stimulus = result.stimulus
    np.testing.assert_allclose(tile, to_display_bytes(stimulus, np.max(np.abs(stimulus))), atol=1)
    page.locator('.tcnn-tile[data-unit="1"]').click()  # four channels: tiles side by side
    four = explorer.result(1)
    drawn = frame.evaluate("c => ({...c.dataset})")
    index, angle = int(drawn["index"]), float(drawn["angle"])
    expected = to_display_bytes(four.frame(index, angle), four.gray_limit(index))
    shown = shown_rgb(frame)
    assert shown.shape == (3, 4 * 3 + 3, 3)
    assert np.abs(shown[..., 0].astype(int) - expected.astype(int)).max() <= 1
    assert page.errors == [] and page.blocked == []
    page.close()


def test_partial_result_says_which_end_and_how_big_the_tie_is(browser, mixed):
    explorer, path = mixed
    page = open_page(browser, path)
    page.get_by_role("combobox", name="Group of units").select_option(label="partial")
    result = explorer.result(2)
    assert not result.complete and result.n_directions == 8
    check(page, explorer, unit=2, index=0, angle=0.0)
    rank = page.get_by_role("slider", name="Rank")
    assert rank.get_attribute("max") == "7"
    readouts = page.locator(".tcnn-readouts")
    assert "kept: the 4 most and 4 least invariant of 24 directions" in readouts.inner_text()
    assert "this one: most invariant end, #0" in readouts.inner_text()
    rank.fill("6")
    assert "this one: least invariant end, #1" in readouts.inner_text()
    assert page.locator(".tcnn-spectrum .tcnn-gap-label").text_content() == "16 not kept"
    page.get_by_role("switch", name="Least invariant first").check()
    rank.fill("0")
    text = readouts.inner_text()
    assert "a tie of at least" in text and "no single image is the least invariant" in text
    page.close()


def test_least_first_tie_offers_the_distinct_direction_outside_it(browser, mixed):
    explorer, path = mixed
    page = open_page(browser, path)
    page.locator('.tcnn-tile[data-unit="5"]').click()
    result = explorer.result(5)
    sizes = runs(result.groups)
    assert sizes[-1] > 1, "the test unit's least invariant end is tied"
    page.get_by_role("switch", name="Least invariant first").check()
    text = page.locator(".tcnn-readouts").inner_text()
    assert f"a tie of {sizes[-1]} directions: no single image" in text
    button = page.get_by_role("button", name="Show the distinct direction outside the tie")
    button.click()
    shown = check(
        page,
        explorer,
        unit=5,
        index=result.n_directions - 1 - int(page.get_by_role("slider", name="Rank").input_value()),
    )
    assert result.groups[shown["index"]] != result.groups[-1]
    assert not button.is_visible()
    page.close()


def test_groups_have_dividers_and_a_selector(browser, mixed):
    explorer, path = mixed
    page = open_page(browser, path)
    groups = page.locator(".tcnn-gallery-group")
    assert groups.count() == 3
    assert page.locator(".tcnn-group-name").all_text_contents() == ["colour", "partial", "gray"]
    assert groups.nth(1).evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    page.get_by_role("combobox", name="Group of units").select_option(label="gray")
    check(page, explorer, unit=3, index=0, angle=0.0)
    assert "gray" in page.locator(".tcnn-readouts").inner_text()
    page.close()


def test_a_224_x_224_colour_stimulus_is_drawn_crisp_at_its_own_resolution(browser, tmp_path):
    result = large_result((3, 224, 224), k=3)
    page = open_page(browser, InvarianceExplorer(result).to_html(tmp_path / "large.html"))
    frame = page.locator(".tcnn-frame")
    assert frame.evaluate("c => [c.width, c.height]") == [224, 224]
    box = frame.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (224 + 2, 224 + 2)  # 1 px border
    assert frame.evaluate("c => getComputedStyle(c).imageRendering") == "pixelated"
    page.get_by_role("slider", name="Rank").fill("4")
    page.get_by_role("slider", name="Angle θ").fill("0.5")
    drawn = frame.evaluate("c => ({...c.dataset})")
    index, angle = int(drawn["index"]), float(drawn["angle"])
    assert index == 4 and angle == pytest.approx(0.5)
    expected = to_display_bytes(result.frame(index, angle), result.gray_limit(index))
    assert np.abs(shown_rgb(frame).astype(int) - expected.astype(int)).max() <= 1
    assert page.errors == [] and page.blocked == []
    page.close()


def test_a_compact_page_is_smaller_and_frames_stay_within_one_level(browser, tmp_path):
    results = analyze(small_network().unit_types()[:4], seed=0, progress=False)
    full = InvarianceExplorer(results).to_html(tmp_path / "full.html")
    compact = InvarianceExplorer(results, compact=True).to_html(tmp_path / "compact.html")

    def state_size(path):
        return len(json.dumps(page_state(path.read_text())))

    data_full, data_compact = state_size(full), state_size(compact)
    # 5 x 5 units: the directions and activations are 3/4 of the data (10 x 10: 95 %),
    # and the directions shrink to a quarter, the activations to half
    assert data_compact < 0.8 * data_full, (data_compact, data_full)

    class Results:
        def result(self, unit):
            return results[unit]

    page = open_page(browser, compact)
    for rank in (1, 7):
        page.get_by_role("slider", name="Rank").fill(str(rank))
        page.get_by_role("slider", name="Angle θ").fill(str(results[0].video_ranges[rank][1] * 0.7))
        check(page, Results(), unit=0, index=rank)
    page.close()


# ---- values out of range, failed units ----------------------------------------------------
def test_front_end_clamps_out_of_range_values(browser, tmp_path):
    explorer = InvarianceExplorer(
        small_network(), unit=1, rank=500, angle=9.0, order="least", analysis_options={"seed": 0}
    )
    page = open_page(browser, explorer.to_html(tmp_path / "clamped.html"))
    result = explorer.result(1)
    stop = float(np.float32(result.video_ranges[0][1]))
    check(page, explorer, unit=1, index=0, angle=stop)
    assert page.get_by_role("slider", name="Rank").input_value() == str(result.n_directions - 1)
    page.close()


def test_a_failed_unit_shows_its_error_text(browser, tmp_path):
    class Network:
        def unit_types(self):
            return [small_network().unit_types()[0], "not a unit"]

    explorer = InvarianceExplorer(Network(), analysis_options={"seed": 0})
    page = open_page(browser, explorer.to_html(tmp_path / "failed.html"))
    page.locator('.tcnn-tile[data-unit="1"]').click()
    alert = page.get_by_role("alert")
    with pytest.raises(TypeError) as expected:
        analyze("not a unit")
    assert f"Analysis of unit 1 failed: TypeError: {expected.value}" in alert.inner_text()
    assert not page.locator(".tcnn-frame").is_visible()
    page.locator('.tcnn-tile[data-unit="0"]').click()
    assert page.locator(".tcnn-frame").is_visible()
    check(page, explorer, unit=0, index=0, angle=0.0)
    page.close()


# ---- a notebook exported with its widget state -----------------------------------------------
def test_exported_notebook_works_without_a_kernel(browser, tmp_path):
    need(
        "nbconvert",
        subprocess.run(
            [sys.executable, "-m", "nbconvert", "--version"], capture_output=True
        ).returncode
        == 0,
    )
    write_explorer_notebook(
        tmp_path / "explore.ipynb", f"{NETWORK}, unit=4, analysis_options={{'seed': 0}}"
    )
    nbconvert = [sys.executable, "-m", "jupyter", "nbconvert"]
    subprocess.run(
        [
            *nbconvert,
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=300",
            "--output",
            "executed.ipynb",
            "explore.ipynb",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *nbconvert,
            "--to",
            "html",
            "--HTMLExporter.require_js_url=require.js",
            "--HTMLExporter.widget_renderer_url=embed-amd.js",
            "executed.ipynb",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    exported = inline_offline_scripts(tmp_path / "executed.html")
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.move(exported, alone / "executed.html")

    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    (output,) = executed["cells"][0]["outputs"]
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"]))))
    result = analyze(small_network().unit_types()[4], seed=0, progress=False)
    expected = to_gray_bytes(result.stimulus, result.gray_limit(0))
    scale = png.shape[0] // expected.shape[0]
    np.testing.assert_array_equal(png, np.kron(expected, np.ones((scale, scale), np.uint8)))

    class Results:
        def result(self, unit):
            return result

    page = open_page(browser, alone / "executed.html")
    check(page, Results(), unit=4, index=0, angle=0.0)
    page.get_by_role("slider", name="Rank").focus()
    page.keyboard.press("ArrowRight")
    check(page, Results(), unit=4, index=1)
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(300)
    check(page, Results(), unit=4, index=1)
    # nbconvert's page template asks a CDN for MathJax; the widget itself needs nothing.
    assert [url for url in page.blocked if "/mathjax/" not in url] == []
    assert page.errors == []
    page.close()


# ---- JupyterLab, end to end -----------------------------------------------------------------
@pytest.mark.parametrize("app", ["lab", "notebook"], ids=["jupyterlab4", "notebook7"])
def test_notebook_front_ends_end_to_end(browser, tmp_path, app):
    """JupyterLab 4 and Notebook 7: run the notebook, move sliders, switch unit, play."""
    write_explorer_notebook(
        tmp_path / "explore.ipynb", f"{NETWORK}, analysis_options={{'seed': 0}}"
    )
    units = small_network().unit_types()
    reference = {u: analyze(units[u], seed=0, progress=False) for u in (0, 5)}

    class Results:  # what `check` needs: the result of a unit
        def result(self, unit):
            return reference[unit]

    with jupyter_lab(tmp_path, app=app) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        blocked = local_only(page)
        open_notebook_and_run(page, url, "explore.ipynb", app=app)
        canvas = page.locator(".tcnn-frame[data-unit]")
        canvas.wait_for(timeout=90_000)
        canvas.scroll_into_view_if_needed()
        check(page, Results(), unit=0, index=0, angle=0.0)

        page.get_by_role("slider", name="Rank").focus()
        page.keyboard.press("ArrowRight")
        check(page, Results(), unit=0, index=1)
        angle = page.get_by_role("slider", name="Angle θ")
        angle.focus()
        page.keyboard.press("PageDown")
        check(page, Results(), unit=0, index=1, angle=float(angle.input_value()))

        page.locator('.tcnn-tile[data-unit="5"]').click()  # not analyzed yet: asks the kernel
        page.locator('.tcnn-frame[data-unit="5"]').wait_for(timeout=60_000)
        page.locator(".tcnn-frame").scroll_into_view_if_needed()
        check(page, Results(), unit=5, index=1)

        page.get_by_role("button", name="Play").click()
        angles = []
        for _ in range(2):
            page.wait_for_timeout(300)
            angles.append(check(page, Results(), unit=5, index=1)["angle"])
        assert angles[0] != angles[1]
        page.get_by_role("button", name="Pause").click()
        page.close()
    assert blocked == []
