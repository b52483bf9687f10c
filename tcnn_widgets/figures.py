"""Publication figures of optimal stimuli and invariances (matplotlib).

Every function returns a :class:`matplotlib.figure.Figure`. Pass ``fig`` (a
``Figure`` or ``SubFigure``) or ``ax`` to draw into your own layout; otherwise a new
figure is made (without pyplot, so nothing global is touched). ``savefig`` to PNG,
SVG and PDF works on all of them.

Images are drawn with the one display rule shared with the GIFs and the widget
(``docs/method.md`` §11: gray for ``(h, w)``, RGB with one limit for ``(3, h, w)``,
channel by channel otherwise; :func:`tcnn_widgets.pixels.to_gray_bytes` per channel):
each frame is turned into bytes first and shown as an RGB image with
``interpolation="nearest"`` (nearest-neighbour enlargement, no blur), so a figure's
pixel is exactly the widget's byte. Angles are labelled in degrees. Which directions
are shown, and how a tie at the least invariant end is said, is
:func:`shown_directions`' job. (Drawing the float frame with ``cmap="gray"`` and
``vmin=-limit, vmax=limit`` would not do: matplotlib's colormap picks level
``floor(256 u)`` for ``u = (v / limit + 1) / 2``, which is one level off the rule's
``round(255 u)`` for about a third of all values.)
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage

from . import _validate
from ._pictures import WHITE, abs_limit, as_rgb, join
from .pixels import to_display_bytes
from .results import Invariances
from .selection import geodesic

FONT_SIZE = 10
GAP = 2  # columns of white between the images of one row, in stimulus pixels


@dataclass(frozen=True)
class ShownDirection:
    """A direction chosen for display, and what its caption must say.

    Attributes
    ----------
    index : int
        Index into the result's arrays (most invariant first).
    rank : int
        Its rank among the kept directions counted from its end (0 = first), as
        ``inv.index(rank, order)``, :func:`tcnn_widgets.selection.geodesic` and
        :func:`tcnn_widgets.video.write_gif` take it.
    order : {"most", "least"}
        The end it is counted from.
    spectrum_rank : int
        Its rank counted from its end in the whole spectrum of n - 1 directions (the
        number its caption shows; differs from ``rank`` only for 2k kept directions).
    group_size : int
        How many kept directions share its curvature (1: a distinct direction).
    tie_skipped : int
        At the least invariant end: the size of the tie passed over to reach this
        direction (0 when none was); the tie has no single image.
    tie_open : bool
        The skipped tie may extend beyond the kept directions (``ends_tied``), so its
        size is a lower bound.
    """

    index: int
    rank: int
    order: str
    spectrum_rank: int
    group_size: int
    tie_skipped: int = 0
    tie_open: bool = False

    @property
    def caption(self) -> str:
        """E.g. ``"least invariant #92 (first outside the tie of 91)"``."""
        text = f"{self.order} invariant #{self.spectrum_rank + 1}"
        if self.tie_skipped:
            bound = "≥" if self.tie_open else ""
            text += f" (first outside the tie of {bound}{self.tie_skipped})"
        elif self.group_size > 1:
            text += f" (1 of {self.group_size} equal)"
        return text


def shown_directions(inv: Invariances, top: int) -> list[ShownDirection]:
    """The directions figures, strips and the report show: ``top`` from each end, honestly.

    The ``top`` most invariant directions, then the ``top`` least invariant ones. When
    the least invariant end is a tie (a degenerate group of equal curvature, or
    ``inv.ends_tied[1]``), no member of it is "the" least invariant direction: the
    tie has no single image (``docs/method.md`` §6, §10). The least invariant rows
    then start at the most informative distinct direction outside the tie, the least
    invariant one not in it, and say so in their caption. No direction appears twice.

    Parameters
    ----------
    inv : Invariances
        The analysis result (complete, or 2k kept directions).
    top : int
        Directions from each end, at least 1.

    Returns
    -------
    list of ShownDirection
        Most invariant first, then least invariant first; the least end may hold
        fewer than ``top`` (none when every kept direction is in the tie).

    Example
    -------
    >>> [d.caption for d in shown_directions(result, 1)]  # doctest: +SKIP
    ['most invariant #1 (1 of 2 equal)', 'least invariant #92 (first outside the tie of 91)']
    """
    top = _validate.integer(top, "top", minimum=1)
    m = inv.n_directions
    sizes = {
        int(g): int(c) for g, c in zip(*np.unique(inv.groups, return_counts=True), strict=True)
    }
    tie = inv.group_members(m - 1)
    tie_open = bool(np.asarray(inv.ends_tied)[1])
    skipped = set(tie.tolist()) if len(tie) > 1 or tie_open else set()
    most = list(range(min(top, m)))
    least = [i for i in range(m - 1, -1, -1) if i not in skipped and i not in most][:top]
    ranks = spectrum_ranks(inv)  # rank in the whole spectrum, also for 2k kept directions
    total = int(ranks[-1]) + 1
    shown = [ShownDirection(i, i, "most", int(ranks[i]), sizes[int(inv.groups[i])]) for i in most]
    shown += [
        ShownDirection(
            i,
            m - 1 - i,
            "least",
            total - 1 - int(ranks[i]),
            sizes[int(inv.groups[i])],
            len(skipped),
            tie_open and bool(skipped),
        )
        for i in least
    ]
    return shown


def tie_note(inv: Invariances) -> str:
    """A plain sentence on the least invariant tie, or ``""`` when that end is not tied."""
    m = inv.n_directions
    tie = inv.group_members(m - 1)
    tie_open = bool(np.asarray(inv.ends_tied)[1])
    if len(tie) < 2 and not tie_open:
        return ""
    size = f"At least {len(tie)}" if tie_open else f"The {len(tie)}"
    return (
        f"{size} least invariant directions tie (equal curvature ν = "
        f"{inv.curvatures[m - 1]:.3g}): only their span is meaningful, so the tie has no "
        "single image. The least invariant directions shown are those outside the tie."
    )


def end_note(inv: Invariances) -> str:
    """Which directions a result holds: all of them, or only the two ends of the spectrum."""
    n = int(np.prod(inv.shape))
    if inv.complete:
        return f"all {inv.n_directions} directions"
    k = inv.n_directions // 2
    return f"the {k} most and {k} least invariant of {n - 1} directions (matrix-free)"


def show_frame(ax: Axes, frame: np.ndarray, limit: float) -> AxesImage:
    """Draw one stimulus on the symmetric scale ``[-limit, limit]``, without blur.

    Parameters
    ----------
    ax : Axes
        Where to draw; its ticks and frame are hidden.
    frame : ndarray, shape (h, w) or (c, h, w)
        Pixel values: gray, RGB for c = 3, channel by channel otherwise
        (``docs/method.md`` §11).
    limit : float
        Half-width of the scale: ``-limit`` is black, ``+limit`` white (per channel).

    Returns
    -------
    AxesImage
        Its data are the RGB bytes of the display rule.
    """
    return show_row(ax, [to_display_bytes(frame, limit)], [""])


def show_stimulus(ax: Axes, stimulus: np.ndarray) -> AxesImage:
    """Draw a stimulus on its own symmetric scale ``[-max|x|, max|x|]``."""
    return show_frame(ax, stimulus, abs_limit(stimulus))


def show_row(ax: Axes, pictures: Sequence[np.ndarray], labels: Sequence[str]) -> AxesImage:
    """Draw pictures side by side in one Axes, each labelled underneath.

    The pictures are joined into one with ``GAP`` columns of white between them
    (picture ``k`` starts at column ``k * (w + GAP)``) and drawn with
    ``interpolation="nearest"``: enlarged by nearest neighbour, no blur. One Axes per
    row keeps large figures fast.

    Parameters
    ----------
    ax : Axes
        Where to draw.
    pictures : sequence of ndarray of uint8, each (h, w) gray or (h, w, 3) RGB
        The pictures, e.g. from the display rule (:func:`show_frame`).
    labels : sequence of str
        One label per picture, written under it.

    Returns
    -------
    AxesImage
    """
    w = pictures[0].shape[1]
    image = ax.imshow(as_rgb(join(list(pictures), GAP)), interpolation="nearest")
    centres = np.arange(len(pictures)) * (w + GAP) + (w - 1) / 2
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
    columns = _validate.integer(columns, "columns", minimum=1)
    rows = math.ceil(len(results) / columns)
    pictures = [to_display_bytes(r.stimulus, abs_limit(r.stimulus)) for r in results]
    if len({p.shape for p in pictures}) > 1:
        raise ValueError("stimulus_grid needs results of one stimulus shape")
    size = _panel_inches(pictures[0])
    fig = fig if fig is not None else _new_figure(1.2 * size * columns, (size + 0.5) * rows)
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    blank = np.full_like(pictures[0], WHITE)
    for row, ax in enumerate(axes):
        part = slice(row * columns, (row + 1) * columns)
        padding = columns - len(pictures[part])
        show_row(ax, pictures[part] + [blank] * padding, list(labels[part]) + [""] * padding)
    return _root(fig)


def invariance_strips(
    inv: Invariances,
    *,
    top: int = 3,
    frames: int = 7,
    fig: Figure | SubFigure | None = None,
) -> Figure:
    """Frames along the ``top`` most and ``top`` least invariant directions.

    One row per direction (chosen by :func:`shown_directions`); each row is the
    direction's invariance video sampled at ``frames`` evenly spaced angles across its
    video range, on the video's fixed scale, with the angle (degrees) and the real
    activation under each frame. A direction whose curvature is shared by others is
    labelled with its group size: only the group's span is meaningful. When the least
    invariant end is a tie, its rows start outside the tie and the title says so.

    Parameters
    ----------
    inv : Invariances
        The analysis result (complete, or the 2k directions of a matrix-free one).
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
        ``k * (w + GAP)``, w the width of one frame's picture.

    Example
    -------
    >>> figures.invariance_strips(result, top=2).savefig("strips.png")  # doctest: +SKIP
    """
    rows = shown_directions(inv, top)
    frames = _validate.integer(frames, "frames", minimum=2)
    size = _panel_inches(to_display_bytes(inv.stimulus, 1.0))
    fig = (
        fig if fig is not None else _new_figure(size * frames + 2.2, (size + 0.3) * len(rows) + 0.8)
    )
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, row in zip(axes, rows, strict=True):
        path = geodesic(inv, row.index, count=frames)
        pictures = [to_display_bytes(frame, path.limit) for frame in path.frames]
        labels = [
            f"{_degrees(t):+d}°\ng = {g:.3g}"
            for t, g in zip(path.angles, path.activations, strict=True)
        ]
        show_row(ax, pictures, labels)
        text = (
            row.caption.replace(" (", "\n(")
            + f"\n{_label(inv, row.index)} ν = {path.curvature:.3g}"
        )
        ax.set_ylabel(text.strip(), fontsize=FONT_SIZE - 1, rotation=0, ha="right", va="center")
    title = f"{inv.name or 'unit'}: frames along the geodesics (g* = {inv.activation:.3g}; "
    title += f"{end_note(inv)})"
    note = tie_note(inv)
    if note:
        title += "\n" + note
    fig.suptitle(_wrap(title, 12 * frames + 20), fontsize=FONT_SIZE)
    return _root(fig)


def curvature_spectrum(inv: Invariances, *, ax: Axes | None = None) -> Figure:
    """The curvatures nu of the kept tangent directions, most invariant first.

    Degenerate groups (equal curvatures) are drawn as one band across their ranks,
    labelled with their size, so that no single vector of a group looks unique. For a
    matrix-free result (2k directions kept of n - 1) the k least invariant ones are
    drawn at their true ranks n - 1 - k .. n - 2, and the ranks between, not computed,
    are shaded; a tied end that may continue beyond the kept directions is marked.

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
    ax = ax if ax is not None else _new_figure(5.5, 3.4).subplots()
    ranks = spectrum_ranks(inv)
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    if not inv.complete:
        k = inv.n_directions // 2
        ax.axvspan(ranks[k - 1] + 0.5, ranks[k] - 0.5, color="0.93", label="not computed")
    ax.plot(ranks, inv.curvatures, ".", color="C0", markersize=4, label="single direction")
    labelled = False
    for group in np.unique(inv.groups):
        members = np.flatnonzero(inv.groups == group)
        if len(members) < 2:
            continue
        level = float(np.mean(inv.curvatures[members]))
        open_end = (members[0] == 0 and inv.ends_tied[0]) or (
            members[-1] == inv.n_directions - 1 and inv.ends_tied[1]
        )
        ax.plot(
            [ranks[members[0]] - 0.4, ranks[members[-1]] + 0.4],
            [level, level],
            color="C1",
            linewidth=3,
            solid_capstyle="butt",
            label=None if labelled else "tie (degenerate group)",
        )
        ax.annotate(
            f"{'≥' if open_end else ''}×{len(members)}",
            (ranks[members].mean(), level),
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
    title = f"{inv.name or 'unit'}: curvature spectrum ({end_note(inv)})"
    if not inv.is_maximum:
        title += "\n(some ν > 0: not a local maximum)"
    ax.set_title(_wrap(title, 70), fontsize=FONT_SIZE)
    ax.legend(fontsize=FONT_SIZE - 1, loc="best")
    return _root(ax)


def spectrum_ranks(inv: Invariances) -> np.ndarray:
    """The rank in the full spectrum (0 .. n - 2) of each kept direction.

    ``arange(m)`` for a complete result; for 2k kept directions of n - 1, the k most
    invariant are ranks 0 .. k - 1 and the k least invariant n - 1 - k .. n - 2.
    """
    m = inv.n_directions
    if inv.complete:
        return np.arange(m)
    n = int(np.prod(inv.shape))
    k = m // 2
    return np.concatenate([np.arange(k), np.arange(n - 1 - (m - k), n - 1)])


def activation_curve(
    inv: Invariances, rank: int = 0, *, order: str = "most", ax: Axes | None = None
) -> Figure:
    """The activation along a direction's geodesic beside its second-order approximation.

    Derivation of the approximation: along ``x(t) = cos(t) x* + sin(t) rho w`` we have
    ``x'(t) = -sin(t) x* + cos(t) rho w`` and ``x''(t) = -x(t)``, so
    ``d2/dt2 g(x(t)) = x'^T H x' + grad g . x''``. At ``t = 0``, ``x'(0) = rho w`` and
    ``x''(0) = -x*``, hence ``d2g/dt2(0) = rho^2 w^T H w - x*^T grad g(x*)
    = rho^2 (w^T H w - mu) = rho^2 nu`` (``docs/method.md`` §6: ``mu = x*^T grad g / rho^2``).
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
        f"{inv.name or 'unit'}\n{order} invariant #{rank + 1}, {_label(inv, index)} (ν = {nu:.3g})",
        fontsize=FONT_SIZE + 1,
    )
    ax.legend(fontsize=FONT_SIZE - 1, loc="best")
    return _root(ax)


def _wrap(text: str, width: int) -> str:
    """Each line of ``text`` wrapped at ``width`` characters."""
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def _degrees(angle: float) -> int:
    """An angle in radians as whole degrees (never "-0")."""
    return int(round(float(np.degrees(angle))))


def _label(inv: Invariances, index: int) -> str:
    """The named invariance of a direction, with the centre ``(row, column)`` of a rotation
    or scaling, or ``""`` when the result has no names."""
    if inv.labels is None:
        return ""
    centre = None if inv.label_centres is None else inv.label_centres[index]
    if centre is None or not np.all(np.isfinite(centre)):
        return str(inv.labels[index])
    return f"{inv.labels[index]} about ({centre[0]:.1f}, {centre[1]:.1f})"


def short_name(name: str) -> str:
    """``"map 3, row 0, col 1"`` -> ``"m3 r0 c1"``: fits under a 10-pixel stimulus."""
    return name.replace("map ", "m").replace("row ", "r").replace("col ", "c").replace(",", "")


def _panel_inches(picture: np.ndarray) -> float:
    """Inches per image panel: 1, or more for a large picture so that it is not shrunk at 150 dpi."""
    return max(1.0, picture.shape[1] / 150)


def _new_figure(width: float, height: float) -> Figure:
    """A new figure (not registered with pyplot) with a constrained layout."""
    return Figure(figsize=(width, height), dpi=150, layout="constrained")


def _root(artist: Axes | Figure | SubFigure) -> Figure:
    """The top-level Figure an Axes or (Sub)Figure belongs to."""
    fig = artist if isinstance(artist, (Figure, SubFigure)) else artist.figure
    while isinstance(fig, SubFigure):
        fig = fig.figure
    return fig
