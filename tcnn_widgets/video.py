"""Invariance videos: the frames along a direction's geodesic, as GIF or MP4.

A video shows the stimuli ``x(t) = cos(t) x* + sin(t) rho w`` for t across the
direction's video range (``docs/method.md`` §7), all on the direction's one fixed
scale (:meth:`Invariances.gray_limit`) and through the display rule shared with the
figures and the widget (gray for ``(h, w)``, RGB for ``(3, h, w)``, channel by channel
otherwise; ``docs/method.md`` §11). Stimuli are enlarged by nearest neighbour, as Le
et al. ("Tiled convolutional neural networks", NIPS 2010) showed their 10 x 10 ones.
Beside the moving stimulus a video can show x*, the difference ``x(t) - x*`` (on its
own symmetric scale, so a small change is visible) and the activation along the path
with its axes (angle in degrees, activation). By default it plays forward then back,
so the loop has no jump.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy.interpolate import CubicSpline

from . import _validate
from ._pictures import abs_limit, enlarge, join
from ._storage import atomic_path, write_bytes_atomic
from .pixels import to_display_bytes
from .results import Invariances
from .selection import Geodesic, geodesic

BACKGROUND = 255  # gray level of the space around the panels (white)
INK = 0  # gray level of text and curves
TARGET_SIZE = 160  # default enlargement: the stimulus' longer side becomes about this many pixels
FONT_PIXELS = 12


@dataclass
class Video:
    """The pictures of an invariance video, ready to encode.

    Attributes
    ----------
    geodesic : Geodesic
        What the video shows.
    images : ndarray of uint8, shape (count, height, width) gray or (count, height, width, 3) RGB
        One picture per frame (RGB when the stimulus has 3 channels).
    frame_box : tuple of int
        ``(top, left)`` of the enlarged moving stimulus inside each picture; it is
        ``scale`` times the stimulus picture's size.
    scale : int
        Each stimulus pixel is a ``scale`` x ``scale`` block.
    difference_limit : float
        The symmetric scale of the difference panel, ``max |x(t) - x*|`` over the video
        (0.0 without that panel).
    """

    geodesic: Geodesic
    images: np.ndarray
    frame_box: tuple[int, int]
    scale: int
    difference_limit: float = 0.0


def default_scale(shape: tuple[int, ...]) -> int:
    """Nearest-neighbour enlargement that makes the stimulus about ``TARGET_SIZE`` pixels."""
    return max(1, TARGET_SIZE // max(shape[-2:]))


def render_video(
    result: Invariances,
    rank: int,
    *,
    order: str = "most",
    count: int = 32,
    scale: int | None = None,
    with_stimulus: bool = False,
    with_difference: bool = False,
    with_trace: bool = False,
    caption: str | None = None,
) -> Video:
    """Draw the pictures of a direction's invariance video.

    Panels, left to right: x* (``with_stimulus``), the moving stimulus x(t), the
    difference ``x(t) - x*`` (``with_difference``), the activation along the path
    (``with_trace``). With any side panel, a line of labels runs under the panels.

    Parameters
    ----------
    result, rank, order, count
        As for :func:`tcnn_widgets.selection.geodesic`.
    scale : int, optional
        Enlargement of each stimulus pixel (nearest neighbour, no blur); default
        :func:`default_scale` (about 160 pixels on the longer side).
    with_stimulus : bool
        Put x* left of the moving stimulus, on the video's scale.
    with_difference : bool
        Put ``x(t) - x*`` right of it, on its own symmetric scale
        ``max |x(t) - x*|`` over the video, fixed for the whole video.
    with_trace : bool
        Put the activation along the path on the right, with axes: the real curve
        over the video range (angle in degrees), a dashed line at
        ``result.video_level``, and a dot at the current frame.
    caption : str, optional
        A line of text above the panels. None (the default) writes which direction it
        is, :func:`direction_caption`, when the video has a side panel; ``""`` writes none.

    Returns
    -------
    Video

    Example
    -------
    >>> clip = render_video(result, 0, order="least", with_stimulus=True)  # doctest: +SKIP
    >>> clip.images.shape  # doctest: +SKIP
    (32, 190, 336)
    """
    scale = default_scale(result.shape) if scale is None else scale
    scale = _validate.integer(scale, "scale", minimum=1)
    with_stimulus = _validate.flag(with_stimulus, "with_stimulus")
    with_difference = _validate.flag(with_difference, "with_difference")
    with_trace = _validate.flag(with_trace, "with_trace")
    if caption is not None and not isinstance(caption, str):
        raise TypeError(f"caption must be a str or None, got {caption!r}")
    path = geodesic(result, rank, order=order, count=count)
    moving = [enlarge(to_display_bytes(frame, path.limit), scale) for frame in path.frames]
    gap = max(4, scale)
    panels, names = [moving], ["x(t)"]
    if with_stimulus:
        panels.insert(
            0, [enlarge(to_display_bytes(result.stimulus, path.limit), scale)] * len(moving)
        )
        names.insert(0, "x*")
    difference_limit = 0.0
    if with_difference:
        change = path.frames - result.stimulus
        difference_limit = abs_limit(change)
        panels.append([enlarge(to_display_bytes(d, difference_limit), scale) for d in change])
        names.append("x(t) − x*")
    height, width = moving[0].shape[:2]
    if with_trace:
        trace_height = max(height, 120)
        trace_width = max(2 * width, 220)
        panels.append(
            [_trace_panel(result, path, k, trace_width, trace_height) for k in range(len(moving))]
        )
        names.append("")
        height = max(height, trace_height)
    panels = [[_pad_to(p, height) for p in panel] for panel in panels]
    rows = [join([panel[k] for panel in panels], gap) for k in range(len(moving))]
    left = (width + gap) if with_stimulus else 0
    top = 0
    if caption is None and len(panels) > 1:
        caption = direction_caption(result, rank, order)
    if caption:
        band = _text_band(caption, rows[0].shape[1])
        rows = [_stack(band, row) for row in rows]
        top = band.shape[0]
    if len(panels) > 1:
        widths = [panel[0].shape[1] for panel in panels]
        band = _labels_band(names, widths, gap)
        rows = [_stack(row, band) for row in rows]
    return Video(
        geodesic=path,
        images=np.stack(rows),
        frame_box=(top, left),
        scale=int(scale),
        difference_limit=difference_limit,
    )


def direction_caption(result: Invariances, rank: int, order: str = "most") -> str:
    """Which direction a video shows, in plain words, ties included.

    E.g. ``"least invariant #1, ν = -27.5: 1 of 91 tied, the tie has no single image"``;
    ``"≥"`` marks a tie that may extend beyond the kept directions (``ends_tied``).
    """
    index = result.index(rank, order)
    members = result.group_members(index)
    text = f"{order} invariant #{rank + 1}, ν = {result.curvatures[index]:.3g}"
    last = result.n_directions - 1
    open_end = (0 in members and result.ends_tied[0]) or (last in members and result.ends_tied[1])
    if len(members) > 1 or open_end:
        text += f": 1 of {'≥' if open_end else ''}{len(members)} tied, the tie has no single image"
    return text


def _pad_to(picture: np.ndarray, height: int) -> np.ndarray:
    """Pad a picture at the bottom with background up to ``height`` rows."""
    extra = height - picture.shape[0]
    if extra == 0:
        return picture
    padding = [(0, extra), (0, 0)] + [(0, 0)] * (picture.ndim - 2)
    return np.pad(picture, padding, constant_values=BACKGROUND)


def _stack(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Two pictures of one width, one above the other (gray made RGB if the other is)."""
    if upper.ndim != lower.ndim:
        upper, lower = (
            p if p.ndim == 3 else np.repeat(p[..., None], 3, -1) for p in (upper, lower)
        )
    return np.concatenate([upper, lower], axis=0)


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans, which matplotlib ships (it has ν, ° and ∗), as in the figures."""
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(path), FONT_PIXELS)
    except OSError:  # Pillow without FreeType: its own font (Greek letters may not show)
        return ImageFont.load_default()


def _text_band(text: str, width: int) -> np.ndarray:
    """A white band holding ``text``, wrapped at spaces to fit ``width`` pixels."""
    font = _font()
    lines = [""]
    for word in text.split(" "):
        trial = f"{lines[-1]} {word}".strip()
        if lines[-1] and font.getlength(trial) > width - 4:
            lines.append(word)
        else:
            lines[-1] = trial
    step = FONT_PIXELS + 3
    band = Image.new("L", (width, step * len(lines) + 5), BACKGROUND)
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        draw.text((2, 3 + i * step), line, fill=INK, font=font)
    return np.asarray(band)


def _labels_band(names: list[str], widths: list[int], gap: int) -> np.ndarray:
    """A white band with each panel's name centred under it."""
    total = sum(widths) + gap * (len(widths) - 1)
    band = Image.new("L", (total, FONT_PIXELS + 6), BACKGROUND)
    draw = ImageDraw.Draw(band)
    x = 0
    for name, width in zip(names, widths, strict=True):
        draw.text((x + width / 2, 2), name, fill=INK, font=_font(), anchor="ma")
        x += width + gap
    return np.asarray(band)


