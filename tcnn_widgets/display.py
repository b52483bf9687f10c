"""Inline display of an `Invariances` result in a notebook.

:func:`invariances_png` is the rich PNG representation (it also shows in static
exports and on GitHub); :func:`invariances_html` is a small animated player that
needs no network and no kernel: the frames are embedded as gray bytes computed
by the shared gray rule, so its canvas shows exactly the pixels of the figures
and GIFs.
"""

from __future__ import annotations

import base64
import html
import io
import json
import uuid

import numpy as np
from matplotlib.figure import Figure

from .figures import FONT_SIZE, curvature_spectrum, invariance_strips, show_frame
from .pixels import to_gray_bytes
from .results import Invariances
from .selection import caption, choose_directions, geodesic


def summary_figure(inv: Invariances, *, top: int = 2, frames: int = 6) -> Figure:
    """One figure: the optimal stimulus, the curvature spectrum and invariance strips.

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    top, frames
        As for :func:`tcnn_widgets.figures.invariance_strips`.

    Returns
    -------
    Figure
    """
    fig = Figure(figsize=(10.5, 4.6), dpi=100, layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1.0, 1.7])
    stimulus_ax, spectrum_ax = left.subplots(2, 1, height_ratios=[1.0, 1.4])
    show_frame(stimulus_ax, inv.stimulus, max(float(np.max(np.abs(inv.stimulus))), 1e-300))
    stimulus_ax.set_title(f"optimal stimulus x*, g* = {inv.activation:.4g}", fontsize=FONT_SIZE)
    curvature_spectrum(inv, ax=spectrum_ax)
    spectrum_ax.set_title("curvature spectrum", fontsize=FONT_SIZE)
    invariance_strips(inv, top=top, frames=frames, fig=right)
    return fig


def invariances_png(inv: Invariances) -> bytes:
    """The PNG shown for an `Invariances` in a notebook (see :func:`summary_figure`).

    Parameters
    ----------
    inv : Invariances
        The analysis result.

    Returns
    -------
    bytes
        A PNG file.
    """
    buffer = io.BytesIO()
    summary_figure(inv).savefig(buffer, format="png")
    return buffer.getvalue()


def invariances_mimebundle(inv: Invariances) -> dict[str, bytes | str]:
    """Both inline representations, rendering the PNG once.

    For ``Invariances._repr_mimebundle_``: ``{"image/png": ..., "text/html": ...}``,
    the HTML player carrying the same PNG as its still fallback.
    """
    png = invariances_png(inv)
    return {"image/png": png, "text/html": invariances_html(inv, fallback=png)}


def player_data(inv: Invariances, *, top: int = 4, count: int = 32) -> dict:
    """What the HTML player shows: frames of the ``top`` most and least invariant directions.

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    top : int
        Directions from each end of the spectrum (no direction appears twice).
    count : int
        Frames per direction.

    Returns
    -------
    dict
        JSON-ready: ``height``, ``width``, ``activation``, ``threshold`` and
        ``directions``, a list of dicts with ``label``, ``curvature``, ``group_size``,
        ``angles``, ``activations``, ``limit``, ``stimulus`` and ``frames`` (base64 of
        the gray bytes, row-major, frame after frame; ``stimulus`` is x* on that
        direction's gray scale).
    """
    directions = []
    for row in choose_directions(inv, top):
        path = geodesic(inv, row.rank, order=row.order, count=count)
        label = caption(inv, row)
        directions.append(
            {
                "label": label,
                "curvature": path.curvature,
                "group_size": path.group_size,
                "angles": np.round(path.angles, 6).tolist(),
                "activations": np.round(path.activations, 6).tolist(),
                "limit": path.limit,
                "stimulus": _base64(to_gray_bytes(inv.stimulus, path.limit)),
                "frames": _base64(path.gray),
            }
        )
    h, w = inv.shape
    return {
        "name": inv.name,
        "height": h,
        "width": w,
        "activation": inv.activation,
        "threshold": inv.threshold,
        "level": inv.video_level,
        "directions": directions,
    }


