"""Report folders: results, figures, GIFs and an ``index.html`` that ties them together.

:func:`write_section` writes what one network's analysis gives (results ``.npz``,
the grid of optimal stimuli, and for a few featured units their invariance strips,
curvature spectrum, activation curves and GIFs); :func:`write_index` writes the
page (:func:`tcnn_widgets.demo.run_demo` does the ``tcnn-widgets demo`` job).
Every file is written atomically, and ``index.html`` last, so a report with an
index is complete. The pages load nothing from the network.

What a featured unit shows follows :func:`tcnn_widgets.figures.shown_directions`: its
most invariant direction, and the least invariant direction that is a single image
(outside a tie at that end, which the page then describes in plain words). Figures are
shown at 100 CSS pixels per inch of figure, one PNG pixel per CSS pixel. The videos
(``UnitFiles.gifs``) are animated PNGs (:func:`tcnn_widgets.video.apng_bytes`): the
GIF's frames and timing with exact colours, in about a third of its bytes
(``tw.write_gif(result, "x.gif")`` still writes a GIF of any unit).
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
from PIL import Image

from . import figures
from ._storage import write_bytes_atomic
from .results import Invariances, save_results
from .video import write_gif

FIGURE_FORMATS = ("png", "svg", "pdf")
FIGURE_DPI = 100  # PNG pixels per inch; pages show figures at 100 CSS px per inch, 1:1
GIF_FRAMES = 16  # frames of a report video, played forward then back (30 in all)
GIF_SIZE = 100  # the longer side of a stimulus in a report video, in pixels (nearest neighbour)
VIDEO_FORMAT = "png"  # report videos as animated PNGs: exact colours, ~1/3 of a GIF's bytes


@dataclass
class Picture:
    """A figure or GIF of the report: its path (relative to the report folder), caption, width.

    ``width`` is the width in CSS pixels it is shown at (a figure at its size in inches
    times 100, so its 9-point text reads at about 12 px), or None to let the browser decide.
    """

    path: str
    caption: str = ""
    width: int | None = None


@dataclass
class UnitFiles:
    """The files written for one featured unit (paths relative to the report folder)."""

    name: str
    activation: float
    strips: Picture
    spectrum: Picture
    curves: list[Picture]
    gifs: list[Picture]
    note: str = ""  # what the least invariant end is, in plain words, when it is tied


@dataclass
class Section:
    """What one network's part of a report holds (paths relative to the report folder)."""

    title: str
    slug: str
    results_file: str
    grid: Picture
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
    hessians: bool = True,
    precision: str = "float64",
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
    hessians : bool
        Keep each result's dense Hessian in ``results.npz``. Without them the file is
        far smaller (the Hessian is n x n per unit and is shown nowhere in the report;
        ``tw.analyze(unit, seed=result.seed)`` computes it again exactly).
    precision : {"float64", "float32"}
        Of the stored display arrays (see :func:`tcnn_widgets.results.save_results`);
        ``"float32"`` about halves the file, and loads exactly what was stored.

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
    stored = results if hessians else [dataclasses.replace(r, hessian=None) for r in results]
    save_results(folder / "results.npz", stored, precision=precision)
    grid = _save(figures.stimulus_grid(results), folder / f"stimuli.{fmt}")
    section = Section(
        title=title,
        slug=slug,
        results_file=f"{slug}/results.npz",
        grid=Picture(f"{slug}/stimuli.{fmt}", "Optimal stimuli of all analyzed units.", grid),
        note=note,
    )
    best_first = np.argsort([-r.activation for r in results], kind="stable")
    for i in best_first[:featured]:
        section.units.append(_write_unit(folder, slug, _stem(results[i], i), results[i], fmt))
    return section


def _stem(result: Invariances, index: int) -> str:
    """A unique file-name stem for unit ``index``: ``"map 3, row 0, col 1"`` -> ``"u05_m3_r0_c1"``."""
    short = re.sub(r"[^A-Za-z0-9]+", "_", figures.short_name(result.name)).strip("_")
    return "_".join(filter(None, [f"u{index:02d}", short]))


