"""Time the figure and GIF export and the ``tcnn-widgets demo`` command; size the demo report.

Each row is compared with a reference measured in the same run:

- figures: a minimal matplotlib figure (one 10 x 10 image) saved as PNG;
- GIF: Pillow encoding the same pictures (so the ratio is the cost of drawing them);
- demo: the analysis of the same units alone (so the ratio is the report's overhead
  on top of the analysis), and the whole demo in a fresh process.

Then the demo report's size, by kind of file (results, GIFs, figures, explorer page),
against the 10 MB budget.

Run: ``python benchmarks/bench_figures.py`` (all 64 unit types per network, as the
demo does) or ``--units 8`` for a quick run.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from tcnn_widgets import display, figures, video
from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN


def best_time(function, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def save_png(fig: Figure) -> None:
    fig.savefig(io.BytesIO(), format="png")


def reference_figure() -> None:
    fig = Figure(figsize=(2, 2), dpi=150)
    fig.subplots().imshow(np.zeros((10, 10, 3), dtype=np.uint8), interpolation="nearest")
    save_png(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=64, help="unit types per network")
    options = parser.parse_args()

    network = TiledCNN.random(maps=16, tile=2, field=8, pool=3, seed=0)
    types = network.unit_types()[: options.units]
    analyze(types[:1], restarts=2, seed=0, progress=False)  # compile the kernels
    results = analyze(network.unit_types()[:16], restarts=8, seed=0, progress=False)
    inv = results[0]
    rows = []

    reference = best_time(reference_figure)
    rows.append(("reference: one 10x10 image to PNG", reference, reference))
    for name, make in [
        ("stimulus grid, 16 units, PNG", lambda: figures.stimulus_grid(results)),
        ("invariance strips 3+3 x 7, PNG", lambda: figures.invariance_strips(inv)),
        ("curvature spectrum, PNG", lambda: figures.curvature_spectrum(inv)),
        ("activation curve, PNG", lambda: figures.activation_curve(inv)),
        ("notebook PNG (display.summary_figure)", lambda: display.summary_figure(inv)),
    ]:
        rows.append((name, best_time(lambda make=make: save_png(make())), reference))

    clip = video.render_video(inv, 0, with_stimulus=True, with_trace=True)

    def pillow_only() -> None:
        pictures = [Image.fromarray(image, mode="L") for image in clip.images]
        pictures[0].save(io.BytesIO(), format="GIF", save_all=True, append_images=pictures[1:])

    gif_reference = best_time(pillow_only)
    rows.append(("reference: Pillow GIF encode, 32 frames", gif_reference, gif_reference))
    rows.append(
        (
            "GIF with stimulus and trace, 32 frames",
            best_time(
                lambda: video.gif_bytes(
                    video.render_video(inv, 0, with_stimulus=True, with_trace=True)
                )
            ),
            gif_reference,
        )
    )
    rows.append(
        (
            "GIF with x*, x(t), x(t) - x*, trace, caption",
            best_time(
                lambda: video.gif_bytes(
                    video.render_video(
                        inv,
                        0,
                        with_stimulus=True,
                        with_difference=True,
                        with_trace=True,
                        caption="most invariant #1",
                    )
                )
            ),
            gif_reference,
        )
    )
    start = time.perf_counter()
    for _ in range(2):  # the demo analyzes two networks
        analyze(types, restarts=8, seed=0, progress=False)
    analysis = time.perf_counter() - start
    rows.append((f"reference: analysis of 2 x {len(types)} units", analysis, analysis))
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "r"
        command = [
            sys.executable,
            "-m",
            "tcnn_widgets",
            "demo",
            "--out",
            str(report),
            "--quiet",
            "--units",
            *map(str, range(len(types))),
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        demo = time.perf_counter() - start
        sizes = report_sizes(report) if done.returncode == 0 else {}
    if done.returncode != 0:
        rows.append((f"demo FAILED: {done.stderr.strip()}", float("nan"), analysis))
    else:
        rows.append((f"tcnn-widgets demo, 2 x {len(types)} units", demo, analysis))

    print(f"{'task':<48} {'seconds':>9} {'ratio':>7}")
    for name, seconds, base in rows:
        print(f"{name:<48} {seconds:>9.3f} {seconds / base:>7.2f}")
    if sizes:
        total = sum(sizes.values())
        print(
            f"\n{'demo report, ' + str(len(types)) + ' units per network':<48} {'MB':>9} {'share':>7}"
        )
        for kind, size in sizes.items():
            print(f"{kind:<48} {size / 1e6:>9.2f} {size / total:>7.0%}")
        print(f"{'total (budget 10 MB)':<48} {total / 1e6:>9.2f}")


def report_sizes(report: Path) -> dict[str, int]:
    """Bytes of the report's files by kind: results, GIFs, figures, explorer page, the rest."""
    sizes = dict.fromkeys(["results (.npz)", "GIFs", "figures (.png)", "explorer/", "other"], 0)
    for path in report.rglob("*"):
        if not path.is_file():
            continue
        if path.relative_to(report).parts[0] == "explorer":
            kind = "explorer/"
        else:
            kind = {".npz": "results (.npz)", ".gif": "GIFs", ".png": "figures (.png)"}.get(
                path.suffix, "other"
            )
        sizes[kind] += path.stat().st_size
    return sizes


if __name__ == "__main__":
    main()