def invariances_html(
    inv: Invariances,
    *,
    top: int = 4,
    count: int = 32,
    fps: float = 12.0,
    fallback: bytes | bool = True,
) -> str:
    """A self-contained animated player of the invariance videos (no network, no kernel).

    Shows the optimal stimulus, the moving frame and the activation along the path,
    with a direction menu, a play/pause button and an angle slider. The frames are
    embedded as gray bytes by the shared gray rule; the canvases are 1 pixel per
    stimulus pixel, enlarged by CSS without smoothing.

    Parameters
    ----------
    inv : Invariances
        The analysis result.
    top, count
        As for :func:`player_data`.
    fps : float
        Playback speed in frames per second.
    fallback : bool or bytes
        Put a still picture (the PNG of :func:`invariances_png`, as a data URI) in
        the fragment, shown where scripts do not run (GitHub, sanitized viewers) and
        replaced by the player where they do. Pass the PNG bytes to reuse an already
        rendered one, or False for none.

    Returns
    -------
    str
        An HTML fragment (a ``div`` and an inline ``script``).
    """
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    data = player_data(inv, top=top, count=count)
    uid = "tcnn-player-" + uuid.uuid4().hex
    h, w = data["height"], data["width"]
    zoom = max(1, 160 // max(h, w))
    size = f"width:{w * zoom}px;height:{h * zoom}px;image-rendering:pixelated;"
    options = "".join(
        f'<option value="{i}">{html.escape(d["label"])}</option>'
        for i, d in enumerate(data["directions"])
    )
    payload = json.dumps(data).replace("<", "\\u003c")
    if fallback is True:
        fallback = invariances_png(inv)
    still = ""
    if fallback:
        source = "data:image/png;base64," + base64.b64encode(fallback).decode("ascii")
        still = (
            f'<img class="fallback" src="{source}" alt="invariances of {html.escape(inv.name)}">'
        )
    return f"""<div id="{uid}" class="tcnn-player" style="font:13px sans-serif;">{still}
<div class="player" style="display:none">
<div style="font-weight:bold;margin-bottom:4px">{html.escape(inv.name or "unit")}:
invariance videos (g* = {inv.activation:.4g})</div>
<div style="display:flex;gap:12px;align-items:flex-start">
<div><canvas class="stimulus" width="{w}" height="{h}" style="{size}"></canvas>
<div>optimal stimulus x*</div></div>
<div><canvas class="frame" width="{w}" height="{h}" style="{size}"></canvas>
<div class="readout"></div></div>
<svg class="trace" width="240" height="{h * zoom}" style="border:1px solid #aaa"></svg>
</div>
<div style="margin-top:6px"><select class="direction">{options}</select>
<button class="play" type="button">pause</button>
<input class="angle" type="range" min="0" max="{count - 1}" value="0" style="width:240px"></div>
</div></div>
<script>
(function () {{
  const root = document.getElementById("{uid}");
  const data = {payload};
  const fps = {float(fps)};
{_PLAYER_JS}
}})();
</script>"""


_PLAYER_JS = """
  const still = root.querySelector("img.fallback");
  if (still) still.remove();
  root.querySelector("div.player").style.display = "";
  const h = data.height, w = data.width;
  const stimulus = root.querySelector("canvas.stimulus");
  const frame = root.querySelector("canvas.frame");
  const readout = root.querySelector(".readout");
  const trace = root.querySelector("svg.trace");
  const menu = root.querySelector("select.direction");
  const play = root.querySelector("button.play");
  const slider = root.querySelector("input.angle");
  const decoded = data.directions.map((d) => ({
    stimulus: bytesOf(d.stimulus),
    frames: bytesOf(d.frames),
  }));
  let direction = 0, index = 0, step = 1, playing = true;
  let dot = null, toX = null, toY = null;  // set by drawTrace for the chosen direction

  function bytesOf(text) {
    const raw = atob(text);
    const out = new Uint8ClampedArray(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function paint(canvas, gray, offset) {
    const context = canvas.getContext("2d");
    const image = context.createImageData(w, h);
    for (let p = 0; p < w * h; p++) {
      const v = gray[offset + p];
      image.data[4 * p] = v; image.data[4 * p + 1] = v; image.data[4 * p + 2] = v;
      image.data[4 * p + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }
  function drawTrace() {
    const d = data.directions[direction];
    const W = trace.width.baseVal.value, H = trace.height.baseVal.value, m = 6;
    const level = data.level;
    const low = Math.min(level, ...d.activations), high = Math.max(data.activation, ...d.activations);
    const a = d.angles[0], b = d.angles[d.angles.length - 1];
    const x = (t) => m + ((t - a) / (b - a || 1)) * (W - 2 * m);
    const y = (g) => H - m - ((g - low) / (high - low || 1)) * (H - 2 * m);
    const points = d.angles.map((t, i) => x(t) + "," + y(d.activations[i])).join(" ");
    trace.innerHTML =
      '<line x1="' + m + '" x2="' + (W - m) + '" y1="' + y(level) + '" y2="' + y(level) +
      '" stroke="#999" stroke-dasharray="3,3"/>' +
      '<polyline fill="none" stroke="black" points="' + points + '"/>' +
      '<circle class="dot" r="4" fill="#c00"/>';
    dot = trace.querySelector("circle.dot");
    toX = x; toY = y;
  }
  function show() {
    const d = data.directions[direction];
    paint(frame, decoded[direction].frames, index * w * h);
    dot.setAttribute("cx", toX(d.angles[index]));
    dot.setAttribute("cy", toY(d.activations[index]));
    const degrees = (d.angles[index] * 180 / Math.PI).toFixed(1);
    readout.textContent = "t = " + degrees + "°, g = " + d.activations[index].toPrecision(4);
    slider.value = index;
  }
  function choose(i) {
    direction = i; index = 0; step = 1;
    paint(stimulus, decoded[direction].stimulus, 0);
    drawTrace();
    show();
  }
  menu.addEventListener("change", () => choose(Number(menu.value)));
  slider.addEventListener("input", () => { index = Number(slider.value); show(); });
  play.addEventListener("click", () => {
    playing = !playing;
    play.textContent = playing ? "pause" : "play";
  });
  const count = data.directions[0].angles.length;
  const timer = setInterval(() => {
    if (!root.isConnected) { clearInterval(timer); return; }
    if (!playing) return;
    if (index + step < 0 || index + step >= count) step = -step;
    index += step;
    show();
  }, 1000 / fps);
  choose(0);
"""


def _base64(gray: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(gray, dtype=np.uint8).tobytes()).decode("ascii")
