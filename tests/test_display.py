"""Inline display: the PNG representation and the self-contained HTML player."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

from tcnn_widgets.analysis import analyze
from tcnn_widgets.display import (
    invariances_html,
    invariances_mimebundle,
    invariances_png,
    player_data,
)
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.pixels import to_gray_bytes
from tcnn_widgets.selection import choose_directions


@pytest.fixture(scope="module")
def inv():
    network = TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=2, image_size=8)
    return analyze(network.unit(2, 0, 0), restarts=2, seed=0)


def reference_gray(inv, index, count):
    """All frames of a video from the raw arrays, through the gray rule."""
    a, b = inv.video_ranges[index]
    t = np.linspace(a, b, count)[:, None, None]
    frames = np.cos(t) * inv.stimulus + np.sin(t) * inv.radius * inv.directions[index]
    return to_gray_bytes(frames, inv.gray_limit(index))


def test_png_is_a_picture_of_the_summary(inv):
    data = invariances_png(inv)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1050, 460)
    gray = np.asarray(image.convert("L"))
    assert gray.min() < 40 and gray.max() == 255  # dark stimulus pixels on a white page


def test_player_data_holds_the_engine_frames(inv):
    count = 6
    data = player_data(inv, top=2, count=count)
    h, w = inv.shape
    assert (data["height"], data["width"]) == (h, w)
    # the least invariant end of a pooling unit is tied: the player passes over the tie
    tie = len(inv.group_members(inv.index(0, "least")))
    assert tie > 1
    indices = [row.index for row in choose_directions(inv, 2)]
    assert indices[-1] == inv.index(tie, "least")
    for entry, index in zip(data["directions"], indices, strict=True):
        frames = np.frombuffer(base64.b64decode(entry["frames"]), dtype=np.uint8)
        np.testing.assert_array_equal(
            frames.reshape(count, h, w), reference_gray(inv, index, count)
        )
        stimulus = np.frombuffer(base64.b64decode(entry["stimulus"]), dtype=np.uint8)
        np.testing.assert_array_equal(
            stimulus.reshape(h, w), to_gray_bytes(inv.stimulus, inv.gray_limit(index))
        )
        assert entry["curvature"] == inv.curvatures[index]
    assert f"least invariant #{tie + 1}" in data["directions"][-1]["label"]
    assert f"beyond a tie of {tie} directions" in data["directions"][-1]["label"]


def test_player_is_self_contained(inv):
    page = invariances_html(inv)
    sources = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', page)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
    assert "http" not in page
    assert page.count("<script") == 1 and page.count("</script>") == 1  # data cannot break out
    embedded = re.search(r"const data = (\{.*?\});\n", page).group(1)
    assert json.loads(embedded)["name"] == inv.name


def test_mimebundle_renders_the_png_once_and_uses_it_as_the_fallback(inv):
    bundle = invariances_mimebundle(inv)
    png = bundle["image/png"]
    assert png.startswith(b"\x89PNG")
    still = re.search(r'src="data:image/png;base64,([^"]+)"', bundle["text/html"]).group(1)
    assert base64.b64decode(still) == png
    assert "<img" not in invariances_html(inv, fallback=False)


def test_names_cannot_break_the_page(inv):
    page = invariances_html(dataclasses.replace(inv, name="</script><b>x"), fallback=False)
    assert page.count("<script") == 1 and page.count("</script>") == 1
    assert "<b>" not in page


def test_two_players_on_one_page_do_not_clash(inv):
    ids = [re.search(r'id="([^"]+)"', invariances_html(inv)).group(1) for _ in range(2)]
    assert ids[0] != ids[1]


def test_bad_arguments(inv):
    with pytest.raises(ValueError, match="top"):
        player_data(inv, top=0)
    with pytest.raises(ValueError, match="fps"):
        invariances_html(inv, fps=-1)
    with pytest.raises(ValueError, match="count"):
        invariances_html(inv, count=1)


def _launch_chromium(playwright):
    try:
        return playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
    except Exception as error:  # no browser here
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is needed for browser tests: {error}")
        pytest.skip(f"no Chromium: {error}")


@pytest.mark.browser
def test_player_canvas_shows_the_gray_bytes_and_plays(inv, tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("playwright is needed for browser tests")
        pytest.skip("playwright is not installed")
    count = 8
    page_file = tmp_path / "player.html"
    page_file.write_text(
        "<!doctype html><meta charset='utf-8'><body>" + invariances_html(inv, count=count),
        encoding="utf-8",
    )
    h, w = inv.shape
    read_canvas = """(selector) => {
        const c = document.querySelector(selector);
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
    }"""
    with sync_playwright() as playwright:
        browser = _launch_chromium(playwright)
        page = browser.new_page()
        errors, requests = [], []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.as_uri())
        readout = page.inner_text(".readout")
        page.wait_for_function(
            "(before) => document.querySelector('.readout').textContent !== before", arg=readout
        )  # it plays by itself
        page.click("button.play")  # pause
        assert page.inner_text("button.play") == "play"
        shown = [row.order for row in choose_directions(inv, 4)]
        page.select_option("select.direction", str(shown.index("least")))
        page.fill("input.angle", "5")
        page.dispatch_event("input.angle", "input")
        frame = np.array(page.evaluate(read_canvas, "canvas.frame")).reshape(h, w, 4)
        stimulus = np.array(page.evaluate(read_canvas, "canvas.stimulus")).reshape(h, w, 4)
        text = page.inner_text(".readout")
        assert page.locator("img.fallback").count() == 0  # replaced by the player
        still = browser.new_page(java_script_enabled=False)
        still.goto(page_file.as_uri())
        assert still.locator("img.fallback").is_visible()
        assert not still.locator("div.player").is_visible()
        browser.close()
    index = next(row.index for row in choose_directions(inv, 4) if row.order == "least")
    expected = reference_gray(inv, index, count)
    for channel in range(3):
        np.testing.assert_array_equal(frame[..., channel], expected[5])
    np.testing.assert_array_equal(
        stimulus[..., 0], to_gray_bytes(inv.stimulus, inv.gray_limit(index))
    )
    angle = np.degrees(np.linspace(*inv.video_ranges[index], count)[5])
    assert f"t = {angle:.1f}°" in text
    assert errors == []
    assert all(url.startswith("file:") for url in requests)


def test_invariances_display_themselves_with_png_and_player():
    """What a notebook asks an Invariances for: a PNG and the HTML player around it."""
    import base64

    from tcnn_widgets import TiledCNN, analyze

    result = analyze(TiledCNN.random(4, 2, 3, 2, seed=0, image_size=6).unit(0, 0, 0), seed=0)
    bundle = result._repr_mimebundle_()
    assert bundle["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert base64.b64encode(bundle["image/png"]).decode() in bundle["text/html"]
