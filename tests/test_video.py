"""Invariance videos: GIF frames read back with Pillow, MP4 decoded with ffmpeg."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from result_helpers import as_channels, ends_only, pooling_result

from tcnn_widgets import video
from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.pixels import CHANNEL_GAP, to_gray_bytes

SCALE = 4


@pytest.fixture(scope="module")
def result():
    network = TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=1, image_size=8)
    return analyze(network.unit(1, 1, 0), restarts=2, seed=0)


def reference_gray(result, index, angle):
    """A frame from the raw arrays, through the gray rule on the video's limit."""
    frame = (
        np.cos(angle) * result.stimulus + np.sin(angle) * result.radius * result.directions[index]
    )
    return to_gray_bytes(frame, result.gray_limit(index))


def enlarged(gray, scale=SCALE):
    return np.repeat(np.repeat(gray, scale, axis=0), scale, axis=1)


def gif_frames(data: bytes) -> list[np.ndarray]:
    image = Image.open(io.BytesIO(data))
    frames = []
    for k in range(image.n_frames):
        image.seek(k)
        frames.append(np.asarray(image.convert("L")))
    return frames


@pytest.mark.parametrize("order", ["most", "least"])
def test_gif_frame_count_and_first_and_last_frames(result, tmp_path, order):
    path = video.write_gif(
        result, 0, tmp_path / "v.gif", order=order, count=9, scale=SCALE, bounce=False
    )
    frames = gif_frames(path.read_bytes())
    assert len(frames) == 9
    index = result.index(0, order)
    a, b = result.video_ranges[index]
    np.testing.assert_array_equal(frames[0], enlarged(reference_gray(result, index, a)))
    np.testing.assert_array_equal(frames[-1], enlarged(reference_gray(result, index, b)))
    middle = np.linspace(a, b, 9)[4]
    np.testing.assert_array_equal(frames[4], enlarged(reference_gray(result, index, middle)))


def test_gif_timing_loop_and_bounce(result):
    data = video.gif_bytes(video.render_video(result, 2, count=6, scale=2), fps=10)
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == 10  # by default 6 forward, 4 back (the ends are not repeated)
    assert image.info["duration"] == 100 and image.info["loop"] == 0
    frames = gif_frames(data)
    np.testing.assert_array_equal(frames[6], frames[4])
    np.testing.assert_array_equal(frames[9], frames[1])
    # No jump at the loop: the step from the last frame to the first is one frame step.
    steps = [np.abs(frames[(k + 1) % 10].astype(int) - frames[k]).mean() for k in range(10)]
    assert steps[-1] <= 1.01 * max(steps[:-1])
    once = video.gif_bytes(video.render_video(result, 2, count=6, scale=2), bounce=False)
    assert Image.open(io.BytesIO(once)).n_frames == 6


def test_side_by_side_panels(result):
    clip = video.render_video(
        result,
        0,
        count=5,
        scale=SCALE,
        with_stimulus=True,
        with_difference=True,
        with_trace=True,
        caption="most invariant #1",
    )
    h, w = result.shape
    top, left = clip.frame_box
    gap = max(4, SCALE)
    limit = result.gray_limit(0)
    images = clip.images
    assert top > 0 and left == w * SCALE + gap
    stimulus = enlarged(to_gray_bytes(result.stimulus, limit))
    angles = np.linspace(*result.video_ranges[0], 5)
    change = np.stack([result.frame(0, t) - result.stimulus for t in angles])
    assert clip.difference_limit == pytest.approx(np.max(np.abs(change)))
    for k, angle in enumerate(angles):
        np.testing.assert_array_equal(images[k, top : top + h * SCALE, : w * SCALE], stimulus)
        box = images[k, top : top + h * SCALE, left : left + w * SCALE]
        np.testing.assert_array_equal(box, enlarged(reference_gray(result, 0, angle)))
        x = left + w * SCALE + gap
        difference = images[k, top : top + h * SCALE, x : x + w * SCALE]
        np.testing.assert_array_equal(
            difference, enlarged(to_gray_bytes(change[k], clip.difference_limit))
        )
    trace = images[:, top:, left + 2 * (w * SCALE + gap) :]
    assert np.all(images[:, top : top + h * SCALE, w * SCALE : left] == video.BACKGROUND)
    assert not np.array_equal(trace[0], trace[-1])  # the marker moves with the frame
    assert trace.min() == 0  # the curve and the axes are drawn in black
    assert images[:, :top].min() == 0  # the caption is written above the panels


