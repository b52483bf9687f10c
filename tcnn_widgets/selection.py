"""Which directions to show, and the frames along them.

Figures, the notebook display, videos and the report all pick the most and least
invariant directions and their geodesic frames here, so they agree on what they show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from ._validate import integer
from .pixels import to_gray_bytes
from .results import Invariances


@dataclass
class Geodesic:
    """The frames of one direction's invariance video.

    Attributes
    ----------
    index : int
        Index of the direction in the result's arrays (its "most invariant" rank).
    angles : ndarray, shape (count,)
        Angles t of the frames, evenly spaced across the video range.
    frames : ndarray, shape (count, h, w)
        The stimuli x(t), as :meth:`Invariances.frame` computes them.
    activations : ndarray, shape (count,)
        The real activation g(x(t)) under each frame: a cubic spline through the
        engine's samples ``geodesic_activations`` on ``geodesic_angles`` (exact at
        those angles, and off by O(step^4) between them for a smooth unit).
    limit : float
        The video's fixed, symmetric gray-scale limit.
    curvature : float
        The direction's curvature nu.
    group_size : int
        Number of directions sharing this curvature (1 when not degenerate).
    """

    index: int
    angles: np.ndarray
    frames: np.ndarray
    activations: np.ndarray
    limit: float
    curvature: float
    group_size: int

    @property
    def gray(self) -> np.ndarray:
        """The frames as gray bytes (count, h, w), through the shared gray rule."""
        return to_gray_bytes(self.frames, self.limit)


@dataclass(frozen=True)
class Shown:
    """One direction chosen to show, and what its caption must say.

    Attributes
    ----------
    order : {"most", "least"}
        The end of the spectrum it was chosen from.
    rank : int
        Its rank in that order (0 is the most, or the least, invariant direction), as
        :func:`geodesic`, :func:`tcnn_widgets.video.write_gif` and the figures take it.
    index : int
        Its index in the result's arrays.
    group_size : int
        Directions sharing its curvature (1 when it is not degenerate).
    tie : int
        Size of the tie at this end of the spectrum that was passed over to reach it
        (0 when the end is not tied): that tie has no single image.
    tie_open : bool
        This end's tie may extend beyond the kept directions (matrix-free results), so
        its size (``tie``, or ``group_size`` when the tie itself is shown because nothing
        kept lies beyond it) is only a lower bound.
    """

    order: str
    rank: int
    index: int
    group_size: int
    tie: int = 0
    tie_open: bool = False


def choose_directions(inv: Invariances, top: int) -> list[Shown]:
    """The directions to show at each end of the spectrum: ``top`` most, then ``top``
    least invariant ones, honestly.

    Where an end is tied (its first direction belongs to a degenerate group, or
    ``inv.ends_tied`` says the kept directions may not hold the whole tie), no member of
    the tie is "the" most or least invariant direction: the tie is passed over and the
    most informative distinct directions beyond it are chosen, each carrying the tie's
    size for its caption (:func:`caption`). Only when nothing lies beyond the tie among
    the kept directions of that end is a member shown, captioned as one of the tie. No
    direction is chosen twice, and neither end reaches into the other end's tie; the
    two ends take turns, so that both show something where they can.

    Parameters
    ----------
    inv : Invariances
    top : int
        Directions from each end, at least 1.

    Returns
    -------
    list of Shown
        The most invariant end first, in order from the end inwards.

    Example
    -------
    >>> rows = choose_directions(result, 1)  # doctest: +SKIP
    >>> [caption(result, row) for row in rows]  # doctest: +SKIP
    ['most invariant #1: translation, ν = -0.0213',
     'least invariant #92: other, ν = -21.4, beyond a tie of 91 directions, which has no single image']
    """
    if not isinstance(inv, Invariances):
        raise TypeError(f"inv must be an Invariances result, got {type(inv).__name__}")
    top = integer(top, "top", minimum=1)
    m = inv.n_directions
    block = m if inv.complete else m // 2  # the kept directions of each end
    orders = ("most", "least")
    ties = [inv.group_members(inv.index(0, order)) for order in orders]
    starts, opened = [], []
    for end, tie in enumerate(ties):
        open_tie = bool(inv.ends_tied[end])
        beyond = (len(tie) > 1 or open_tie) and len(tie) < block  # pass over the tie
        starts.append(len(tie) if beyond else 0)
        opened.append(open_tie)
    chosen: list[list[Shown]] = [[], []]
    taken: set[int] = set()
    active = [True, True]
    for _ in range(top):  # the ends take turns, so that each shows what it can
        for end, order in enumerate(orders):
            rank = starts[end] + len(chosen[end])
            one_tie = ties[0][0] == ties[1][0]  # the whole spectrum is one group
            other_tie = ties[1 - end] if len(ties[1 - end]) > 1 and not one_tie else ()
            index = inv.index(rank, order) if active[end] and rank < block else -1
            if index < 0 or index in taken or index in other_tie:
                active[end] = False  # reached the other end's directions
                continue
            members = len(inv.group_members(index))
            chosen[end].append(Shown(order, rank, index, members, starts[end], opened[end]))
            taken.add(index)
    rows = chosen[0] + chosen[1]
    return rows


def least_tie(inv: Invariances) -> int:
    """How many directions the least invariant end's tie holds, when
    :func:`choose_directions` passes it over (0 when it does not): the least-invariant-first
    order of the widget starts beyond that tie and shows its members last."""
    least = [row for row in choose_directions(inv, 1) if row.order == "least"]
    return least[0].tie if least else 0


def ordered_index(inv: Invariances, rank: int, order: str, tie: int | None = None) -> int:
    """Array index of the ``rank``-th direction in the widget's order: most invariant first
    (the stored order), or least invariant first starting beyond the least invariant end's
    tie (which has no single image) with the tie's members last.

    Parameters
    ----------
    inv : Invariances
    rank : int
        0 to ``inv.n_directions - 1``.
    order : {"most", "least"}
    tie : int, optional
        :func:`least_tie` of ``inv``, when already known.
    """
    index = inv.index(rank, order)  # checks rank and order
    if order == "most":
        return index
    tie = least_tie(inv) if tie is None else tie
    return inv.n_directions - 1 - (rank + tie) % inv.n_directions


def caption(inv: Invariances, shown: Shown, sep: str = ", ") -> str:
    """What to write beside a chosen direction: its order and rank, name (with the
    centre of a rotation or scaling), curvature, and, where it matters, that it is one
    of a degenerate group or lies beyond a tie that has no single image.

    Parameters
    ----------
    inv : Invariances
    shown : Shown
        From :func:`choose_directions`.
    sep : str
        Between the parts (e.g. a newline for narrow figure labels).
    """
    label = str(inv.labels[shown.index])
    centres = inv.label_centres
    if centres is not None and np.all(np.isfinite(centres[shown.index])):
        row, col = centres[shown.index]
        label += f" about ({row:.1f}, {col:.1f})"
    parts = [
        f"{shown.order} invariant #{shown.rank + 1}: {label}",
        f"ν = {inv.curvatures[shown.index]:.3g}",
    ]
    if shown.group_size > 1:
        at_least = "at least " if shown.tie_open and not shown.tie else ""
        parts.append(f"1 of {at_least}{shown.group_size} equal")
    if shown.tie:
        size = f"at least {shown.tie}" if shown.tie_open else str(shown.tie)
        parts.append(f"beyond a tie of {size} directions, which has no single image")
    return sep.join(parts)


def geodesic(inv: Invariances, rank: int, *, order: str = "most", count: int = 32) -> Geodesic:
    """The invariance video of the ``rank``-th most (or least) invariant direction.

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    rank : int
        0 is the most invariant direction (``order="most"``) or the least invariant
        one (``order="least"``).
    order : {"most", "least"}
        Which end of the curvature spectrum ``rank`` counts from.
    count : int
        Number of frames, at least 2.

    Returns
    -------
    Geodesic
    """
    if not isinstance(inv, Invariances):
        raise TypeError(f"inv must be an Invariances result, got {type(inv).__name__}")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 2:
        raise ValueError(f"count must be an int >= 2 (the number of frames), got {count!r}")
    index = inv.index(rank, order)
    angles, frames = inv.frames(index, int(count))
    activations = CubicSpline(inv.geodesic_angles, inv.geodesic_activations[index])(angles)
    return Geodesic(
        index=index,
        angles=angles,
        frames=frames,
        activations=activations,
        limit=inv.gray_limit(index),
        curvature=float(inv.curvatures[index]),
        group_size=len(inv.group_members(index)),
    )


# ---- frames as pictures ------------------------------------------------------------------
