"""The one gray-scale rule shared by figures, GIFs and the widget.

A frame is shown on a gray scale symmetric about 0: the value ``-limit`` is black,
``0`` is mid-gray and ``+limit`` is white. The front end (``js/src/grayscale.js``)
implements the same rule, byte for byte, so that a figure and the widget show the
same pixels for the same frame.
"""

from __future__ import annotations

import numpy as np


def to_gray_bytes(frame: np.ndarray, limit: float) -> np.ndarray:
    """Map pixel values to 8-bit gray levels on the symmetric scale [-limit, limit].

    Parameters
    ----------
    frame : ndarray
        Pixel values, any shape.
    limit : float
        Positive half-width of the scale; values beyond it are clipped.

    Returns
    -------
    ndarray of uint8
        ``floor((v / limit + 1) * 127.5 + 0.5)`` clipped to 0..255 (JavaScript's
        ``Math.round`` of the same expression).
    """
    if not np.isfinite(limit) or limit <= 0:
        raise ValueError(f"limit must be a positive finite number, got {limit!r}")
    scaled = (np.asarray(frame, dtype=np.float64) / limit + 1.0) * 127.5
    return np.clip(np.floor(scaled + 0.5), 0, 255).astype(np.uint8)


def interval_abs_max(a: np.ndarray, b: np.ndarray, start: float, stop: float) -> float:
    """Largest ``|a cos t + b sin t|`` over all pixels and all t in [start, stop].

    This is the exact gray-scale limit of a whole invariance video: each pixel moves
    along ``a cos t + b sin t``, whose extremes lie at the interval ends or where
    ``tan t = b / a``.

    Parameters
    ----------
    a, b : ndarray
        Pixel values at angle 0 and the tangent part (same shape).
    start, stop : float
        The angle interval, ``start <= stop``.

    Returns
    -------
    float
        The maximum absolute pixel value over the interval (at least 1e-300).
    """
    a = np.ravel(a)
    b = np.ravel(b)
    candidates = [start, stop]
    peak = np.arctan2(b, a)  # where a cos t + b sin t = hypot(a, b)
    amplitude = np.hypot(a, b)
    best = max(np.max(np.abs(a * np.cos(t) + b * np.sin(t))) for t in candidates)
    for shift in (-2 * np.pi, -np.pi, 0.0, np.pi, 2 * np.pi):
        inside = (peak + shift >= start) & (peak + shift <= stop)
        if np.any(inside):
            best = max(best, float(np.max(amplitude[inside])))
    return max(float(best), 1e-300)
