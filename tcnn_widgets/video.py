"""Invariance videos: the frames along a direction's geodesic, as GIF or MP4.

A video shows the stimuli ``x(t) = cos(t) x* + sin(t) rho w`` for t across the
direction's video range (METHOD section 7), all on the direction's one fixed gray
scale (:meth:`Invariances.gray_limit`) and through the shared gray rule
(:func:`tcnn_widgets.pixels.to_gray_bytes`), so a GIF frame, a figure and the
widget show the same bytes for the same frame.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy.interpolate import CubicSpline

from ._storage import atomic_path, write_bytes_atomic
from .pixels import to_gray_bytes
from .results import Invariances
from .selection import Geodesic, geodesic

BACKGROUND = 255  # gray level of the space around the panels (white)


@dataclass
class Video:
    """The pictures of an invariance video, ready to encode.

    Attributes
    ----------
    geodesic : Geodesic
        What the video shows.
    images : ndarray of uint8, shape (count, height, width)
        One gray picture per frame.
    frame_box : tuple of int
        ``(top, left)`` of the enlarged geodesic frame inside each picture; it is
        ``scale`` times the frame's size.
    scale : int
        Each stimulus pixel is a ``scale`` x ``scale`` block.
    """

    geodesic: Geodesic
    images: np.ndarray
    frame_box: tuple[int, int]
    scale: int


def render_video(
    inv: Invariances,
    rank: int,
    *,
    order: str = "most",
    count: int = 32,
    scale: int = 8,
    with_stimulus: bool = False,
    with_trace: bool = False,
) -> Video:
    """Draw the pictures of a direction's invariance video.

    Parameters
    ----------
    inv, rank, order, count
        As for :func:`geodesic`.
    scale : int
        Enlargement of each stimulus pixel (nearest neighbour, no blur).
    with_stimulus : bool
        Put the optimal stimulus x* left of the moving frame, on the same gray scale.
    with_trace : bool
        Put the activation along the path right of the frame: the real curve over the
        video range, a dashed line at ``inv.video_level``, and a dot at the
        current frame.

    Returns
    -------
    Video
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be an int >= 1, got {scale!r}")
    path = geodesic(inv, rank, order=order, count=count)
    gray = path.gray
    h, w = gray.shape[1:]
    big = np.repeat(np.repeat(gray, scale, axis=1), scale, axis=2)
    gap = scale
    panels_left = []
    if with_stimulus:
        stimulus = to_gray_bytes(inv.stimulus, path.limit)
        panels_left.append(np.repeat(np.repeat(stimulus, scale, axis=0), scale, axis=1))
    left = sum(p.shape[1] + gap for p in panels_left)
    trace_width = 2 * w * scale if with_trace else 0
    width = left + w * scale + (gap + trace_width if with_trace else 0)
    images = np.full((len(gray), h * scale, width), BACKGROUND, dtype=np.uint8)
    x = 0
    for panel in panels_left:
        images[:, :, x : x + panel.shape[1]] = panel
        x += panel.shape[1] + gap
    images[:, :, left : left + w * scale] = big
    if with_trace:
        x0 = left + w * scale + gap
        for k in range(len(images)):
            images[k, :, x0:] = _trace_panel(inv, path, k, trace_width, h * scale)
    return Video(geodesic=path, images=images, frame_box=(0, left), scale=int(scale))


