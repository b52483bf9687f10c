"""The ``tcnn-widgets demo`` job: the pretrained and a random network, analysed and reported."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .analysis import analyze
from .network import TiledCNN
from .pretrained import load_pretrained
from .report import named, select_units, write_index, write_section
from .widget import InvarianceExplorer


def run_demo(
    out: str | os.PathLike = "tcnn-report",
    *,
    units: Sequence[int] | None = None,
    restarts: int = 8,
    seed: int = 0,
    featured: int = 2,
    progress: bool = True,
) -> Path:
    """The ``tcnn-widgets demo`` job: analyze the pretrained and a random network, write a report.

    Loads the shipped pretrained network and a random network of the same
    architecture, analyzes their unit types (all of them by default) with a progress
    bar, and writes ``out`` with ``index.html``, figures, GIFs, the results and the
    standalone widget page.

    Parameters
    ----------
    out : path-like
        The report folder (created if missing; files in it are replaced).
    units : sequence of int, optional
        Indices into ``network.unit_types()`` to analyze (default: all).
    restarts, seed
        As for :func:`tcnn_widgets.analysis.analyze`.
    featured : int
        Units per network that get strips, curves and GIFs.
    progress : bool
        Show progress bars.

    Returns
    -------
    Path
        The ``index.html`` written.
    """
    pretrained = load_pretrained()
    random = TiledCNN.random(
        maps=pretrained.maps,
        tile=pretrained.tile,
        field=pretrained.field,
        pool=pretrained.pool,
        seed=seed,
        image_size=pretrained.image_size,
        eps=pretrained.eps,
    )
    chosen = select_units(len(pretrained.unit_types()), units)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sections, everything = [], []
    for slug, title, network, note in (
        (
            "pretrained",
            "Pretrained network (TICA on grayscale CIFAR-10)",
            pretrained,
            "The shipped network, trained by topographic ICA (tcnn_widgets.pretrained).",
        ),
        (
            "random",
            "Random network",
            random,
            f"Same architecture, random orthonormalized filters (seed {seed}).",
        ),
    ):
        if progress:
            print(f"Analyzing {len(chosen)} unit types of the {slug} network ...", flush=True)
        types = network.unit_types()
        results = analyze(
            [types[i] for i in chosen], restarts=restarts, seed=seed, progress=progress
        )
        sections.append(
            write_section(
                out,
                slug,
                title,
                results,
                featured=featured,
                note=note,
                hessians=False,  # shown nowhere; the report stays small (tw.analyze recomputes)
                precision="float32",
            )
        )
        everything += named(results, f"{slug}: ")
    explorer = out / "explorer" / "index.html"
    explorer.parent.mkdir(exist_ok=True)
    InvarianceExplorer(everything, compact=True).to_html(explorer, report="../index.html")
    return write_index(
        out,
        "Optimal stimuli and invariances of a tiled CNN",
        sections,
        intro=(
            f"{len(chosen)} unit types of each network, analyzed with {restarts} random starts "
            f"(seed {seed}). Each unit's optimal stimulus x* maximizes its activation on the "
            "sphere ||x|| = 1; its invariances are the geodesics along which the activation "
            "falls slowest (most invariant) or fastest (least invariant)."
        ),
        widget_page="explorer/index.html",
    )
