"""The ``tcnn-widgets demo`` job: the pretrained and a random network, analysed and reported."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from . import _validate
from ._interrupt import deferred_interrupt
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
    two_layer_maps: int = 2,
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
    two_layer_maps : int
        The section on the two-layer colour network (``load_pretrained("two_layer_color")``)
        analyzes the units at grid position (0, 0) of this many maps, in layer 1 (exact
        Hessian) and in layer 2 (finite-difference Hessian); 0 leaves the section out.
    progress : bool
        Show progress bars.

    Returns
    -------
    Path
        The ``index.html`` written.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, after the section being written is complete (every file in the
        folder is whole; ``index.html`` is written only by a finished run).
    """
    with deferred_interrupt() as interrupt_requested:
        return _write_demo(
            Path(out),
            units,
            restarts,
            seed,
            featured,
            progress,
            two_layer_maps,
            interrupt_requested,
        )


def _write_demo(out, units, restarts, seed, featured, progress, two_layer_maps, stop_requested):
    """The work of :func:`run_demo`; ``stop_requested()`` is checked between sections."""
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
        types = network.unit_types()
        section, results = _section(
            out, slug, title, note, [types[i] for i in chosen], restarts, seed, featured, progress
        )
        sections.append(section)
        everything += named(results, f"{slug}: ")
        _stop_if(stop_requested)
    if two_layer_maps > 0:
        two_layer, results = two_layer_sections(
            out, two_layer_maps, restarts, seed, featured, progress
        )
        sections += two_layer
        everything += named(results, "two-layer colour: ")
        _stop_if(stop_requested)
    explorer = out / "explorer" / "index.html"
    explorer.parent.mkdir(exist_ok=True)
    InvarianceExplorer(everything, compact=True).to_html(explorer, report="../index.html")
    _stop_if(stop_requested)
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


def two_layer_sections(
    out: Path, maps: int, restarts: int, seed: int, featured: int, progress: bool
) -> tuple:
    """The demo's two sections on the shipped two-layer colour network.

    Analyzes ``unit(m, 0, 0, layer=1)`` (exact Hessian) and ``unit(m, 0, 0, layer=2)``
    (finite-difference Hessian) for the first ``maps`` maps: what layer 1 codes for
    beside what layer 2 adds, at the same place. Each keeps the 10 most and the 10
    least invariant directions (``directions=10``).

    Returns
    -------
    (list of Section, list of Invariances)
    """
    network = load_pretrained("two_layer_color")
    maps = _validate.integer(maps, "two_layer_maps", minimum=0, maximum=network.maps2)
    sections, everything = [], []
    for layer, hessian, max_iter, note in (
        (1, "exact", 1000, "Closed-form Hessian; the least invariant directions tie."),
        # layer-2 searches climb slowly: map 0's needs about 1,500 steps to converge
        (2, "fd", 5000, "No closed form: finite-difference Hessian (docs/two_layer.md)."),
    ):
        section, results = _section(
            out,
            f"two_layer_color_layer{layer}",
            f"Two-layer colour network (TICA on colour CIFAR-10), layer {layer}",
            note,
            [network.unit(m, 0, 0, layer=layer) for m in range(maps)],
            restarts,
            seed,
            featured,
            progress,
            hessian=hessian,
            max_iter=max_iter,
            directions=10,  # the 10 most and 10 least invariant: what the report shows
        )
        sections.append(section)
        everything += named(results, f"layer {layer}, " if layer == 1 else "")
    return sections, everything


def _section(
    out,
    slug,
    title,
    note,
    units,
    restarts,
    seed,
    featured,
    progress,
    hessian="fd",
    max_iter=1000,
    directions=None,
):
    """Analyze ``units`` and write their report section; returns (Section, results).

    Results are stored in single precision and without their dense Hessians, which
    the report shows nowhere (``tw.analyze(unit, seed=result.seed)`` recomputes one).
    """
    if progress:
        print(f"Analyzing {len(units)} units: {title} ...", flush=True)
    results = analyze(
        units,
        restarts=restarts,
        seed=seed,
        hessian=hessian,
        max_iter=max_iter,
        directions=directions,
        progress=progress,
    )
    section = write_section(
        out, slug, title, results, featured=featured, note=note, hessians=False, precision="float32"
    )
    return section, results


def _stop_if(stop_requested) -> None:
    """Raise KeyboardInterrupt when Ctrl-C was pressed (deferred until a section is whole)."""
    if stop_requested():
        raise KeyboardInterrupt
