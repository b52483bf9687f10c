"""Report folders: results, figures, GIFs and an ``index.html`` that ties them together.

:func:`write_section` writes what one network's analysis gives (results ``.npz``,
the grid of optimal stimuli, and for a few featured units their invariance strips,
curvature spectrum, activation curves and GIFs); :func:`write_index` writes the
page; :func:`run_demo` does the ``tcnn-widgets demo`` job from start to end.
Every file is written atomically, and ``index.html`` last, so a report with an
index is complete. The pages load nothing from the network.
"""

from __future__ import annotations

import dataclasses
import html
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from . import figures, selection
from ._storage import write_bytes_atomic
from .results import Invariances, save_results
from .video import write_gif

FIGURE_FORMATS = ("png", "svg", "pdf")


@dataclass
class UnitFiles:
    """The files written for one featured unit (paths relative to the report folder)."""

    name: str
    activation: float
    strips: str
    spectrum: str
    curves: list[str]
    gifs: list[tuple[str, str]]  # (caption, path)


@dataclass
class Section:
    """What one network's part of a report holds (paths relative to the report folder)."""

    title: str
    slug: str
    results_file: str
    grid: str
    units: list[UnitFiles] = field(default_factory=list)
    note: str = ""


def write_section(
    out: str | os.PathLike,
    slug: str,
    title: str,
    results: Sequence[Invariances],
    *,
    featured: int = 2,
    fmt: str = "png",
    note: str = "",
) -> Section:
    """Write one network's results and figures into ``out/slug/``.

    Parameters
    ----------
    out : path-like
        The report folder (created if missing).
    slug : str
        Name of the sub-folder, e.g. ``"pretrained"``.
    title : str
        Heading of the section in the page.
    results : sequence of Invariances
        All analyzed units of the network.
    featured : int
        How many units (those with the largest activation g*) get strips, spectrum,
        activation curves and GIFs of their most and least invariant directions.
    fmt : {"png", "svg", "pdf"}
        Format of the figures.
    note : str
        A sentence shown under the heading.

    Returns
    -------
    Section
    """
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format must be one of {FIGURE_FORMATS}, got {fmt!r}")
    results = list(results)
    if not results:
        raise ValueError("results is empty: analyze at least one unit")
    folder = Path(out) / slug
    folder.mkdir(parents=True, exist_ok=True)
    save_results(folder / "results.npz", results)
    _save(figures.stimulus_grid(results), folder / f"stimuli.{fmt}")
    section = Section(
        title=title,
        slug=slug,
        results_file=f"{slug}/results.npz",
        grid=f"{slug}/stimuli.{fmt}",
        note=note,
    )
    best_first = np.argsort([-r.activation for r in results], kind="stable")
    for i in best_first[:featured]:
        section.units.append(_write_unit(folder, slug, _stem(results[i], i), results[i], fmt))
    return section


def _stem(inv: Invariances, index: int) -> str:
    """A unique file-name stem for unit ``index``: ``"map 3, row 0, col 1"`` -> ``"u05_m3_r0_c1"``."""
    short = re.sub(r"[^A-Za-z0-9]+", "_", figures.short_name(inv.name)).strip("_")
    return "_".join(filter(None, [f"u{index:02d}", short]))


