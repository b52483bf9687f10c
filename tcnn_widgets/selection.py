"""Which directions to show, and the frames along them.

Figures, the notebook display, videos and the report all pick the most and least
invariant directions and their geodesic frames here, so they agree on what they show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

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


def least_tie(inv: Invariances) -> int:
    """How many directions of the least invariant end's tie the widget's
    least-invariant-first order passes over (0 when that end is not tied, or when every
    kept direction is in the tie). Same tie as :func:`tcnn_widgets.figures.shown_directions`
    passes over: the degenerate group of the least invariant direction, when it has more
    than one member or ``inv.ends_tied[1]`` says it may extend beyond the kept ones."""
    tie = len(inv.group_members(inv.n_directions - 1))
    tied = tie > 1 or bool(np.asarray(inv.ends_tied)[1])
    return tie if tied and tie < inv.n_directions else 0


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
