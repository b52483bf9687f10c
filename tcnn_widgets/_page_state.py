"""The widget state of a one-file page, packed: its binary buffers gzip-compressed.

An embedded widget state is JSON whose binary buffers (``state[model]["buffers"]``)
are base64 text. :func:`pack_state` turns it into one gzip stream: a 4-byte
little-endian length, the JSON with each buffer's ``data`` replaced by its
``offset``, ``bytes`` and ``stride``, then the buffers' bytes, each byte-shuffled
(byte j of every element, then byte j + 1, ...: the sign and exponent bytes of
floats, which repeat, come together, so deflate finds them). The page holds it as
base64 in ``<script type="application/gzip;base64" id="tcnn-widget-state">``, and
:data:`UNPACK_STATE_JS` restores the ordinary state script in the browser, before the
widget manager starts. :func:`unpack_state` is the same inverse in Python.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import struct
from typing import Any

import numpy as np

STATE_TYPE = "application/vnd.jupyter.widget-state+json"
PACKED_ID = "tcnn-widget-state"
STATE_SCRIPT = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S
)
PACKED_SCRIPT = re.compile(
    rf'<script type="application/gzip;base64" id="{PACKED_ID}">\s*(.*?)\s*</script>', re.S
)

UNPACK_STATE_JS = """
/* unpack the widget state (gzip, base64; see tcnn_widgets/_page_state.py) */
async function tcnnUnpackState() {
  if (document.readyState === "loading") {
    await new Promise((done) => document.addEventListener("DOMContentLoaded", done, { once: true }));
  }
  const packed = document.getElementById("tcnn-widget-state");
  if (packed === null) return;
  const bytes = Uint8Array.from(atob(packed.textContent.trim()), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const data = new Uint8Array(await new Response(stream).arrayBuffer());
  const length = new DataView(data.buffer).getUint32(0, true);
  const state = JSON.parse(new TextDecoder().decode(data.subarray(4, 4 + length)));
  const blob = data.subarray(4 + length);
  for (const model of Object.values(state.state)) {
    for (const buffer of model.buffers || []) {
      const shuffled = blob.subarray(buffer.offset, buffer.offset + buffer.bytes);
      const stride = buffer.stride, count = buffer.bytes / stride, plain = new Uint8Array(buffer.bytes);
      for (let j = 0; j < stride; j++) {
        for (let i = 0; i < count; i++) plain[i * stride + j] = shuffled[j * count + i];
      }
      let text = "";
      for (let i = 0; i < plain.length; i += 0x8000) {
        text += String.fromCharCode.apply(null, plain.subarray(i, i + 0x8000));
      }
      buffer.data = btoa(text);
      delete buffer.offset; delete buffer.bytes; delete buffer.stride;
    }
  }
  const script = document.createElement("script");
  script.type = "application/vnd.jupyter.widget-state+json";
  script.textContent = JSON.stringify(state);
  packed.replaceWith(script);
}
"""
"""Defines ``tcnnUnpackState()``, which replaces the packed script by the plain state."""


def pack_state(state: dict[str, Any], strides: dict[tuple, int] | None = None) -> str:
    """Pack an embedded widget state into base64 text (see the module docstring).

    Parameters
    ----------
    state : dict
        The embedded state (``{"version_major", ..., "state": {model_id: {...}}}``),
        its buffers base64-encoded. It is not modified.
    strides : dict, optional
        Element size in bytes of a buffer, by ``(model_id, *path)``; 4 (float32 or
        int32) for the others. Any stride is lossless; the right one compresses best.

    Returns
    -------
    str
        Base64 text of the gzip stream.
    """
    strides = strides or {}
    packed = json.loads(json.dumps(state))
    chunks, offset = [], 0
    for model_id, model in packed["state"].items():
        for buffer in model.get("buffers", []):
            if buffer.get("encoding") != "base64":
                raise ValueError(f"buffer {buffer['path']} of {model_id} is not base64")
            raw = base64.b64decode(buffer.pop("data"))
            stride = strides.get((model_id, *buffer["path"]), 4)
            if len(raw) % stride:
                stride = 1
            chunks.append(np.frombuffer(raw, np.uint8).reshape(-1, stride).T.tobytes())
            buffer.update(offset=offset, bytes=len(raw), stride=stride)
            offset += len(raw)
    text = json.dumps(packed, separators=(",", ":")).encode("utf-8")
    stream = gzip.compress(
        b"".join([struct.pack("<I", len(text)), text, *chunks]), compresslevel=9, mtime=0
    )
    return base64.b64encode(stream).decode("ascii")


def unpack_state(packed: str) -> dict[str, Any]:
    """The embedded widget state packed by :func:`pack_state` (buffers base64 again).

    Parameters
    ----------
    packed : str
        The base64 text.

    Returns
    -------
    dict
    """
    data = gzip.decompress(base64.b64decode(packed))
    (length,) = struct.unpack("<I", data[:4])
    state = json.loads(data[4 : 4 + length].decode("utf-8"))
    blob = data[4 + length :]
    for model in state["state"].values():
        for buffer in model.get("buffers", []):
            start, size, stride = buffer.pop("offset"), buffer.pop("bytes"), buffer.pop("stride")
            shuffled = np.frombuffer(blob[start : start + size], np.uint8)
            plain = shuffled.reshape(stride, -1).T.tobytes()
            buffer["data"] = base64.b64encode(plain).decode("ascii")
    return state


def page_state(text: str) -> dict[str, Any]:
    """The widget state embedded in an HTML page, packed or plain.

    Parameters
    ----------
    text : str
        The page's HTML.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        When the page holds no widget state.
    """
    packed = PACKED_SCRIPT.search(text)
    if packed:
        return unpack_state(packed.group(1))
    plain = STATE_SCRIPT.search(text)
    if plain is None:
        raise ValueError("the page holds no widget state")
    return json.loads(plain.group(1))


def pack_page_state(snippet: str, strides: dict[tuple, int] | None = None) -> str:
    """Replace the plain widget-state script of an embed snippet by its packed form.

    Parameters
    ----------
    snippet : str
        HTML from :func:`ipywidgets.embed.embed_snippet`.
    strides : dict, optional
        As for :func:`pack_state`.

    Returns
    -------
    str
    """
    plain = STATE_SCRIPT.search(snippet)
    if plain is None:
        raise ValueError("the snippet holds no widget state")
    packed = pack_state(json.loads(plain.group(1)), strides)
    script = f'<script type="application/gzip;base64" id="{PACKED_ID}">\n{packed}\n</script>'
    return snippet[: plain.start()] + script + snippet[plain.end() :]
