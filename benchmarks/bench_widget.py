"""Speed of the InvarianceExplorer front end in Debian's Chromium (driven by Playwright).

Measures, for units of the seed network's size (10 x 10 stimuli, 64 units):

- slider input to repainted canvas, median over 100 moves of the angle slider and of the
  rank slider, on the standalone page (target < 16 ms); the reference is a bare repaint
  (putImageData of the same size, driven the same way) in the same page;
- frame rate during play (target >= 30 fps); the reference is the page's own
  requestAnimationFrame rate;
- the same slider and play measurements for a large colour stimulus (3 x 224 x 224, six
  directions kept), against a bare repaint of a 224 x 224 canvas in the same page;
- unit switch with the unit not yet analyzed, in a headless JupyterLab with a kernel
  (target < 150 ms; background analysis off so that the unit is really not cached); the
  references are a switch to a cached unit and one call of ``analyze`` in this process.

Run: ``python benchmarks/bench_widget.py`` (needs /usr/bin/chromium, playwright, jupyterlab).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from browser_helpers import (  # noqa: E402
    jupyter_lab,
    large_result,
    launch,
    local_only,
    open_notebook_and_run,
    write_explorer_notebook,
)

from tcnn_widgets.analysis import analyze  # noqa: E402
from tcnn_widgets.network import TiledCNN  # noqa: E402
from tcnn_widgets.widget import InvarianceExplorer  # noqa: E402

NETWORK = "TiledCNN.random(maps=16, tile=2, field=8, pool=3, seed=0)"
MOVES = 100

# Median time (ms) from an input event on a slider to the canvas holding the new pixels
# (getImageData of one pixel waits for the draw), and to the next animation frame.
SLIDER_SCRIPT = """
async ([selector, values]) => {
  const input = document.querySelector(selector);
  const canvas = document.querySelector(".tcnn-frame");
  const context = canvas.getContext("2d");
  const drawn = [], framed = [];
  for (const value of values) {
    const start = performance.now();
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    context.getImageData(0, 0, 1, 1);
    drawn.push(performance.now() - start);
    await new Promise((resolve) => requestAnimationFrame(resolve));
    framed.push(performance.now() - start);
  }
  return { drawn, framed };
}
"""

# The same loop around a bare repaint of a canvas of the same size: the reference.
BARE_SCRIPT = """
async ([width, height, moves]) => {
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = height;
  canvas.style.width = "16em"; canvas.style.imageRendering = "pixelated";
  document.body.append(canvas);
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const drawn = [], framed = [];
  for (let move = 0; move < moves; move++) {
    const start = performance.now();
    image.data.fill(move % 256);
    context.putImageData(image, 0, 0);
    context.getImageData(0, 0, 1, 1);
    drawn.push(performance.now() - start);
    await new Promise((resolve) => requestAnimationFrame(resolve));
    framed.push(performance.now() - start);
  }
  canvas.remove();
  return { drawn, framed };
}
"""

# Frames drawn per second while playing (distinct angles drawn, sampled every animation
# frame) and the page's animation-frame rate, over the same two seconds.
PLAY_SCRIPT = """
async (seconds) => {
  const canvas = document.querySelector(".tcnn-frame");
  document.querySelector(".tcnn-play").click();
  let frames = 0, ticks = 0, last = canvas.dataset.angle;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await new Promise((resolve) => requestAnimationFrame(resolve));
    ticks += 1;
    if (canvas.dataset.angle !== last) { frames += 1; last = canvas.dataset.angle; }
  }
  const elapsed = (performance.now() - start) / 1000;
  document.querySelector(".tcnn-play").click();
  return { fps: frames / elapsed, raf: ticks / elapsed };
}
"""

# Time (ms) from a click on a gallery tile to the canvas showing that unit.
SWITCH_SCRIPT = """
async (unit) => {
  const canvas = document.querySelector(".tcnn-frame");
  const start = performance.now();
  const shown = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (canvas.dataset.unit === String(unit)) { observer.disconnect(); resolve(); }
    });
    observer.observe(canvas, { attributes: true });
  });
  document.querySelector(`.tcnn-tile[data-unit="${unit}"]`).click();
  await shown;
  return performance.now() - start;
}
"""


def median(values: list[float]) -> float:
    return statistics.median(values)


def static_page_rows(browser, explorer: InvarianceExplorer, path: Path, what: str) -> list[tuple]:
    """Slider and play measurements on a standalone page, against a bare repaint."""
    page_path = explorer.to_html(path)
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    local_only(page)
    page.goto(page_path.as_uri())
    page.wait_for_selector(".tcnn-frame[data-unit]")
    result = explorer.result()
    h, w = result.shape[-2:]

    bare = page.evaluate(BARE_SCRIPT, [w, h, MOVES])
    start, stop = (float(v) for v in result.video_ranges[0])
    angles = [start + (stop - start) * (i % 50) / 49 for i in range(MOVES)]
    angle = page.evaluate(SLIDER_SCRIPT, [".tcnn-angle", angles])
    ranks = [i % result.n_directions for i in range(1, MOVES + 1)]
    rank = page.evaluate(SLIDER_SCRIPT, [".tcnn-rank", ranks])
    page.evaluate(SLIDER_SCRIPT, [".tcnn-rank", [0]])
    play = page.evaluate(PLAY_SCRIPT, 2.0)
    page.close()

    reference = median(bare["drawn"])
    reference_frame = median(bare["framed"])
    return [
        (f"{what}: angle slider to drawn canvas (ms)", median(angle["drawn"]), reference, "< 16"),
        (f"{what}: rank slider to drawn canvas (ms)", median(rank["drawn"]), reference, "< 16"),
        (
            f"{what}: angle slider to next frame (ms)",
            median(angle["framed"]),
            reference_frame,
            "< 16",
        ),
        (
            f"{what}: rank slider to next frame (ms)",
            median(rank["framed"]),
            reference_frame,
            "< 16",
        ),
        (f"{what}: play, frames drawn per second", play["fps"], play["raf"], ">= 30"),
    ]


def jupyterlab_rows(browser, folder: Path) -> list[tuple]:
    """Unit switches through a kernel in a headless JupyterLab."""
    write_explorer_notebook(
        folder / "bench.ipynb", f"{NETWORK}, analysis_options={{'seed': 0}}, background=False"
    )
    units = TiledCNN.random(maps=16, tile=2, field=8, pool=3, seed=0).unit_types()
    analyze(units[0], seed=0, progress=False)  # compile once
    timings = []
    for unit in units[1:11]:
        start = time.perf_counter()
        analyze(unit, seed=0, progress=False)
        timings.append(1000 * (time.perf_counter() - start))
    analysis = median(timings)

    with jupyter_lab(folder) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_notebook_and_run(page, url, "bench.ipynb")
        page.locator(".tcnn-frame[data-unit]").wait_for(timeout=120_000)
        page.locator(".tcnn-frame").scroll_into_view_if_needed()
        page.evaluate(SWITCH_SCRIPT, 63)  # a first round trip, not timed
        uncached = [page.evaluate(SWITCH_SCRIPT, unit) for unit in range(1, 11)]
        cached = [page.evaluate(SWITCH_SCRIPT, unit) for unit in (0, *range(1, 10))]
        page.close()
    return [
        ("unit switch, not cached, via kernel (ms)", median(uncached), analysis, "< 150"),
        ("unit switch, cached (ms)", median(cached), analysis, ""),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = launch(playwright)
        folder = Path(folder)
        network = TiledCNN.random(maps=16, tile=2, field=8, pool=3, seed=0)
        seed_size = InvarianceExplorer(network, analysis_options={"seed": 0}, background=False)
        rows = static_page_rows(browser, seed_size, folder / "seed.html", "10x10")
        large = InvarianceExplorer(large_result((3, 224, 224), k=3))
        rows += static_page_rows(browser, large, folder / "large.html", "3x224x224")
        rows += jupyterlab_rows(browser, folder)
        browser.close()
    references = {
        "to drawn canvas": "bare putImageData + readback, same size, same page",
        "to next frame": "bare repaint to next frame, same size, same page",
        "play": "requestAnimationFrame rate, same page",
        "unit switch": "analyze() of one unit, this process",
    }
    print(
        f"{'measurement':50} {'value':>9} {'reference':>10} {'ratio':>7} {'target':>7}  reference is"
    )
    for name, value, reference, target in rows:
        described = next(text for key, text in references.items() if key in name)
        print(
            f"{name:50} {value:9.2f} {reference:10.2f} {value / reference:7.2f} {target:>7}  "
            f"{described}"
        )


if __name__ == "__main__":
    main()
