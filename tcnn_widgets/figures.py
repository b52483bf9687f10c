"""Publication figures of optimal stimuli and invariances (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure`. Pass ``fig`` (a
``Figure`` or ``SubFigure``) or ``ax`` to draw into your own layout; otherwise a new
figure is made (without pyplot, so nothing global is touched). ``savefig`` to PNG,
SVG and PDF works on all of them.

Images are drawn with the one gray rule shared with the GIFs and the widget
(:func:`tcnn_widgets.pixels.to_gray_bytes`): each frame is turned into gray bytes
first and shown as an RGB image with ``interpolation="nearest"``, so a figure's pixel
is exactly the widget's byte. (Drawing the float frame with ``cmap="gray"`` and
``vmin=-limit, vmax=limit`` would not do: matplotlib's colormap picks level
``floor(256 u)`` for ``u = (v / limit + 1) / 2``, which is one level off the rule's
``round(255 u)`` for about a third of all values.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage

from .pixels import to_gray_bytes
from .results import Invariances
from .selection import caption, choose_directions, geodesic

FONT_SIZE = 9
GAP = 2  # columns of white between the images of one row, in stimulus pixels


def show_frame(ax: Axes, frame: np.ndarray, limit: float) -> AxesImage:
    """Draw one frame on the symmetric gray scale ``[-limit, limit]``, without blur.

    Parameters
    ----------
    ax : Axes
        Where to draw; its ticks and frame are hidden.
    frame : ndarray, shape (h, w)
        Pixel values.
    limit : float
        Half-width of the gray scale: ``-limit`` is black, ``+limit`` white.

    Returns
    -------
    AxesImage
        Its data are the RGB gray bytes ``to_gray_bytes(frame, limit)``.
    """
    return show_row(ax, [to_gray_bytes(frame, limit)], [""])


def show_row(ax: Axes, grays: Sequence[np.ndarray], labels: Sequence[str]) -> AxesImage:
    """Draw gray-byte images side by side in one Axes, each labelled underneath.

    The images are joined into one picture with ``GAP`` columns of white between
    them (image ``k`` starts at column ``k * (w + GAP)``) and drawn with
    ``interpolation="nearest"``. One Axes per row keeps large figures fast.

    Parameters
    ----------
    ax : Axes
        Where to draw.
    grays : sequence of ndarray of uint8, each (h, w)
        The images, e.g. from :func:`tcnn_widgets.pixels.to_gray_bytes`.
    labels : sequence of str
        One label per image, written under it.

    Returns
    -------
    AxesImage
    """
    h, w = np.shape(grays[0])
    picture = np.full((h, len(grays) * (w + GAP) - GAP), 255, dtype=np.uint8)
    for k, gray in enumerate(grays):
        picture[:, k * (w + GAP) : k * (w + GAP) + w] = gray
    image = ax.imshow(_rgb(picture), interpolation="nearest")
    centres = np.arange(len(grays)) * (w + GAP) + (w - 1) / 2
    ax.set_xticks(centres, labels, fontsize=FONT_SIZE - 1)
    ax.set_yticks([])
    ax.tick_params(length=0, pad=2)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return image


def stimulus_grid(
    results: Sequence[Invariances],
    *,
    columns: int | None = None,
    labels: Sequence[str] | None = None,
    fig: Figure | SubFigure | None = None,
) -> Figure:
    """A labelled grid of optimal stimuli, one panel per unit.

    Each stimulus is on its own symmetric gray scale ``[-max|x*|, max|x*|]``.

    Parameters
    ----------
    results : sequence of Invariances
        The units to show, in order.
    columns : int, optional
        Panels per row (default: about the square root of the count, at most 8).
    labels : sequence of str, optional
        One label per unit (default: each result's ``name`` and its activation g*).
    fig : Figure or SubFigure, optional
        Where to draw.

    Returns
    -------
    Figure
    """
    results = list(results)
    if not results or not all(isinstance(r, Invariances) for r in results):
        raise TypeError("results must be a non-empty sequence of Invariances")
    if labels is None:
        labels = [
            f"{short_name(r.name) or f'unit {i}'}\ng* = {r.activation:.3g}"
            for i, r in enumerate(results)
        ]
    if len(labels) != len(results):
        raise ValueError(f"got {len(labels)} labels for {len(results)} results")
    if columns is None:
        columns = min(8, math.ceil(math.sqrt(len(results))))
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be an int >= 1, got {columns!r}")
    rows = math.ceil(len(results) / columns)
    fig = fig if fig is not None else _new_figure(1.2 * columns, 1.5 * rows)
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    grays = [
        to_gray_bytes(r.stimulus, max(float(np.max(np.abs(r.stimulus))), 1e-300)) for r in results
    ]
    blank = np.full_like(grays[0], 255)
    for row, ax in enumerate(axes):
        part = slice(row * columns, (row + 1) * columns)
        padding = columns - len(grays[part])
        show_row(ax, grays[part] + [blank] * padding, list(labels[part]) + [""] * padding)
    return _root(fig)


def invariance_strips(
    inv: Invariances,
    *,
    top: int = 3,
    frames: int = 7,
    fig: Figure | SubFigure | None = None,
) -> Figure:
    """Frames along the ``top`` most and ``top`` least invariant directions.

    One row per direction; each row is the direction's invariance video sampled at
    ``frames`` evenly spaced angles across its video range, on the video's fixed gray
    scale, with the real activation under each frame. The directions are those of
    :func:`tcnn_widgets.selection.choose_directions`: where an end of the spectrum is
    tied, the tie (which has no single image) is passed over and its size is written
    in the caption; a direction whose curvature is shared by others is labelled with
    its group size.

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    top : int
        Directions from each end of the spectrum (capped so no row repeats).
    frames : int
        Frames per row, at least 2.
    fig : Figure or SubFigure, optional
        Where to draw.

    Returns
    -------
    Figure
        Row ``i`` is ``fig.axes[i]``: first the most invariant directions, then the
        least invariant ones; frame ``k`` of a row starts at image column
        ``k * (w + GAP)``.
    """
    rows = choose_directions(inv, top)
    fig = fig if fig is not None else _new_figure(0.95 * frames + 1.5, 1.15 * len(rows) + 0.4)
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, row in zip(axes, rows, strict=True):
        path = geodesic(inv, row.rank, order=row.order, count=frames)
        show_row(ax, list(path.gray), [f"g = {g:.3g}" for g in path.activations])
        name = caption(inv, row, sep="\n")
        ax.set_ylabel(name, fontsize=FONT_SIZE - 1, rotation=0, ha="right", va="center")
    fig.suptitle(
        f"{inv.name or 'unit'}: frames along the geodesics (g* = {inv.activation:.3g})",
        fontsize=FONT_SIZE + 1,
    )
    return _root(fig)


def curvature_spectrum(inv: Invariances, *, ax: Axes | None = None) -> Figure:
    """The curvatures nu of all tangent directions, most invariant first.

    Degenerate groups (equal curvatures) are drawn as one bar across their ranks,
    labelled with their size, so that no single vector of a group looks unique.

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    ax : Axes, optional
        Where to draw.

    Returns
    -------
    Figure
    """
    ax = ax if ax is not None else _new_figure(5.0, 3.2).subplots()
    ranks = np.arange(inv.n_directions)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.plot(ranks, inv.curvatures, ".", color="C0", markersize=4, label="single direction")
    labelled = False
    for group in np.unique(inv.groups):
        members = np.flatnonzero(inv.groups == group)
        if len(members) < 2:
            continue
        level = float(np.mean(inv.curvatures[members]))
        ax.plot(
            [members[0] - 0.4, members[-1] + 0.4],
            [level, level],
            color="C1",
            linewidth=3,
            solid_capstyle="butt",
            label=None if labelled else "degenerate group",
        )
        ax.annotate(
            f"×{len(members)}",
            (members.mean(), level),
            textcoords="offset points",
            xytext=(0, 5),
            ha="center",
            fontsize=FONT_SIZE - 1,
            color="C1",
        )
        labelled = True
    ax.set_xlabel("rank (0 = most invariant)", fontsize=FONT_SIZE)
    ax.set_ylabel("curvature ν", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    title = f"{inv.name or 'unit'}: curvature spectrum"
    if not inv.is_maximum:
        title += "\n(some ν > 0: not a local maximum)"
    ax.set_title(title, fontsize=FONT_SIZE + 1)
    ax.legend(fontsize=FONT_SIZE - 1, loc="best")
    return _root(ax)


def activation_curve(
    inv: Invariances, rank: int = 0, *, order: str = "most", ax: Axes | None = None
) -> Figure:
    """The activation along a direction's geodesic beside its second-order approximation.

    Derivation of the approximation: along ``x(t) = cos(t) x* + sin(t) rho w`` we have
    ``x'(t) = -sin(t) x* + cos(t) rho w`` and ``x''(t) = -x(t)``, so
    ``d2/dt2 g(x(t)) = x'^T H x' + grad g . x''``. At ``t = 0``, ``x'(0) = rho w`` and
    ``x''(0) = -x*``, hence ``d2g/dt2(0) = rho^2 w^T H w - x*^T grad g(x*)
    = rho^2 (w^T H w - mu) = rho^2 nu`` (METHOD section 6: ``mu = x*^T grad g / rho^2``).
    The first derivative ``grad g . rho w = mu rho x*^T w`` vanishes at the optimum, so

        g(x(t)) ~ g* + (1/2) rho^2 nu t^2

    (nu is the curvature per unit arc length ``s = rho t``).

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    rank : int
        0 is the most (``order="most"``) or least (``order="least"``) invariant direction.
    order : {"most", "least"}
        Which end of the spectrum ``rank`` counts from.
    ax : Axes, optional
        Where to draw.

    Returns
    -------
    Figure
    """
    index = inv.index(rank, order)
    ax = ax if ax is not None else _new_figure(5.0, 3.2).subplots()
    t = inv.geodesic_angles
    nu = float(inv.curvatures[index])
    approximation = inv.activation + 0.5 * inv.radius**2 * nu * t**2
    a, b = inv.video_ranges[index]
    ax.axvspan(np.degrees(a), np.degrees(b), color="0.92", label="video range")
    ax.axhline(
        inv.video_level,
        color="0.5",
        linestyle=":",
        linewidth=1,
        label=f"{inv.threshold:g} g*",
    )
    ax.plot(np.degrees(t), inv.geodesic_activations[index], color="C0", label="real g(x(t))")
    ax.plot(
        np.degrees(t),
        approximation,
        color="C3",
        linestyle="--",
        label="g* + ½ ρ² ν t²",
    )
    real = inv.geodesic_activations[index]
    spread = max(float(real.max() - real.min()), 1e-12 + 0.05 * abs(inv.activation))
    ax.set_ylim(real.min() - 0.15 * spread, real.max() + 0.15 * spread)
    ax.set_xlabel("angle t along the geodesic (degrees)", fontsize=FONT_SIZE)
    ax.set_ylabel("activation", fontsize=FONT_SIZE)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    ax.set_title(
        f"{inv.name or 'unit'}: {order} invariant #{rank + 1}, {inv.labels[index]} (ν = {nu:.3g})",
        fontsize=FONT_SIZE + 1,
    )
    ax.legend(fontsize=FONT_SIZE - 1, loc="best")
    return _root(ax)


def _rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=-1)


def short_name(name: str) -> str:
    """``"map 3, row 0, col 1"`` -> ``"m3 r0 c1"``: fits under a 10-pixel stimulus."""
    return name.replace("map ", "m").replace("row ", "r").replace("col ", "c").replace(",", "")


def _new_figure(width: float, height: float) -> Figure:
    """A new figure (not registered with pyplot) with a constrained layout."""
    return Figure(figsize=(width, height), dpi=150, layout="constrained")


def _root(artist: Axes | Figure | SubFigure) -> Figure:
    """The top-level Figure an Axes or (Sub)Figure belongs to."""
    fig = artist if isinstance(artist, (Figure, SubFigure)) else artist.figure
    while isinstance(fig, SubFigure):
        fig = fig.figure
    return fig
