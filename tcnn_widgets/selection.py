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
