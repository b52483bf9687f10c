"""Real analysis results in the shapes the engine gives for colour and matrix-free runs.

Built from a one-layer pooling unit's dense analysis, without re-implementing anything:

- ``as_channels(result, c)``: the same analysis seen as a ``(c, h, w)`` stimulus. The
  numbers are exactly those of the unit ``x -> g(reshape(x, (h', w')))``, an honest
  c-channel unit, so every figure and video of it can be checked against the raw arrays.
- ``ends_only(result, k)``: the k most and k least invariant directions of a complete
  result, as the matrix-free method keeps them (``complete=False``, no Hessian), with
  ``ends_tied`` set where an end group reaches into the dropped middle.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN


def pooling_result(field: int = 5, seed: int = 0):
    """A dense analysis of one random tiled-CNN pooling unit ((field + 1)^2 pixels)."""
    network = TiledCNN.random(maps=4, tile=2, field=field, pool=2, seed=seed, image_size=12)
    return analyze(network.unit(0, 0, 1), restarts=2, seed=0)


def as_channels(result, channels: int):
    """The result with its stimulus and directions reshaped to (channels, h, w)."""
    n = result.stimulus.size
    side = int(round(np.sqrt(n / channels)))
    shape = (channels, n // (channels * side), side)
    assert np.prod(shape) == n, f"{n} entries do not split into {channels} channels"
    return dataclasses.replace(
        result,
        stimulus=result.stimulus.reshape(shape),
        directions=result.directions.reshape(-1, *shape),
    )


def ends_only(result, k: int):
    """The k most and k least invariant directions only (a matrix-free-shaped result)."""
    m = result.n_directions
    keep = np.r_[0:k, m - k : m]
    groups = result.groups
    ends_tied = np.array([groups[k - 1] == groups[k], groups[m - k] == groups[m - k - 1]])
    return dataclasses.replace(
        result,
        curvatures=result.curvatures[keep],
        directions=result.directions[keep],
        groups=groups[keep],
        video_ranges=result.video_ranges[keep],
        geodesic_activations=result.geodesic_activations[keep],
        labels=None if result.labels is None else result.labels[keep],
        label_fractions=None if result.label_fractions is None else result.label_fractions[keep],
        label_centres=None if result.label_centres is None else result.label_centres[keep],
        hessian=None,
        method="matrix-free",
        complete=False,
        ends_tied=ends_tied,
    )