def test_trace_has_axes_in_degrees():
    result = pooling_result()
    clip = video.render_video(result, 0, count=4, scale=4, with_trace=True)
    panel = clip.images[0, :, result.shape[1] * 4 + 4 :]
    dark = panel < 128
    # a vertical y axis and a horizontal x axis: a full dark column and a long dark row
    assert dark.sum(axis=0).max() > 0.6 * panel.shape[0]
    assert dark.sum(axis=1).max() > 0.6 * panel.shape[1]


def test_colour_videos_are_rgb_with_one_limit(tmp_path):
    result = as_channels(pooling_result(), 3)
    c, h, w = result.shape
    clip = video.render_video(result, 1, count=3, scale=2)
    assert clip.images.shape == (3, 2 * h, 2 * w, 3)
    limit = result.gray_limit(1)
    for k, angle in enumerate(np.linspace(*result.video_ranges[1], 3)):
        frame = result.frame(1, angle)
        expected = np.stack([to_gray_bytes(frame[ch], limit) for ch in range(3)], axis=-1)
        np.testing.assert_array_equal(clip.images[k], enlarged(expected, 2))
    path = video.write_gif(result, 1, tmp_path / "c.gif", count=3, scale=2)
    image = Image.open(path)
    assert image.n_frames == 4 and image.convert("RGB").size == (2 * w, 2 * h)
    for k in range(3):  # at most 256 colours per frame here, so the GIF holds them exactly
        assert len(np.unique(clip.images[k].reshape(-1, 3), axis=0)) <= 256
        image.seek(k)
        np.testing.assert_array_equal(np.asarray(image.convert("RGB")), clip.images[k])


def test_other_channel_counts_are_shown_channel_by_channel():
    result = as_channels(pooling_result(), 4)
    c, h, w = result.shape
    clip = video.render_video(result, 0, count=2, scale=1)
    assert clip.images.shape == (2, h, c * w + (c - 1) * CHANNEL_GAP)


def test_default_scale_enlarges_to_about_160_pixels(result):
    clip = video.render_video(result, 0, count=2)
    h, w = result.shape
    assert clip.scale == 160 // max(h, w)
    assert video.default_scale((3, 224, 224)) == 1


def test_matrix_free_results_make_videos(tmp_path):
    ends = ends_only(pooling_result(), 3)
    path = video.write_gif(ends, 0, tmp_path / "e.gif", order="least", count=3, scale=2)
    assert Image.open(path).n_frames == 4


def test_geodesic_activations_are_the_real_ones(result):
    network = TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=1, image_size=8)
    unit = network.unit(1, 1, 0)
    path = video.geodesic(result, 1, order="least", count=7)
    truth = [unit.value(frame) for frame in path.frames]
    np.testing.assert_allclose(path.activations, truth, rtol=1e-4)
    np.testing.assert_allclose(path.frames[0], result.frame(path.index, path.angles[0]))


