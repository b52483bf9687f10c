"""Pictures for figures and GIFs: enlargement and joining of displayed frames.

The bytes of a frame come from :func:`tcnn_widgets.pixels.to_display_bytes`, the one
display rule (docs/method.md §11) that the widget follows too.
"""

from __future__ import annotations

import numpy as np

WHITE = 255


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
