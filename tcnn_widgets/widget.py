"""`InvarianceExplorer`: the live notebook widget for optimal stimuli and invariances.

The widget reads `Invariances` and never recomputes maths: Python sends each
analyzed unit once as float32 buffers (see :func:`encode_unit`), and the front end
(``js/src``, bundled into ``static/widget.js``) draws every rank, angle and played
frame in the browser. Only choosing a unit that has not been analyzed yet asks
Python, which analyzes it with :func:`tcnn_widgets.analysis.analyze` and caches it.
"""

from __future__ import annotations

import base64
import gzip
import html
import inspect
import io
import os
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets
from ipywidgets.embed import dependency_state, embed_snippet
from PIL import Image

from ._page_state import PACKED_TYPE, UNPACK_STATE_JS, encode_text, pack_page_state
from ._storage import write_bytes_atomic
from ._validate import flag, input_path, output_path
from .analysis import analyze
from .pixels import to_display_bytes
from .results import Invariances

STATIC = Path(__file__).parent / "static"
PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="color-scheme" content="light dark">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 74em; margin: 1.5em auto; padding: 0 1em;
  color: CanvasText; background: Canvas; line-height: 1.4; }}
header p {{ max-width: 48em; }}
</style>
{scripts}
</head>
<body>
<header>
<h1>{title}</h1>
{back}<p>Each unit's <b>optimal stimulus</b> x* is the input of fixed norm that drives it most.
Along a tangent direction w the stimulus moves on the geodesic
x(&theta;) = cos &theta; x* + sin &theta; &rho; w. The <b>most invariant</b> directions change
the input a lot while the activation barely drops; the <b>least invariant</b> ones are what the
unit codes for. Pick a unit in the gallery, a direction with the rank slider or the spectrum,
and play its video (angles in degrees; the video runs while the activation stays above
c&middot;g*). Method: <i>docs/method.md</i> of tcnn_widgets, after Le et al., "Tiled
convolutional neural networks", NIPS 2010.</p>
</header>
<hr>
{snippet}
</body>
</html>
"""


UNPACK_SCRIPT = f"""<script>{UNPACK_STATE_JS}
/* unpack embed-amd.js (gzip, base 85) and run it once the widget state is unpacked */
(async () => {{
  const state = tcnnUnpackState();
  const bytes = tcnnDecode85(document.getElementById("tcnn-embed-amd").textContent.trim());
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const script = document.createElement("script");
  script.textContent = await new Response(stream).text();
  await state;
  document.head.append(script);
}})();
</script>"""
"""Unpacks the widget state of the page (if packed, :mod:`tcnn_widgets._page_state`) and
runs the widget manager packed in the page; it renders the widgets when the page has
loaded (at once if it already has)."""


def offline_scripts() -> str:
    """The three scripts a static widget page needs, inside the page.

    require.js and anywidget's AMD build are inlined as they are; anywidget's build is
    anonymous (``define([...], ...)``) and is defined under the module name
    ``"anywidget"``, which the widget HTML manager then finds without fetching anything.
    The HTML manager (3.6 MB of script) is stored gzip-compressed, as base-85 text
    (1.1 MB; :func:`tcnn_widgets._page_state.encode_text`), and unpacked in the
    browser with ``DecompressionStream``.

    Returns
    -------
    str
        HTML ``<script>`` elements (about 1.4 MB).
    """
    parts = []
    for name in ("require.js", "anywidget.js"):
        text = (STATIC / name).read_text(encoding="utf-8")
        if name == "anywidget.js":
            anonymous = 'define(["@jupyter-widgets/base"]'
            if text.count(anonymous) != 1:
                raise RuntimeError(f"static/{name} is not anywidget's AMD build: rebuild js/")
            text = text.replace(anonymous, 'define("anywidget", ["@jupyter-widgets/base"]')
        if "</script" in text.lower():
            raise RuntimeError(f"static/{name} contains '</script' and cannot be inlined")
        parts.append(f"<script>/* {name} */\n{text}\n</script>")
    packed = gzip.compress((STATIC / "embed-amd.js").read_bytes(), compresslevel=9, mtime=0)
    parts.append(
        f'<script type="{PACKED_TYPE}" id="tcnn-embed-amd">\n{encode_text(packed)}\n</script>'
    )
    parts.append(UNPACK_SCRIPT)
    return "\n".join(parts)


def inline_offline_scripts(path: str | os.PathLike) -> Path:
    """Make a page exported by ``jupyter nbconvert --to html`` work offline, as one file.

    Export with ``--HTMLExporter.require_js_url=require.js
    --HTMLExporter.widget_renderer_url=embed-amd.js``; this function then replaces
    require.js's ``<script src=...>`` element and nbconvert's loader of ``embed-amd.js``
    by the scripts themselves (anywidget's included), atomically, so that the page alone, copied anywhere, shows its widgets with no
    network and no files beside it.

    Parameters
    ----------
    path : path-like
        The exported ``.html`` page.

    Returns
    -------
    Path
        The page, rewritten in place.

    Raises
    ------
    ValueError
        When the page does not load ``require.js`` and ``embed-amd.js`` as above.

    Example
    -------
    >>> # jupyter nbconvert --to html --HTMLExporter.require_js_url=require.js \\
    >>> #     --HTMLExporter.widget_renderer_url=embed-amd.js explore.ipynb
    >>> inline_offline_scripts("explore.html")  # doctest: +SKIP
    """
    path = input_path(path, "path")
    page = path.read_text(encoding="utf-8")
    require = re.search(r'<script src="require\.js"></script>', page)
    loader = re.search(  # nbconvert's script that appends <script src="embed-amd.js">
        r"<script>\s*\(function\(\) \{\s*function addWidgetsRenderer\(\).*?</script>",
        page,
        flags=re.DOTALL,
    )
    if not (require and loader and "'embed-amd.js'" in loader.group()):
        raise ValueError(
            f"{path} does not load require.js and embed-amd.js from its folder: export it with "
            "jupyter nbconvert --to html --HTMLExporter.require_js_url=require.js "
            "--HTMLExporter.widget_renderer_url=embed-amd.js"
        )
    page = (
        page[: require.start()]
        + offline_scripts()
        + page[require.end() : loader.start()]
        + page[loader.end() :]
    )
    write_bytes_atomic(path, page.encode("utf-8"))
    return path


def _float32_bytes(values: Any) -> bytes:
    """Little-endian float32 bytes of an array, C order."""
    return np.ascontiguousarray(values, dtype="<f4").tobytes()


COMPACT_FIELDS = {"directions": 1, "geodesic_activations": 2}
"""Bytes per element of the arrays that a compact explorer sends smaller: the directions
as int8 steps of a scale of their own (``direction_scales``), the activations along the
geodesics as float16."""


def _float16_bytes(values: Any) -> bytes:
    """Little-endian float16 bytes of an array, C order."""
    return np.ascontiguousarray(values, dtype="<f2").tobytes()


def _int8_steps(directions: np.ndarray) -> tuple[bytes, bytes]:
    """Directions (m, ...) as int8 steps, each of its own scale: ``(steps, scales)``.

    Direction i is ``steps[i] * scales[i]``: its largest entry is 127 steps, so an entry
    is within half a step (1/254 of the largest) of its value. The scales are float32.
    """
    flat = np.asarray(directions, dtype=np.float64).reshape(len(directions), -1)
    scales = np.abs(flat).max(axis=1).astype(np.float32) / np.float32(127)
    scales[scales == 0] = 1  # a zero direction: any scale
    steps = np.rint(flat / scales.astype(np.float64)[:, None]).astype("i1")
    return steps.tobytes(), _float32_bytes(scales)


def check_result(result: Invariances, where: str) -> None:
    """Check that ``result`` is an `Invariances` whose arrays fit its stimulus shape.

    Parameters
    ----------
    result : Invariances
        The result to check (its arrays may have been edited since it was made).
    where : str
        How to name the result in the error message, e.g. ``"results[3]"``.
    """
    if not isinstance(result, Invariances):
        raise TypeError(f"{where} is a {type(result).__name__}, expected an Invariances")
    result.check_shapes(where)


def encode_unit(result: Invariances, compact: bool = False) -> dict[str, Any]:
    """The record that the front end receives for one analyzed unit.

    Numbers are plain JSON; arrays are little-endian float32 bytes (``groups``:
    int32), decoded by ``js/src/buffers.js``. ``gray_limits[i]`` is
    ``result.gray_limits()[i]``, the fixed scale of direction ``i``'s video (shared by
    all channels). A gray ``(h, w)`` stimulus has ``channels`` 1. ``complete`` is False
    when only the 2k end directions are kept; ``ends_tied`` says, for [most, least]
    invariant end, whether that end is one tie that may extend beyond what was kept.
    Unnamed results send empty ``labels``. With ``compact``, ``directions`` are int8
    steps of a float32 scale per direction (``direction_scales``; a quarter of the
    bytes) and ``geodesic_activations`` float16 (half); a frame then differs from
    Python's by at most one gray level (measured on the demo's units, like float16),
    where float32 moves none. Only compact records have ``direction_scales``.

    Parameters
    ----------
    result : Invariances
        An analyzed unit.

    Returns
    -------
    dict
        The wire record.
    """
    channels, h, w = (1, *result.shape) if len(result.shape) == 2 else result.shape
    named = result.labels is not None and result.label_fractions is not None
    if compact:
        directions, scales = _int8_steps(result.directions)
        direction_fields = {"directions": directions, "direction_scales": scales}
    else:
        direction_fields = {"directions": _float32_bytes(result.directions)}
    return {
        "name": str(result.name),
        "error": "",
        "channels": int(channels),
        "height": int(h),
        "width": int(w),
        "activation": float(result.activation),
        "threshold": float(result.threshold),
        "video_level": float(result.video_level),
        "radius": float(result.radius),
        "complete": bool(result.complete),
        "ends_tied": [bool(tied) for tied in result.ends_tied],
        "stimulus": _float32_bytes(result.stimulus),
        "compact": bool(compact),
        **direction_fields,  # COMPACT_FIELDS
        "curvatures": _float32_bytes(result.curvatures),
        "groups": np.ascontiguousarray(result.groups, dtype="<i4").tobytes(),
        "video_ranges": _float32_bytes(result.video_ranges),
        "gray_limits": _float32_bytes(result.gray_limits()),
        "geodesic_angles": _float32_bytes(result.geodesic_angles),
        "geodesic_activations": (_float16_bytes if compact else _float32_bytes)(
            result.geodesic_activations
        ),
        "labels": [str(label) for label in result.labels] if named else [],
        "label_fractions": _float32_bytes(result.label_fractions if named else np.zeros(0)),
        "label_centres": _float32_bytes(
            result.label_centres if named and result.label_centres is not None else np.zeros(0)
        ),
    }


class InvarianceExplorer(anywidget.AnyWidget):
    """Explore the optimal stimuli and invariances of units in a notebook.

    Shows the stimulus ``x(θ) = cos θ x* + sin θ ρ w`` for a chosen unit, rank and
    angle, with sliders, a most/least-invariant-first switch, play/pause over the
    direction's video range, a gallery of all units' optimal stimuli, the curvature
    spectrum and the activation along the geodesic.

    Parameters
    ----------
    network_or_results : network, Invariances, sequence of Invariances, or dict
        Precomputed results (one per unit), or a network: an object whose
        ``unit_types()`` returns the units, analyzed in a background thread (the one
        shown first) and cached. A network whose ``layers`` count more than one and
        whose ``unit_types(layer=...)`` takes a layer shows each layer as a group. A
        dict of named networks or result lists, e.g. ``{"pretrained": net, "random":
        other}``, shows each as a named group; the gallery separates groups and a
        selector switches between them. Units of different stimulus shapes may mix.
    unit, rank, angle, order
        The initial selection: unit index, rank (0-based, in ``order``), angle in
        radians, and ``"most"`` or ``"least"`` invariant first.
    analysis_options : dict, optional
        Keyword arguments for :func:`tcnn_widgets.analysis.analyze` (networks only),
        e.g. ``{"seed": 0, "restarts": 4}``.
    background : bool
        Analyze the units of networks in a background thread from the start, so that
        the gallery fills with every unit's optimal stimulus (sent in a few batches).
        With False, a unit is analyzed when first shown (or by :meth:`analyze_all`).
    compact : bool
        Send the directions as int8 steps (a scale for each) and the activations along
        the geodesics as float16: about a third of the data, for pages of many units
        (:meth:`to_html`). Frames then match Python's to within one gray level.

    Example
    -------
    >>> explorer = InvarianceExplorer({"pretrained": tw.load_pretrained(),
    ...                                "random": tw.TiledCNN.random(16, 2, 8, 3, seed=0)})
    >>> explorer  # doctest: +SKIP

    Attributes
    ----------
    units : list
        One record per unit (see :func:`encode_unit`); ``None`` while not analyzed,
        ``{"name", "error"}`` when the analysis failed.
    groups : list of dict
        ``{"name", "start", "stop"}``: the units ``start..stop-1`` form a named group
        (one network or layer).
    unit, rank, angle, order, playing
        The synced selection. The front end clamps rank and angle into range.
    """

    _esm = STATIC / "widget.js"

    units = traitlets.List(help="one wire record (or None) per unit").tag(sync=True)
    groups = traitlets.List(help="named groups of units: name, start, stop").tag(sync=True)
    unit = traitlets.Int(0, help="index of the unit shown").tag(sync=True)
    rank = traitlets.Int(0, help="rank of the direction, in the chosen order").tag(sync=True)
    order = traitlets.Unicode("most", help="'most' or 'least' invariant first").tag(sync=True)
    angle = traitlets.Float(0.0, help="geodesic angle in radians").tag(sync=True)
    playing = traitlets.Bool(False, help="the invariance video is playing").tag(sync=True)

    def __init__(
        self,
        network_or_results: Any,
        *,
        unit: int = 0,
        rank: int = 0,
        angle: float = 0.0,
        order: str = "most",
        analysis_options: dict[str, Any] | None = None,
        background: bool = True,
        compact: bool = False,
    ) -> None:
        results, units, groups = _sources(network_or_results)
        if all(source is None for source in units) and analysis_options:
            raise ValueError(
                "analysis_options apply only to a network; these results are precomputed"
            )
        self._network_units = units
        self._analysis_options = {"progress": False, **(analysis_options or {})}
        try:
            inspect.signature(analyze).bind(None, **self._analysis_options)
        except TypeError as error:
            raise TypeError(f"analysis_options do not fit tcnn_widgets.analyze: {error}") from None
        self._cache: list[Invariances | None] = results
        self._errors: dict[int, str] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._compact = flag(compact, "compact")
        records = [None if r is None else encode_unit(r, self._compact) for r in self._cache]
        super().__init__(
            units=records, groups=groups, unit=unit, rank=rank, angle=angle, order=order
        )
        self._ensure_analyzed(self.unit)
        self._thread = None
        if flag(background, "background") and None in self._cache:
            self._thread = threading.Thread(
                target=self._analyze_in_background, name="InvarianceExplorer", daemon=True
            )
            self._thread.start()

    def __repr__(self) -> str:
        return (
            f"InvarianceExplorer({len(self._cache)} units, unit={self.unit}, rank={self.rank}, "
            f"order={self.order!r}, angle={self.angle:.4g})"
        )

    # ---- selection ------------------------------------------------------------------
    @traitlets.validate("unit")
    def _validate_unit(self, proposal: dict) -> int:
        unit = proposal["value"]
        if not 0 <= unit < len(self._cache):
            raise IndexError(
                f"unit {unit} is out of range: this explorer has units 0..{len(self._cache) - 1}"
            )
        return unit

    @traitlets.validate("order")
    def _validate_order(self, proposal: dict) -> str:
        if proposal["value"] not in ("most", "least"):
            raise ValueError(f"order must be 'most' or 'least', got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.validate("angle")
    def _validate_angle(self, proposal: dict) -> float:
        if not np.isfinite(proposal["value"]):
            raise ValueError(f"angle must be a finite number of radians, got {proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe("unit")
    def _unit_changed(self, change: dict) -> None:
        self._ensure_analyzed(change["new"])

    # ---- results ----------------------------------------------------------------------
    def _ensure_analyzed(self, unit: int, send: bool = True) -> bool:
        """Analyze ``unit`` if it is neither cached nor failed; send the records if asked.

        Returns True when this call analyzed the unit.
        """
        with self._lock:
            if self._cache[unit] is not None or unit in self._errors:
                return False
            source = self._network_units[unit]
            try:
                result = analyze(source, **self._analysis_options)
            except Exception as error:  # shown in the widget instead of a blank area
                self._errors[unit] = f"{type(error).__name__}: {error}"
            else:
                self._cache[unit] = result
            if send:
                self._send_records()
            return True

    def _send_records(self) -> None:
        """Send the records of every unit analyzed so far (one message)."""
        with self._lock:
            records = list(self.units)
            for unit, result in enumerate(self._cache):
                if result is not None and records[unit] is None:
                    records[unit] = encode_unit(result, self._compact)
                elif unit in self._errors and records[unit] is None:
                    name = str(getattr(self._network_units[unit], "name", ""))
                    records[unit] = {"name": name, "error": self._errors[unit]}
            if records != self.units:
                self.units = records

    def _analyze_in_background(self, batch_seconds: float = 0.5) -> None:
        """Analyze every pending unit, sending what is done every ``batch_seconds``."""
        last = time.monotonic()
        for unit in range(len(self._cache)):
            if self._stop.is_set():
                return
            if self._ensure_analyzed(unit, send=False) and time.monotonic() - last > batch_seconds:
                self._send_records()
                last = time.monotonic()
        if not self._stop.is_set():
            self._send_records()

    def close(self) -> None:
        """Stop the background analysis and close the widget."""
        stop = getattr(self, "_stop", None)  # absent when __init__ failed
        if stop is not None:
            stop.set()
        super().close()

    def result(self, unit: int | None = None) -> Invariances:
        """The analysis of a unit (the current one by default), analyzing it if needed.

        Raises
        ------
        IndexError
            When ``unit`` is out of range.
        RuntimeError
            When the analysis of the unit failed.
        """
        unit = self.unit if unit is None else unit
        if not 0 <= unit < len(self._cache):
            raise IndexError(
                f"unit {unit} is out of range: this explorer has units 0..{len(self._cache) - 1}"
            )
        self._ensure_analyzed(unit)
        if unit in self._errors:
            raise RuntimeError(f"the analysis of unit {unit} failed: {self._errors[unit]}")
        return self._cache[unit]

    def analyze_all(self) -> None:
        """Analyze every unit that is not cached yet (sends one update)."""
        for unit in range(len(self._cache)):
            self._ensure_analyzed(unit, send=False)
        self._send_records()

    def selection(self) -> tuple[Invariances, int, float]:
        """The current unit's result, direction index and angle, clamped as the front end does.

        Returns
        -------
        result : Invariances
        index : int
            Index of the chosen direction in the stored (most invariant first) order.
        angle : float
            The angle clamped into the direction's video range.
        """
        result = self.result()
        rank = min(max(self.rank, 0), result.n_directions - 1)
        index = result.index(rank, self.order)
        start, stop = result.video_ranges[index]
        return result, index, float(min(max(self.angle, start), stop))

    def current_frame(self) -> np.ndarray:
        """The stimulus shown now, ``cos θ x* + sin θ ρ w`` (float64, the stimulus shape)."""
        result, index, angle = self.selection()
        return result.frame(index, angle)

    def frame_png(self, size: int = 256) -> bytes:
        """PNG of the current frame on its video's scale, enlarged without smoothing.

        Gray, RGB for three channels, or channel tiles (:func:`tcnn_widgets.pixels.to_display_bytes`).

        Parameters
        ----------
        size : int
            Approximate length of the longer side in pixels (an integer multiple of the
            stimulus size is used).
        """
        result, index, angle = self.selection()
        shown = to_display_bytes(result.frame(index, angle), result.gray_limit(index))
        scale = max(1, size // max(shown.shape[:2]))
        image = Image.fromarray(shown)
        image = image.resize(
            (shown.shape[1] * scale, shown.shape[0] * scale), Image.Resampling.NEAREST
        )
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict]:
        """The widget view plus a PNG of the current frame for where widgets cannot run."""
        data, metadata = super()._repr_mimebundle_(**kwargs)
        try:
            data["image/png"] = base64.b64encode(self.frame_png()).decode("ascii")
        except RuntimeError as error:
            data["text/plain"] = f"{data['text/plain']}\n{error}"
        return data, metadata

    # ---- static page ------------------------------------------------------------------
    def to_html(
        self,
        path: str | os.PathLike,
        *,
        title: str = "Invariance explorer",
        report: str | None = None,
    ) -> Path:
        """Write ONE self-contained page whose controls all work without a kernel or network.

        All units are analyzed first and embedded, with the three scripts the page needs
        (require.js, anywidget and the widget HTML manager) inlined: the file alone,
        copied to another folder or machine, works offline. It is written atomically.

        Parameters
        ----------
        path : path-like
            The ``.html`` file to write; its folder must exist.
        title : str
            The page title and heading.
        report : str, optional
            The address of a report to link back to (e.g. ``"index.html"``).

        Returns
        -------
        Path
            The page written.

        Example
        -------
        >>> explorer.to_html("explorer.html", report="index.html")  # doctest: +SKIP
        """
        path = output_path(path, "path", suffixes=(".html", ".htm"))  # before the analysis
        if not isinstance(title, str):
            raise TypeError(f"title must be a str, got {title!r}")
        if report is not None and not isinstance(report, str):
            raise TypeError(f"report must be a str (an address) or None, got {report!r}")
        self.analyze_all()
        snippet = embed_snippet(
            [self],
            drop_defaults=False,
            state=dependency_state([self], drop_defaults=False),
            embed_url="embed-amd.js",
            requirejs=False,
            cors=False,
        )
        snippet = re.sub(r'<script src="embed-amd.js"></script>\s*', "", snippet)
        snippet = pack_page_state(snippet, self._element_sizes())
        back = (
            ""
            if report is None
            else f'<p><a href="{html.escape(report)}">Back to the report</a></p>\n'
        )
        page = PAGE_TEMPLATE.format(
            title=html.escape(title), back=back, scripts=offline_scripts(), snippet=snippet
        )
        write_bytes_atomic(path, page.encode("utf-8"))
        return path

    def _element_sizes(self) -> dict[tuple, int]:
        """Bytes per element of this widget's compact buffers, by ``(model_id, *path)``
        (the others are 4-byte float32 or int32), for packing the page state."""
        if not self._compact:
            return {}
        return {
            (self.model_id, "units", unit, name): size
            for unit in range(len(self.units))
            for name, size in COMPACT_FIELDS.items()
        }


def _sources(network_or_results: Any) -> tuple[list, list, list[dict]]:
    """Flatten the explorer's input into results, unit sources and named groups.

    Returns
    -------
    results : list of Invariances or None
        One per unit; None for a unit of a network, analyzed later.
    units : list
        The unit to analyze for each entry; None for a precomputed result.
    groups : list of dict
        ``{"name", "start", "stop"}`` per group; empty for one unnamed group.
    """
    if isinstance(network_or_results, dict):
        if not network_or_results:
            raise ValueError("network_or_results is an empty dict: name at least one network")
        parts = []
        for name, value in network_or_results.items():
            if not isinstance(name, str):
                raise TypeError(f"group names must be str, got {name!r}")
            for part, entries in _parts(value, f"network_or_results[{name!r}]"):
                parts.append((f"{name}, {part}" if part else name, entries))
    else:
        parts = _parts(network_or_results, "network_or_results")
    results, units, groups = [], [], []
    for name, entries in parts:
        groups.append({"name": name, "start": len(results), "stop": len(results) + len(entries)})
        for entry in entries:
            precomputed = isinstance(entry, Invariances)
            results.append(entry if precomputed else None)
            units.append(None if precomputed else entry)
    return results, units, groups if len(groups) > 1 else []


def _parts(value: Any, where: str) -> list[tuple[str, list]]:
    """(group name, results or units) of one network (one part per layer) or result list."""
    if isinstance(value, Invariances):
        return [("", [value])]
    if callable(getattr(value, "unit_types", None)):
        layers = getattr(value, "layers", 1)
        count = layers if isinstance(layers, int) else len(layers)
        if count > 1 and "layer" in inspect.signature(value.unit_types).parameters:
            parts = [
                (f"layer {layer}", list(value.unit_types(layer=layer)))
                for layer in range(1, count + 1)
            ]
        else:
            parts = [("", list(value.unit_types()))]
        if not any(units for _, units in parts):
            raise ValueError(
                f"{where}: the network has no units (unit_types() returned an empty list)"
            )
        return [(name, units) for name, units in parts if units]
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        results = list(value)
        if not results:
            raise ValueError(f"{where} is empty: pass at least one Invariances")
        for i, result in enumerate(results):
            check_result(result, f"{where}[{i}]")
        return [("", results)]
    raise TypeError(
        f"{where} must be a network (with unit_types()), an Invariances, a list of "
        f"Invariances, or a dict of those, got {type(value).__name__}"
    )
