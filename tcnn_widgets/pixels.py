"""The one display rule shared by figures, GIFs and the widget (docs/method.md §11).

A frame is shown on a scale symmetric about 0: the value ``-limit`` is black, ``0`` is
mid-gray and ``+limit`` is white. A colour frame ``(3, h, w)`` is shown as RGB, each
channel through the same byte rule with ONE limit shared by the three channels; other
channel counts are shown channel by channel, side by side. The front end
(``js/src/pixels.js``) implements the same rules, byte for byte, so that a figure and
the widget show the same pixels for the same frame.
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


CHANNEL_GAP = 1
"""Columns between the channel tiles of a frame that is neither gray nor RGB."""

GAP_BYTE = 255
"""Byte value of the gap columns between channel tiles (white)."""


def to_display_bytes(frame: np.ndarray, limit: float) -> np.ndarray:
    """The bytes that show a frame: gray, RGB, or gray channel tiles side by side.

    Parameters
    ----------
    frame : ndarray, shape (h, w) or (c, h, w)
        Pixel values; channels first.
    limit : float
        Positive half-width of the scale, shared by all channels (e.g. the largest
        ``|x|`` of the frame or of the whole video).

    Returns
    -------
    ndarray of uint8
        ``(h, w)`` gray for ``(h, w)`` and ``(1, h, w)``; ``(h, w, 3)`` RGB for
        ``(3, h, w)``; for any other ``c``, ``(h, c w + (c - 1) CHANNEL_GAP)`` gray: the
        channels left to right, separated by :data:`GAP_BYTE` columns. Every value goes
        through :func:`to_gray_bytes`.

    Raises
    ------
    ValueError
        For a frame that is not 2-D or 3-D, or a limit that is not positive and finite.

    Example
    -------
    >>> to_display_bytes(np.array([[[-1.0]], [[0.0]], [[1.0]]]), 1.0).tolist()
    [[[0, 128, 255]]]
    """
    frame = np.asarray(frame, dtype=np.float64)
    if frame.ndim == 2:
        return to_gray_bytes(frame, limit)
    if frame.ndim != 3 or frame.shape[0] < 1:
        raise ValueError(f"frame must have shape (h, w) or (c, h, w), got {frame.shape}")
    channels, height, width = frame.shape
    levels = to_gray_bytes(frame, limit)
    if channels == 1:
        return levels[0]
    if channels == 3:
        return np.ascontiguousarray(np.moveaxis(levels, 0, -1))
    tiles = np.full((height, channels * width + (channels - 1) * CHANNEL_GAP), GAP_BYTE, np.uint8)
    for channel in range(channels):
        left = channel * (width + CHANNEL_GAP)
        tiles[:, left : left + width] = levels[channel]
    return tiles


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
