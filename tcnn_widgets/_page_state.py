"""The widget state of a one-file page, packed: its binary buffers gzip-compressed.

Packed data sit in the page as text in :data:`ALPHABET` (4 bytes as 5 characters, a
quarter more than the bytes where base64 takes a third more; :func:`encode_text`),
an 85-character alphabet of printable ASCII without ``< > & " ' / - \\`` and the
backtick, so the text can never close or confuse the ``<script>`` element that
holds it.

An embedded widget state is JSON whose binary buffers (``state[model]["buffers"]``)
are base64 text. :func:`pack_state` turns it into one gzip stream: a 4-byte
little-endian length, the JSON with each buffer's ``data`` replaced by its
``offset``, ``bytes`` and ``stride``, then the buffers' bytes, each byte-shuffled
(byte j of every element, then byte j + 1, ...: the sign and exponent bytes of
floats, which repeat, come together, so deflate finds them). The page holds it as
text in ``<script type="application/gzip;base85" id="tcnn-widget-state">``, and
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

PACKED_ID = "tcnn-widget-state"
STATE_SCRIPT = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S
)
PACKED_TYPE = "application/gzip;base85"
PACKED_SCRIPT = re.compile(
    rf'<script type="{PACKED_TYPE}" id="{PACKED_ID}">\s*(.*?)\s*</script>', re.S
)
ALPHABET = "!#$%()*+,.0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~"
_PYTHON_B85 = (
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~"
)
_TO_OURS = str.maketrans(_PYTHON_B85, ALPHABET)
_FROM_OURS = str.maketrans(ALPHABET, _PYTHON_B85)

UNPACK_STATE_JS = """
/* decode text written by tcnn_widgets._page_state.encode_text (base 85, our alphabet) */
function tcnnDecode85(text) {
  const digits = new Uint8Array(128);
  const alphabet = "@ALPHABET@";
  for (let i = 0; i < 85; i++) digits[alphabet.charCodeAt(i)] = i;
  const n = text.length, rest = n % 5;
  const out = new Uint8Array(Math.floor(n / 5) * 4 + (rest ? rest - 1 : 0));
  for (let i = 0, o = 0; i < n; i += 5, o += 4) {
    let value = 0;
    for (let j = i; j < i + 5; j++) value = value * 85 + (j < n ? digits[text.charCodeAt(j)] : 84);
    for (let k = 3; k >= 0; k--, value = Math.floor(value / 256)) {
      if (o + k < out.length) out[o + k] = value % 256;
    }
  }
  return out;
}

/* unpack the widget state (gzip, base 85; see tcnn_widgets/_page_state.py) */
async function tcnnUnpackState() {
  if (document.readyState === "loading") {
    await new Promise((done) => document.addEventListener("DOMContentLoaded", done, { once: true }));
  }
  const packed = document.getElementById("tcnn-widget-state");
  if (packed === null) return;
  const bytes = tcnnDecode85(packed.textContent.trim());
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
""".replace("@ALPHABET@", ALPHABET)
"""Defines ``tcnnUnpackState()``, which replaces the packed script by the plain state."""


def encode_text(data: bytes) -> str:
    """``data`` as text in :data:`ALPHABET`: each 4 bytes (big-endian) as 5 base-85 digits,
    a last group of n < 4 bytes as n + 1 digits (Python's ``base64.b85encode``, in our
    alphabet)."""
    return base64.b85encode(data).decode("ascii").translate(_TO_OURS)


def decode_text(text: str) -> bytes:
    """The bytes :func:`encode_text` wrote as ``text``."""
    return base64.b85decode(text.translate(_FROM_OURS).encode("ascii"))


def pack_state(state: dict[str, Any], strides: dict[tuple, int] | None = None) -> str:
    """Pack an embedded widget state into text (see the module docstring).

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
        The gzip stream, as :func:`encode_text` writes it.
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
    return encode_text(stream)


def unpack_state(packed: str) -> dict[str, Any]:
    """The embedded widget state packed by :func:`pack_state` (buffers base64 again).

    Parameters
    ----------
    packed : str
        The text.

    Returns
    -------
    dict
    """
    data = gzip.decompress(decode_text(packed))
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
    script = f'<script type="{PACKED_TYPE}" id="{PACKED_ID}">\n{packed}\n</script>'
    return snippet[: plain.start()] + script + snippet[plain.end() :]
