"""Frames as pictures: the display rule for (h, w) and (c, h, w) stimuli, and enlargement.

Figures, GIFs and the notebook PNG turn a stimulus into bytes here, by the rule of
``docs/method.md`` §11 that the widget follows too:

- ``(h, w)``: gray, :func:`tcnn_widgets.pixels.to_gray_bytes` on the symmetric scale
  ``[-limit, limit]``;
- ``(3, h, w)``: RGB, each channel through that same rule with ONE limit for all three;
- ``(c, h, w)`` with c != 3: the c channels in gray side by side, ``CHANNEL_GAP``
  white columns apart, all on the one limit.
"""

from __future__ import annotations

import numpy as np

from .pixels import to_gray_bytes

CHANNEL_GAP = 1  # white columns between the channels of a stimulus shown channel by channel
WHITE = 255


def display_bytes(frame: np.ndarray, limit: float) -> np.ndarray:
    """A stimulus as a picture: gray ``(h, w)``, RGB ``(h, w, 3)``, or channels side by side.

    Parameters
    ----------
    frame : ndarray, shape (h, w) or (c, h, w)
        One stimulus (channels first).
    limit : float
        Positive half-width of the symmetric scale, shared by all channels.

    Returns
    -------
    ndarray of uint8
        ``(h, w)`` for a gray stimulus and for c != 3 (then ``(h, c w + (c - 1) CHANNEL_GAP)``),
        ``(h, w, 3)`` for c = 3.

    Raises
    ------
    ValueError
        When the frame is not 2-D or 3-D, or ``limit`` is not positive.
    """
    frame = np.asarray(frame)
    if frame.ndim == 2:
        return to_gray_bytes(frame, limit)
    if frame.ndim != 3:
        raise ValueError(f"a stimulus has shape (h, w) or (c, h, w), got {frame.shape}")
    if frame.shape[0] == 3:
        return np.moveaxis(to_gray_bytes(frame, limit), 0, -1)
    return join([to_gray_bytes(channel, limit) for channel in frame], CHANNEL_GAP)


def abs_limit(values: np.ndarray) -> float:
    """The symmetric scale limit that just holds ``values``: ``max |v|`` (at least 1e-300)."""
    return max(float(np.max(np.abs(values))), 1e-300)


def as_rgb(picture: np.ndarray) -> np.ndarray:
    """A gray ``(H, W)`` or RGB ``(H, W, 3)`` picture as RGB ``(H, W, 3)`` uint8."""
    return picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=-1)


def join(pictures: list[np.ndarray], gap: int) -> np.ndarray:
    """Pictures of one height side by side, ``gap`` white columns apart.

    All gray gives a gray picture; any RGB one makes the result RGB. Picture ``k``
    starts at column ``sum(width_j + gap for j < k)``.
    """
    colour = any(p.ndim == 3 for p in pictures)
    if colour:
        pictures = [as_rgb(p) for p in pictures]
    height = pictures[0].shape[0]
    width = sum(p.shape[1] for p in pictures) + gap * (len(pictures) - 1)
    out = np.full((height, width, 3) if colour else (height, width), WHITE, dtype=np.uint8)
    x = 0
    for picture in pictures:
        if picture.shape[0] != height:
            raise ValueError("pictures joined side by side must have one height")
        out[:, x : x + picture.shape[1]] = picture
        x += picture.shape[1] + gap
    return out


def enlarge(picture: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of one picture: each pixel becomes a ``scale`` x ``scale`` block.

    Parameters
    ----------
    picture : ndarray, shape (H, W) or (H, W, 3)
        A gray or RGB picture.
    scale : int
        The enlargement, at least 1.

    Returns
    -------
    ndarray, shape (scale H, scale W) or (scale H, scale W, 3)
    """
    return np.repeat(np.repeat(picture, scale, axis=0), scale, axis=1)