def _trace_panel(
    result: Invariances, path: Geodesic, k: int, width: int, height: int
) -> np.ndarray:
    """The activation along the path, with axes and tick labels, and a dot at frame ``k``.

    x axis: the angle t in degrees over the video range; y axis: the activation from
    below the video level to g*. A dashed line marks ``result.video_level``.
    """
    a, b = path.angles[0], path.angles[-1]
    inside = (result.geodesic_angles > a) & (result.geodesic_angles < b)
    t = np.concatenate([[a], result.geodesic_angles[inside], [b]])
    g = CubicSpline(result.geodesic_angles, result.geodesic_activations[path.index])(t)
    level = result.video_level
    low = min(g.min(), level, path.activations.min())
    high = max(g.max(), result.activation)
    span = max(high - low, 1e-12)
    font = _font()
    left, right, top, bottom = 44, 6, 6, FONT_PIXELS + 8  # room for the tick labels

    def to_xy(angle: np.ndarray, value: np.ndarray) -> list[tuple[float, float]]:
        px = left + (angle - a) / max(b - a, 1e-12) * (width - 1 - left - right)
        py = height - 1 - bottom - (value - low) / span * (height - 1 - top - bottom)
        return list(zip(np.atleast_1d(px).tolist(), np.atleast_1d(py).tolist(), strict=True))

    panel = Image.new("L", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(panel)
    x0, y0 = left, height - 1 - bottom
    ((cx, cy),) = to_xy(np.array([path.angles[k]]), np.array([path.activations[k]]))
    draw.line([(cx, top), (cx, y0 - 1)], fill=200)  # the current angle, under everything
    (_, y_level), *_ = to_xy(np.array([a]), np.array([level]))
    for x in range(x0 + 2, width - right, 6):
        draw.line([(x, y_level), (min(x + 2, width - right), y_level)], fill=150)
    draw.line([(x0, top), (x0, y0), (width - 1 - right, y0)], fill=INK)  # the axes
    for value in (high, level):
        ((_, y),) = to_xy(np.array([a]), np.array([value]))
        draw.line([(x0 - 3, y), (x0, y)], fill=INK)
        draw.text((x0 - 5, y), f"{value:.3g}", fill=INK, font=font, anchor="rm")
    for angle in (a, 0.0, b) if a < 0 < b else (a, b):
        ((x, _),) = to_xy(np.array([angle]), np.array([low]))
        draw.line([(x, y0), (x, y0 + 3)], fill=INK)
        anchor = "la" if angle == a else ("ra" if angle == b else "ma")
        draw.text(
            (x, y0 + 4),
            f"{int(round(float(np.degrees(angle)))):+d}°",
            fill=INK,
            font=font,
            anchor=anchor,
        )
    draw.line(to_xy(t, g), fill=INK, width=1)
    radius = max(2, height // 40)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=INK)
    return np.asarray(panel)


# ---- encoders -------------------------------------------------------------------------------
def gif_bytes(video: Video, *, fps: float = 12.0, bounce: bool = True) -> bytes:
    """Encode a video as an endlessly looping GIF.

    Parameters
    ----------
    video : Video
        From :func:`render_video`.
    fps : float
        Frames per second (GIF stores delays in 1/100 s, so the delay is rounded).
    bounce : bool
        Play forward then backward (``2 count - 2`` frames), so the loop has no jump
        (the default); False jumps from the last frame back to the first.

    Returns
    -------
    bytes
        The GIF file. A gray video's levels are exactly ``video.images``; a colour
        frame of more than 256 colours is reduced to 256 (Pillow's adaptive palette;
        use :func:`write_mp4` or the figures for exact colours). Each frame after the
        first stores only the pixels that change (the others are transparent and keep
        the frame before), with a palette of just its colours: the same pictures in a
        fraction of the bytes. A frame identical to the one before is merged into a
        longer one.
    """
    fps = _validate.real(fps, "fps", above=0)
    bounce = _validate.flag(bounce, "bounce")
    pictures = _delta_pictures(
        [_shown_colours(image) for image in _play_order(video.images, bounce)]
    )
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=int(round(1000 / fps)),
        loop=0,
        disposal=1,  # keep the frame before: transparent pixels show it
        optimize=False,
    )
    return buffer.getvalue()


def apng_bytes(video: Video, *, fps: float = 12.0, bounce: bool = True) -> bytes:
    """Encode a video as an endlessly looping animated PNG (APNG).

    The pictures are exactly ``video.images``, colour included (no 256-colour palette),
    and each frame stores only the rectangle that changed, deflate-compressed: a
    quarter to a third of the GIF's bytes for the enlarged stimuli of a report. Every
    current browser plays it; viewers without APNG support show the first frame.

    Parameters
    ----------
    video : Video
        From :func:`render_video`.
    fps, bounce
        As for :func:`gif_bytes`.

    Returns
    -------
    bytes
        The PNG file.
    """
    fps = _validate.real(fps, "fps", above=0)
    bounce = _validate.flag(bounce, "bounce")
    images = _play_order(video.images, bounce)
    mode = "L" if images.ndim == 3 else "RGB"
    pictures = [Image.fromarray(image, mode=mode) for image in images]
    buffer = io.BytesIO()
    pictures[0].save(
        buffer,
        format="PNG",
        save_all=True,
        append_images=pictures[1:],
        duration=1000 / fps,
        loop=0,
        optimize=True,
    )
    return buffer.getvalue()


def _shown_colours(image: np.ndarray) -> np.ndarray:
    """The picture a GIF frame can show, as ``(h, w)`` colour keys ``r << 16 | g << 8 | b``
    (gray: the level): the picture itself when it has at most 256 colours, otherwise its
    reduction by Pillow's adaptive palette."""
    if image.ndim == 2:
        return image.astype(np.uint32)
    keys = _colour_keys(image)
    if len(np.unique(keys)) > 256:
        reduced = Image.fromarray(image, mode="RGB").convert("P", palette=Image.Palette.ADAPTIVE)
        keys = _colour_keys(np.asarray(reduced.convert("RGB")))
    return keys | np.uint32(1 << 24)  # marks colour (a gray key is below 256)


def _colour_keys(image: np.ndarray) -> np.ndarray:
    """``(h, w, 3)`` uint8 RGB as ``(h, w)`` uint32 keys ``r << 16 | g << 8 | b``."""
    rgb = image.astype(np.uint32)
    return rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]