def _write_unit(folder: Path, slug: str, stem: str, inv: Invariances, fmt: str) -> UnitFiles:
    """Figures and GIFs of one featured unit."""
    files = UnitFiles(
        name=inv.name or stem,
        activation=inv.activation,
        strips=f"{slug}/{stem}_strips.{fmt}",
        spectrum=f"{slug}/{stem}_spectrum.{fmt}",
        curves=[],
        gifs=[],
    )
    _save(figures.invariance_strips(inv), folder / f"{stem}_strips.{fmt}")
    _save(figures.curvature_spectrum(inv), folder / f"{stem}_spectrum.{fmt}")
    for row in selection.choose_directions(inv, 1):
        order = row.order
        curve = f"{stem}_{order}_curve.{fmt}"
        _save(figures.activation_curve(inv, row.rank, order=order), folder / curve)
        files.curves.append(f"{slug}/{curve}")
        gif = f"{stem}_{order}_invariant.gif"
        write_gif(
            inv,
            row.rank,
            folder / gif,
            order=order,
            scale=max(4, 160 // max(inv.shape)),
            with_stimulus=True,
            with_trace=True,
            bounce=True,
        )
        text = selection.caption(inv, row)
        files.gifs.append((text, f"{slug}/{gif}"))
    return files


def _save(fig: Figure, path: Path) -> None:
    """Save a figure atomically (temporary file beside it, then rename)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix[1:])
    write_bytes_atomic(path, buffer.getvalue())


def write_index(
    out: str | os.PathLike,
    title: str,
    sections: Sequence[Section],
    *,
    intro: str = "",
    widget_page: str | None = None,
) -> Path:
    """Write ``out/index.html``, linking every section's files (all local).

    Parameters
    ----------
    out : path-like
        The report folder.
    title : str
        Page title.
    sections : sequence of Section
        From :func:`write_section`.
    intro : str
        A paragraph under the title (plain text).
    widget_page : str, optional
        Relative path of the standalone widget page, linked at the top.

    Returns
    -------
    Path
        The index file.
    """
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font:15px/1.45 sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "img{max-width:100%}img.gif{image-rendering:pixelated}"
        ".row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}figure.gif{max-width:700px}"
        "figure{margin:0}figcaption{font-size:13px;color:#444}</style>",
        f"</head><body><h1>{e(title)}</h1>",
    ]
    if intro:
        parts.append(f"<p>{e(intro)}</p>")
    if widget_page:
        parts.append(
            f'<p><a href="{e(widget_page)}"><b>Open the interactive invariance explorer</b></a>'
            " (works offline).</p>"
        )
    for section in sections:
        parts.append(f'<h2 id="{e(section.slug)}">{e(section.title)}</h2>')
        if section.note:
            parts.append(f"<p>{e(section.note)}</p>")
        parts.append(
            f'<p>All results: <a href="{e(section.results_file)}">{e(section.results_file)}</a>'
            " (load with <code>tcnn_widgets.load_results</code>).</p>"
        )
        parts.append(
            f'<figure><img src="{e(section.grid)}" alt="optimal stimuli">'
            "<figcaption>Optimal stimuli of all analyzed units.</figcaption></figure>"
        )
        for unit in section.units:
            parts.append(f"<h3>{e(unit.name)} (g* = {unit.activation:.4g})</h3>")
            parts.append('<div class="row">')
            for caption, gif in unit.gifs:
                parts.append(
                    f'<figure class="gif"><img class="gif" src="{e(gif)}" alt="{e(caption)}">'
                    f"<figcaption>{e(caption)}: optimal stimulus, the moving stimulus, "
                    "and the activation along the path.</figcaption></figure>"
                )
            parts.append("</div>")
            parts.append(f'<figure><img src="{e(unit.strips)}" alt="invariance strips"></figure>')
            parts.append('<div class="row">')
            for image in [unit.spectrum, *unit.curves]:
                parts.append(
                    f'<figure style="flex:1 1 300px"><img src="{e(image)}" alt=""></figure>'
                )
            parts.append("</div>")
    parts.append("</body></html>\n")
    return write_bytes_atomic(Path(out) / "index.html", "\n".join(parts))


def named(results: Sequence[Invariances], prefix: str) -> list[Invariances]:
    """Copies of the results whose names start with ``prefix`` (to tell networks apart)."""
    return [dataclasses.replace(r, name=f"{prefix}{r.name}") for r in results]


def select_units(count: int, units: Sequence[int] | None) -> list[int]:
    """Check unit-type indices against ``count`` (all of them when ``units`` is None)."""
    if units is None:
        return list(range(count))
    chosen = []
    for unit in units:
        if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)):
            raise TypeError(f"unit indices must be ints, got {unit!r}")
        if not 0 <= unit < count:
            raise ValueError(f"unit index {unit} is outside 0..{count - 1}")
        if unit not in chosen:
            chosen.append(int(unit))
    if not chosen:
        raise ValueError("no units chosen: give at least one unit index")
    return chosen
