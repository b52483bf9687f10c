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


def interval_abs_max(
    a: np.ndarray, b: np.ndarray, start: np.ndarray | float, stop: np.ndarray | float
) -> np.ndarray | float:
    """Largest ``|a cos t + b sin t|`` over all pixels and all t in [start, stop].

    This is the exact gray-scale limit of a whole invariance video: each pixel moves
    along ``a cos t + b sin t``, whose extremes lie at the interval ends or where
    ``tan t = b / a``.

    Parameters
    ----------
    a : ndarray, shape (h, w)
        Pixel values at angle 0.
    b : ndarray, shape (h, w) or (D, h, w)
        The tangent part, or a stack of D of them (one per video).
    start, stop : float or ndarray of shape (D,)
        The angle interval of each video, ``start <= stop``.

    Returns
    -------
    float, or ndarray of shape (D,) for a stack
        The maximum absolute pixel value over each interval (at least 1e-300).
    """
    stacked = np.ndim(b) == np.ndim(a) + 1
    a = np.ravel(a)[None, :]
    b = np.reshape(b, (-1, a.shape[1]))
    start = np.reshape(start, (-1, 1))
    stop = np.reshape(stop, (-1, 1))
    best = np.maximum(
        np.max(np.abs(a * np.cos(start) + b * np.sin(start)), axis=1),
        np.max(np.abs(a * np.cos(stop) + b * np.sin(stop)), axis=1),
    )
    peak = np.arctan2(b, a)  # where a cos t + b sin t = hypot(a, b)
    amplitude = np.hypot(a, b)
    for shift in (-2 * np.pi, -np.pi, 0.0, np.pi, 2 * np.pi):
        inside = (peak + shift >= start) & (peak + shift <= stop)
        best = np.maximum(best, np.max(np.where(inside, amplitude, 0.0), axis=1))
    best = np.maximum(best, 1e-300)
    return best if stacked else float(best[0])