def _delta_pictures(frames: list[np.ndarray]) -> list[Image.Image]:
    """Palette pictures of ``frames`` (colour keys from :func:`_shown_colours`, at most 256
    colours each) for a GIF whose frames keep the one before (disposal 1).

    The first picture holds every pixel; each later one holds the pixels that differ
    from the frame before and the transparent index elsewhere (when its changed pixels
    leave a palette entry free; otherwise it holds every pixel). Palettes list only the
    colours used, so a frame that changes few pixels costs few bytes.
    """
    pictures = []
    for k, frame in enumerate(frames):
        changed = np.ones(frame.shape, dtype=bool) if k == 0 else frame != frames[k - 1]
        colours, inverse = np.unique(frame[changed], return_inverse=True)
        transparent = len(colours) if k > 0 and len(colours) < 256 else None
        if transparent is None:
            changed[:] = True
            colours, inverse = np.unique(frame, return_inverse=True)
        indices = np.full(frame.shape, 0 if transparent is None else transparent, np.uint8)
        indices[changed] = inverse.ravel()
        picture = Image.fromarray(indices, mode="P")
        if colours.size and colours[0] >= 1 << 24:  # colour keys
            rgb = np.stack([colours >> 16 & 255, colours >> 8 & 255, colours & 255], axis=1)
        else:  # gray levels as (v, v, v)
            rgb = np.repeat(colours[:, None], 3, axis=1)
        if transparent is not None:
            rgb = np.vstack([rgb, np.zeros((1, 3), rgb.dtype)])
            picture.info["transparency"] = transparent
        picture.putpalette(rgb.astype(np.uint8).ravel().tolist())
        pictures.append(picture)
    return pictures


