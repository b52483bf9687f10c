"""The compiled and shortcut paths of the dense analysis against plain references.

video_ranges' Numba bookkeeping against the NumPy regula falsi it replaced, bit for bit.
"""

import numpy as np
import pytest

from tcnn_widgets import TiledCNN, analyze
from tcnn_widgets.analysis import video_ranges
from tcnn_widgets.results import video_level


def numpy_video_ranges(unit, x, directions, rho, angles, along, level, tolerance=1e-12):
    """The Illinois regula falsi of video_ranges written with NumPy arrays (reference)."""
    zero = int(np.argmin(np.abs(angles)))
    sides = (np.arange(zero, -1, -1), np.arange(zero, len(angles)))
    shape = (len(directions), 2)
    inside, outside = np.empty(shape), np.empty(shape)
    f_in, f_out = np.zeros(shape), np.zeros(shape)
    found = np.zeros(shape, dtype=bool)
    for column, idx in enumerate(sides):
        below = along[:, idx] < level
        first = np.argmax(below, axis=1)
        found[:, column] = np.any(below, axis=1) & (first > 0)
        before = np.maximum(first - 1, 0)
        outside[:, column] = np.where(found[:, column], angles[idx[first]], angles[idx[-1]])
        inside[:, column] = angles[idx[before]]
        f_out[:, column] = along[np.arange(len(along)), idx[first]] - level
        f_in[:, column] = along[np.arange(len(along)), idx[before]] - level
    last_moved = np.zeros(shape, dtype=np.int8)
    estimate, residual = outside.copy(), np.full(shape, np.inf)
    for _ in range(200):
        active = found & (np.abs(outside - inside) > tolerance)
        active &= residual > 1e-13 * abs(level)
        rows = np.flatnonzero(np.any(active, axis=1))
        if rows.size == 0:
            break
        a, b, fa, fb = inside[rows], outside[rows], f_in[rows], f_out[rows]
        slope = fb - fa
        secant = b - fb * (b - a) / np.where(slope != 0, slope, 1.0)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        usable = (slope != 0) & (secant > lo) & (secant < hi)
        trial = np.where(usable, secant, 0.5 * (a + b))
        f = unit.geodesic_values(x, directions[rows], rho, trial) - level
        move = active[rows]
        low, high = move & (f < 0), move & (f >= 0)
        f_in[rows] = np.where(low & (last_moved[rows] == 1), 0.5 * fa, np.where(high, f, fa))
        f_out[rows] = np.where(high & (last_moved[rows] == -1), 0.5 * fb, np.where(low, f, fb))
        inside[rows] = np.where(high, trial, a)
        outside[rows] = np.where(low, trial, b)
        last_moved[rows] = np.where(low, 1, np.where(high, -1, last_moved[rows]))
        estimate[rows] = np.where(move, trial, estimate[rows])
        residual[rows] = np.where(move, np.abs(f), residual[rows])
    return estimate


@pytest.mark.parametrize("threshold", [0.3, 0.7, 0.95, 0.9999])
@pytest.mark.parametrize("max_angle", [np.pi / 2, 0.4])
def test_video_ranges_kernels_equal_the_numpy_reference(threshold, max_angle):
    """Same brackets, same steps, same floats; also where a side never crosses."""
    units = TiledCNN.random(seed=4).unit_types()
    for unit in units[:3]:
        result = analyze(unit, seed=2, threshold=threshold, max_angle=max_angle, angles=33)
        args = (unit, result.stimulus, result.directions, result.radius)
        angles, along = result.geodesic_angles, result.geodesic_activations
        level = video_level(result.activation, threshold)
        expected = numpy_video_ranges(*args, angles, along, level)
        np.testing.assert_array_equal(video_ranges(*args, angles, along, level), expected)
        np.testing.assert_array_equal(result.video_ranges, expected)