def _write_unit(folder: Path, slug: str, stem: str, result: Invariances, fmt: str) -> UnitFiles:
    """Figures and GIFs of one featured unit: its most invariant direction, and the least
    invariant one that is a single image (outside a tie; see :func:`figures.shown_directions`)."""
    files = UnitFiles(
        name=result.name or stem,
        activation=result.activation,
        strips=Picture(
            f"{slug}/{stem}_strips.{fmt}",
            "Frames along the geodesics, on each video's fixed scale.",
            _save(figures.invariance_strips(result), folder / f"{stem}_strips.{fmt}"),
        ),
        spectrum=Picture(
            f"{slug}/{stem}_spectrum.{fmt}",
            "Curvature spectrum; a tie is drawn as one band.",
            _save(figures.curvature_spectrum(result), folder / f"{stem}_spectrum.{fmt}"),
        ),
        curves=[],
        gifs=[],
        note=figures.tie_note(result),
    )
    for shown in figures.shown_directions(result, 1):
        order = shown.order
        curve = f"{stem}_{order}_curve.{fmt}"
        width = _save(figures.activation_curve(result, shown.rank, order=order), folder / curve)
        files.curves.append(Picture(f"{slug}/{curve}", "", width))
        gif = f"{stem}_{order}_invariant.{VIDEO_FORMAT}"
        caption = f"{shown.caption}, ν = {result.curvatures[shown.index]:.3g}"
        write_gif(
            result,
            shown.rank,
            folder / gif,
            order=order,
            count=GIF_FRAMES,
            scale=max(1, GIF_SIZE // max(result.shape[-2:])),
            with_stimulus=True,
            with_difference=True,
            with_trace=True,
            caption=caption,
        )
        files.gifs.append(
            Picture(
                f"{slug}/{gif}",
                f"{caption}: x*, the moving stimulus x(t), the change x(t) - x* on its own "
                "scale, and the activation along the path (angle in degrees).",
            )
        )
    return files


def _save(fig: Figure, path: Path) -> int | None:
    """Save a figure atomically; return the CSS width to show a PNG at (its size in inches x 100).

    At ``FIGURE_DPI`` = 100 that is one PNG pixel per CSS pixel, and 9-point text is 12.5 px.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix[1:], dpi=FIGURE_DPI)
    data = compact_png(buffer.getvalue()) if path.suffix == ".png" else buffer.getvalue()
    write_bytes_atomic(path, data)
    return round(fig.get_figwidth() * 100) if path.suffix == ".png" else None


def compact_png(data: bytes) -> bytes:
    """The same picture as a smaller PNG: pixel for pixel equal, so nothing shown changes.

    Matplotlib writes RGBA; a picture that is fully opaque loses the alpha channel, and
    one of at most 256 colours becomes a palette PNG (one byte a pixel instead of four).
    About 25 % smaller for the report's figures, 55 % for its grids and strips of gray
    stimuli. (Pillow's ``optimize`` would save 3-5 % more at ten times the time.)

    Parameters
    ----------
    data : bytes
        A PNG file.

    Returns
    -------
    bytes
        The smaller of the new PNG and ``data``.
    """
    image = Image.open(io.BytesIO(data))
    image.load()
    pixels = np.asarray(image.convert("RGBA"))
    if (pixels[..., 3] == 255).all():
        pixels = pixels[..., :3]
    smaller = Image.fromarray(np.ascontiguousarray(pixels))
    counted = smaller.getcolors(256) if pixels.shape[-1] == 3 else None  # None: > 256
    if counted is not None:
        palette = np.array(sorted(colour for _, colour in counted), dtype=np.uint32)
        colours = palette[:, 0] << 16 | palette[:, 1] << 8 | palette[:, 2]  # sorted keys
        wide = pixels.astype(np.uint32)
        indices = np.searchsorted(colours, wide[..., 0] << 16 | wide[..., 1] << 8 | wide[..., 2])
        smaller = Image.fromarray(indices.astype(np.uint8), mode="P")
        smaller.putpalette(palette.astype(np.uint8).ravel().tolist())
    buffer = io.BytesIO()
    options = {"dpi": image.info["dpi"]} if "dpi" in image.info else {}
    smaller.save(buffer, format="PNG", **options)
    return min(buffer.getvalue(), data, key=len)


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
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        "<style>body{font:16px/1.5 sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
        "img{max-width:100%;height:auto}img.gif{image-rendering:pixelated}"
        ".row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}"
        "figure{margin:0 0 1em 0}figcaption{font-size:14px;color:#444;max-width:60em}"
        "p.note{background:#fff6e0;padding:.5em .8em;border-left:4px solid #e0a000}</style>",
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
        parts.append(_figure(section.grid, "optimal stimuli"))
        for unit in section.units:
            parts.append(f"<h3>{e(unit.name)} (g* = {unit.activation:.4g})</h3>")
            if unit.note:
                parts.append(f'<p class="note">{e(unit.note)}</p>')
            parts.append('<div class="row">')
            parts += [_figure(gif, gif.caption, "gif") for gif in unit.gifs]
            parts.append("</div>")
            parts.append(_figure(unit.strips, "invariance strips"))
            parts.append('<div class="row">')
            parts += [_figure(p, "") for p in [unit.spectrum, *unit.curves]]
            parts.append("</div>")
    parts.append("</body></html>\n")
    return write_bytes_atomic(Path(out) / "index.html", "\n".join(parts))


def _figure(picture: Picture, alt: str, kind: str = "") -> str:
    """A ``<figure>`` with the picture at its width and its caption (all escaped)."""
    e = html.escape
    attributes = f'src="{e(picture.path)}" alt="{e(alt)}"'
    if kind:
        attributes += f' class="{e(kind)}"'
    style = ""
    if picture.width:
        attributes += f' width="{picture.width}"'
        style = f' style="max-width:{picture.width}px"'
    caption = f"<figcaption>{e(picture.caption)}</figcaption>" if picture.caption else ""
    return f"<figure{style}><img {attributes}>{caption}</figure>"


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