def write_gif(
    result: Invariances,
    rank: int,
    path: str | os.PathLike,
    *,
    order: str = "most",
    count: int = 32,
    fps: float = 12.0,
    scale: int | None = None,
    with_stimulus: bool = False,
    with_difference: bool = False,
    with_trace: bool = False,
    caption: str | None = None,
    bounce: bool = True,
) -> Path:
    """Write the GIF of a direction's invariance video (atomic); for a ``.png`` path, the
    animated PNG (:func:`apng_bytes`: exact colours, a fraction of the bytes).

    Parameters
    ----------
    result, rank, order, count, scale, with_stimulus, with_difference, with_trace, caption
        As for :func:`render_video`.
    path : path-like
        Destination ``.gif`` (or ``.png``) file; its folder must exist.
    fps, bounce
        As for :func:`gif_bytes` (by default forward then back, no jump at the loop).

    Returns
    -------
    Path
        The path written.

    Example
    -------
    >>> write_gif(result, 0, "least.gif", order="least", with_stimulus=True,
    ...           with_difference=True, with_trace=True)  # doctest: +SKIP
    """
    path = _validate.output_path(path, "path", suffixes=(".gif", ".png"))
    video = render_video(
        result,
        rank,
        order=order,
        count=count,
        scale=scale,
        with_stimulus=with_stimulus,
        with_difference=with_difference,
        with_trace=with_trace,
        caption=caption,
    )
    encode = apng_bytes if path.suffix.lower() == ".png" else gif_bytes
    return write_bytes_atomic(path, encode(video, fps=fps, bounce=bounce))


