"""InvarianceExplorer in a real marimo app (``marimo run --headless``) driven in Chromium.

marimo follows anywidget's front-end contract exactly (``model.set(key, value)`` then
``save_changes()``), so this is where a call outside the contract shows: the widget
would draw once and no control would respond. Pixels are read back from the canvas
and compared with the frames Python computes.
"""

from __future__ import annotations

import textwrap

import pytest
from browser_helpers import assert_frame_matches, local_only, marimo_app, shown_frame

from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN

pytestmark = pytest.mark.browser

APP = """
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from tcnn_widgets.network import TiledCNN
    from tcnn_widgets.widget import InvarianceExplorer

    explorer = InvarianceExplorer(
        TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0), analysis_options={"seed": 0}
    )
    widget = mo.ui.anywidget(explorer)
    widget
    return explorer, mo, widget


@app.cell
def _(explorer, mo, widget):
    widget.value
    mo.md(f"python-state unit={explorer.unit} rank={explorer.rank} order={explorer.order}")
    return


if __name__ == "__main__":
    app.run()
"""


def test_marimo_app_sliders_gallery_and_play_repaint(browser, tmp_path):
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(APP))
    units = TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0).unit_types()
    reference = {u: analyze(units[u], seed=0, progress=False) for u in (0, 5)}

    def check(unit: int, index: int, angle: float | None = None) -> dict:
        shown = shown_frame(page.locator(".tcnn-frame"))
        assert shown["unit"] == unit
        assert_frame_matches(
            shown, reference[unit], index, shown["angle"] if angle is None else angle
        )
        return shown

    def python_state() -> str:
        return page.get_by_text("python-state").inner_text()

    with marimo_app(app) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        blocked = local_only(page)
        page.goto(url)
        page.locator(".tcnn-frame[data-unit]").wait_for(timeout=90_000)
        check(0, 0, angle=0.0)

        page.get_by_role("slider", name="Rank").focus()
        page.keyboard.press("ArrowRight")
        check(0, 1)
        page.get_by_text("python-state unit=0 rank=1").wait_for(timeout=30_000)

        angle = page.get_by_role("slider", name="Angle θ")
        angle.focus()
        page.keyboard.press("PageDown")
        check(0, 1, angle=float(angle.input_value()))

        # the gallery fills from the start: Python analyzes every unit in the background
        last_tile = page.locator('.tcnn-tile[data-unit="15"]')
        page.wait_for_function(
            "t => !t.getAttribute('aria-label').includes('not analyzed')",
            arg=last_tile.element_handle(),
            timeout=60_000,
        )
        assert last_tile.get_attribute("aria-label").startswith("Unit 15: map")
        page.locator('.tcnn-tile[data-unit="5"]').click()
        page.locator('.tcnn-frame[data-unit="5"]').wait_for(timeout=60_000)
        check(5, 1)
        page.get_by_text("python-state unit=5 rank=1").wait_for(timeout=30_000)

        page.get_by_role("switch", name="Least invariant first").check()
        last = reference[5].n_directions - 2  # rank 1, least invariant first
        check(5, last)
        page.get_by_text("order=least").wait_for(timeout=30_000)

        page.get_by_role("button", name="Play").click()
        angles = []
        for _ in range(2):
            page.wait_for_timeout(300)
            angles.append(check(5, last)["angle"])
        assert angles[0] != angles[1], "play must move the angle"
        page.get_by_role("button", name="Pause").click()
        assert "python-state" in python_state()
        page.close()
    assert errors == []
    assert blocked == [], "marimo's page must need nothing but the local server"