def test_gif_write_is_atomic(result, tmp_path, monkeypatch):
    target = tmp_path / "v.gif"
    target.write_bytes(b"old")

    def broken_replace(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        video.write_gif(result, 0, target, count=3)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.gif"]


def test_bad_arguments(result, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        video.write_gif(result, 0, tmp_path / "missing" / "v.gif")
    with pytest.raises(ValueError, match="count"):
        video.render_video(result, 0, count=1)
    with pytest.raises(ValueError, match="scale"):
        video.render_video(result, 0, scale=0)
    with pytest.raises(ValueError, match="fps"):
        video.gif_bytes(video.render_video(result, 0, count=2), fps=0)
    with pytest.raises(ValueError, match="fps"):
        video.write_mp4(result, 0, tmp_path / "v.mp4", fps=0)
    with pytest.raises(ValueError, match=r"\.gif"):
        video.write_gif(result, 0, tmp_path / "v.mp4")
    with pytest.raises(TypeError, match="with_trace"):
        video.render_video(result, 0, with_trace="yes")
    with pytest.raises(TypeError, match="Invariances"):
        video.geodesic("not a result", 0)
    with pytest.raises(IndexError, match="rank"):
        video.write_gif(result, result.n_directions, tmp_path / "v.gif")


def test_mp4_without_ffmpeg_says_so(result, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="ffmpeg.*PATH.*GIF"):
        video.write_mp4(result, 0, tmp_path / "v.mp4")
    assert list(tmp_path.iterdir()) == []


def test_mp4_frames_decode_back(result, tmp_path):
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ffmpeg is not installed (apt-get install ffmpeg)")
        pytest.skip("ffmpeg is not installed")
    count = 8
    path = video.write_mp4(result, 0, tmp_path / "v.mp4", count=count, scale=SCALE, bounce=False)
    clip = video.render_video(result, 0, count=count, scale=SCALE)
    height, width = clip.images.shape[1:]
    decoded = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(decoded, dtype=np.uint8).reshape(-1, height, width)
    assert len(frames) == count
    error = np.abs(frames.astype(int) - clip.images.astype(int))
    assert error.mean() < 2.0  # lossy H.264, but the same pictures
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]


def test_videos_with_panels_say_which_direction_and_tie_they_show():
    result = pooling_result()
    tie = len(result.group_members(result.n_directions - 1))
    text = video.direction_caption(result, 0, "least")
    assert text.startswith("least invariant #1") and f"1 of {tie} tied" in text
    assert "no single image" in text
    assert "tied" not in video.direction_caption(result, 0, "most")
    assert "1 of ≥3 tied" in video.direction_caption(ends_only(result, 3), 0, "least")
    plain = video.render_video(result, 0, order="least", count=2, scale=2)
    assert plain.frame_box == (0, 0)  # a bare video carries no text
    captioned = video.render_video(result, 0, order="least", count=2, scale=2, with_stimulus=True)
    top, left = captioned.frame_box
    assert top > 0 and captioned.images[:, :top].min() == 0  # text above the panels
    bare = video.render_video(result, 0, count=2, scale=2, with_stimulus=True, caption="")
    assert bare.frame_box[0] == 0


def test_gif_stores_only_changed_pixels_and_shows_every_frame_exactly(result):
    """Each frame after the first keeps the one before (disposal 1) and stores only the
    pixels that change; the composited frames are still exactly the video's pictures."""
    clip = video.render_video(
        result, 0, count=8, scale=SCALE, with_stimulus=True, with_difference=True
    )
    data = video.gif_bytes(clip)
    shown = np.concatenate([clip.images, clip.images[-2:0:-1]])
    np.testing.assert_array_equal(np.stack(gif_frames(data)), shown)
    image = Image.open(io.BytesIO(data))
    image.seek(1)
    assert image.disposal_method == 1
    full = io.BytesIO()  # every pixel of every frame, as Pillow writes it by default
    pictures = [Image.fromarray(picture, mode="L") for picture in shown]
    pictures[0].save(full, format="GIF", save_all=True, append_images=pictures[1:])
    assert len(data) < len(full.getvalue())


@pytest.mark.parametrize("colour", [False, True])
def test_animated_png_holds_every_frame_exactly_in_fewer_bytes_than_the_gif(
    result, tmp_path, colour
):
    shown = as_channels(pooling_result(), 3) if colour else result
    options = dict(count=8, scale=SCALE, with_stimulus=True, with_difference=True)
    path = video.write_gif(shown, 0, tmp_path / "v.png", **options)
    clip = video.render_video(shown, 0, **options)
    expected = np.concatenate([clip.images, clip.images[-2:0:-1]])  # forward then back
    image = Image.open(path)
    assert image.format == "PNG" and image.n_frames == len(expected)
    assert image.info["loop"] == 0 and image.info["duration"] == pytest.approx(1000 / 12, abs=1)
    frames = []
    for k in range(image.n_frames):
        image.seek(k)
        frames.append(np.asarray(image.convert("RGB" if colour else "L")))
    np.testing.assert_array_equal(np.stack(frames), expected)  # exact, colour included
    assert path.stat().st_size < len(video.gif_bytes(clip))