def write_mp4(
    result: Invariances,
    rank: int,
    path: str | os.PathLike,
    *,
    order: str = "most",
    count: int = 32,
    fps: float = 12.0,
    scale: int | None = None,
    with_stimulus: bool = False,
    with_difference: bool = False,
    with_trace: bool = False,
    caption: str | None = None,
    bounce: bool = True,
) -> Path:
    """Write a direction's invariance video as H.264 MP4 with the ``ffmpeg`` on PATH.

    The encoder runs single-threaded. Parameters are those of :func:`write_gif`;
    ``path`` must end in ``.mp4``.

    Raises
    ------
    RuntimeError
        When no ``ffmpeg`` is on PATH (the message says how to get one, or to use
        :func:`write_gif`), or when ffmpeg fails.
    """
    path = _validate.output_path(path, "path", suffixes=(".mp4",))
    fps = _validate.real(fps, "fps", above=0)
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError(
            "writing MP4 needs the ffmpeg program on PATH, and none was found: install it "
            "(e.g. 'apt-get install ffmpeg' or 'conda install ffmpeg') or write a GIF instead"
        )
    video = render_video(
        result,
        rank,
        order=order,
        count=count,
        scale=scale,
        with_stimulus=with_stimulus,
        with_difference=with_difference,
        with_trace=with_trace,
        caption=caption,
    )
    images = _play_order(video.images, _validate.flag(bounce, "bounce"))
    height, width = images.shape[1:3]  # H.264 in yuv420p needs even sides: pad with background
    padding = [(0, 0), (0, height % 2), (0, width % 2)] + [(0, 0)] * (images.ndim - 3)
    images = np.pad(images, padding, constant_values=BACKGROUND)
    size = f"{images.shape[2]}x{images.shape[1]}"
    pixels = "gray" if images.ndim == 3 else "rgb24"
    with atomic_path(path) as temporary:
        command = [
            ffmpeg,
            *"-hide_banner -loglevel error -nostdin -y".split(),
            *f"-f rawvideo -pix_fmt {pixels} -s {size} -framerate {fps} -i -".split(),
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