def _trace_panel(inv: Invariances, path: Geodesic, k: int, width: int, height: int) -> np.ndarray:
    """A small plot of the activation along the path, with a dot at frame ``k``."""
    a, b = path.angles[0], path.angles[-1]
    inside = (inv.geodesic_angles > a) & (inv.geodesic_angles < b)
    t = np.concatenate([[a], inv.geodesic_angles[inside], [b]])
    g = CubicSpline(inv.geodesic_angles, inv.geodesic_activations[path.index])(t)
    level = inv.video_level
    low = min(g.min(), level, path.activations.min())
    high = max(g.max(), inv.activation)
    span = max(high - low, 1e-12)
    margin = 3

    def to_xy(angle: np.ndarray, value: np.ndarray) -> list[tuple[float, float]]:
        px = margin + (angle - a) / max(b - a, 1e-12) * (width - 1 - 2 * margin)
        py = height - 1 - margin - (value - low) / span * (height - 1 - 2 * margin)
        return list(zip(np.atleast_1d(px).tolist(), np.atleast_1d(py).tolist(), strict=True))

    panel = Image.new("L", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(panel)
    draw.rectangle([0, 0, width - 1, height - 1], outline=160)
    (_, y_level), *_ = to_xy(np.array([a]), np.array([level]))
    for x in range(margin, width - margin, 6):
        draw.line([(x, y_level), (min(x + 2, width - margin), y_level)], fill=150)
    draw.line(to_xy(t, g), fill=0, width=1)
    ((cx, cy),) = to_xy(np.array([path.angles[k]]), np.array([path.activations[k]]))
    draw.line([(cx, margin), (cx, height - 1 - margin)], fill=200)
    radius = max(2, height // 30)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=0)
    return np.asarray(panel)


# ---- encoders -------------------------------------------------------------------------------
def gif_bytes(video: Video, *, fps: float = 12.0, bounce: bool = False) -> bytes:
    """Encode a video as an endlessly looping GIF.

    Parameters
    ----------
    video : Video
        From :func:`render_video`.
    fps : float
        Frames per second (GIF stores delays in 1/100 s, so the delay is rounded).
    bounce : bool
        Play forward then backward (``2 count - 2`` frames), so the loop has no jump.

    Returns
    -------
    bytes
        The GIF file. Its gray levels are exactly ``video.images``; Pillow merges a
        frame identical to the one before it into a longer one.
    """
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    images = _play_order(video.images, bounce)
    pictures = [Image.fromarray(image, mode="L") for image in images]
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=int(round(1000 / fps)),
        loop=0,
        optimize=False,
    )
    return buffer.getvalue()


def write_gif(
    inv: Invariances,
    rank: int,
    path: str | os.PathLike,
    *,
    order: str = "most",
    count: int = 32,
    fps: float = 12.0,
    scale: int = 8,
    with_stimulus: bool = False,
    with_trace: bool = False,
    bounce: bool = False,
) -> Path:
    """Write the GIF of a direction's invariance video (atomic).

    Parameters
    ----------
    inv, rank, order, count, scale, with_stimulus, with_trace
        As for :func:`render_video`.
    path : path-like
        Destination file; its folder must exist.
    fps, bounce
        As for :func:`gif_bytes`.

    Returns
    -------
    Path
        The path written.
    """
    video = render_video(
        inv,
        rank,
        order=order,
        count=count,
        scale=scale,
        with_stimulus=with_stimulus,
        with_trace=with_trace,
    )
    return write_bytes_atomic(path, gif_bytes(video, fps=fps, bounce=bounce))


def write_mp4(
    inv: Invariances,
    rank: int,
    path: str | os.PathLike,
    *,
    order: str = "most",
    count: int = 32,
    fps: float = 12.0,
    scale: int = 8,
    with_stimulus: bool = False,
    with_trace: bool = False,
    bounce: bool = False,
) -> Path:
    """Write a direction's invariance video as H.264 MP4 with the ``ffmpeg`` on PATH.

    The encoder runs single-threaded. Parameters are those of :func:`write_gif`.

    Raises
    ------
    RuntimeError
        When no ``ffmpeg`` is on PATH (the message says how to get one, or to use
        :func:`write_gif`), or when ffmpeg fails.
    """
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError(
            "writing MP4 needs the ffmpeg program on PATH, and none was found: install it "
            "(e.g. 'apt-get install ffmpeg' or 'conda install ffmpeg') or write a GIF instead"
        )
    video = render_video(
        inv,
        rank,
        order=order,
        count=count,
        scale=scale,
        with_stimulus=with_stimulus,
        with_trace=with_trace,
    )
    images = _play_order(video.images, bounce)
    _, height, width = images.shape  # H.264 in yuv420p needs even sides: pad with background
    images = np.pad(images, ((0, 0), (0, height % 2), (0, width % 2)), constant_values=BACKGROUND)
    size = f"{images.shape[2]}x{images.shape[1]}"
    with atomic_path(path) as temporary:
        command = [
            ffmpeg,
            *"-hide_banner -loglevel error -nostdin -y".split(),
            *f"-f rawvideo -pix_fmt gray -s {size} -framerate {fps} -i -".split(),
            *"-filter_threads 1 -c:v libx264 -threads 1 -pix_fmt yuv420p -crf 12".split(),
            *"-movflags +faststart -f mp4".split(),
            str(temporary),
        ]
        done = subprocess.run(
            command, input=np.ascontiguousarray(images).tobytes(), capture_output=True
        )
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"ffmpeg failed: {message[-1] if message else 'no message'}")
    return Path(path)


def _play_order(images: np.ndarray, bounce: bool) -> np.ndarray:
    """The pictures in play order: forward, or forward then back without repeats."""
    return np.concatenate([images, images[-2:0:-1]]) if bounce else images
