"""`InvarianceExplorer`: the live notebook widget for optimal stimuli and invariances.

The widget reads `Invariances` and never recomputes maths: Python sends each
analyzed unit once as float32 buffers (see :func:`encode_unit`), and the front end
(``js/src``, bundled into ``static/widget.js``) draws every rank, angle and played
frame in the browser. Only choosing a unit that has not been analyzed yet asks
Python, which analyzes it with :func:`tcnn_widgets.analysis.analyze` and caches it.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets
from ipywidgets.embed import dependency_state, embed_snippet
from PIL import Image

from ._storage import write_bytes_atomic
from ._validate import input_path, output_path
from .analysis import analyze
from .pixels import to_gray_bytes
from .results import Invariances

STATIC = Path(__file__).parent / "static"
OFFLINE_FILES = ("require.js", "anywidget.js", "embed-amd.js")
"""The scripts a static widget page needs, in load order: require.js, anywidget's AMD
build and the widget HTML manager (``@jupyter-widgets/html-manager``)."""

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


def offline_scripts() -> str:
    """The three scripts a static widget page needs, as inline ``<script>`` elements.

    anywidget's AMD build is anonymous (``define([...], ...)``); inline it is defined
    under the module name ``"anywidget"``, which the widget HTML manager then finds
    without fetching anything.

    Returns
    -------
    str
        HTML with require.js, anywidget and the HTML manager inlined (about 3.7 MB).
    """
    parts = []
    for name in OFFLINE_FILES:
        text = (STATIC / name).read_text(encoding="utf-8")
        if name == "anywidget.js":
            anonymous = 'define(["@jupyter-widgets/base"]'
            if text.count(anonymous) != 1:
                raise RuntimeError(f"static/{name} is not anywidget's AMD build: rebuild js/")
            text = text.replace(anonymous, 'define("anywidget", ["@jupyter-widgets/base"]')
        if "</script" in text.lower():
            raise RuntimeError(f"static/{name} contains '</script' and cannot be inlined")
        parts.append(f"<script>/* {name} */\n{text}\n</script>")
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


def encode_unit(result: Invariances) -> dict[str, Any]:
    """The record that the front end receives for one analyzed unit.

    Numbers are plain JSON; arrays are little-endian float32 bytes (``groups``:
    int32), decoded by ``js/src/buffers.js``. ``gray_limits[i]`` is
    ``result.gray_limits()[i]``, the fixed gray scale of direction ``i``'s video.

    Parameters
    ----------
    result : Invariances
        An analyzed unit.

    Returns
    -------
    dict
        The wire record.
    """
    h, w = result.shape
    return {
        "name": str(result.name),
        "error": "",
        "height": int(h),
        "width": int(w),
        "activation": float(result.activation),
        "threshold": float(result.threshold),
        "video_level": float(result.video_level),
        "radius": float(result.radius),
        "stimulus": _float32_bytes(result.stimulus),
        "directions": _float32_bytes(result.directions),
        "curvatures": _float32_bytes(result.curvatures),
        "groups": np.ascontiguousarray(result.groups, dtype="<i4").tobytes(),
        "video_ranges": _float32_bytes(result.video_ranges),
        "gray_limits": _float32_bytes(result.gray_limits()),
        "geodesic_angles": _float32_bytes(result.geodesic_angles),
        "geodesic_activations": _float32_bytes(result.geodesic_activations),
        "labels": [str(label) for label in result.labels],
        "label_fractions": _float32_bytes(result.label_fractions),
    }


class InvarianceExplorer(anywidget.AnyWidget):
    """Explore the optimal stimuli and invariances of units in a notebook.

    Shows the stimulus ``x(θ) = cos θ x* + sin θ ρ w`` for a chosen unit, rank and
    angle, with sliders, a most/least-invariant-first switch, play/pause over the
    direction's video range, a gallery of all units' optimal stimuli, the curvature
    spectrum and the activation along the geodesic.

    Parameters
    ----------
    network_or_results : network, Invariances or sequence of Invariances
        Precomputed results (one per unit, all of the same stimulus shape), or a
        network: an object whose ``unit_types()`` returns the units, each analyzed
        when first shown and then cached.
    unit, rank, angle, order
        The initial selection: unit index, rank (0-based, in ``order``), angle in
        radians, and ``"most"`` or ``"least"`` invariant first.
    analysis_options : dict, optional
        Keyword arguments for :func:`tcnn_widgets.analysis.analyze` (network only),
        e.g. ``{"seed": 0, "restarts": 4}``.

    Attributes
    ----------
    units : list
        One record per unit (see :func:`encode_unit`); ``None`` while not analyzed,
        ``{"name", "error"}`` when the analysis failed.
    unit, rank, angle, order, playing
        The synced selection. The front end clamps rank and angle into range.
    """

    _esm = STATIC / "widget.js"

    units = traitlets.List(help="one wire record (or None) per unit").tag(sync=True)
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
    ) -> None:
        results, network_units = _sources(network_or_results)
        if network_units is None and analysis_options:
            raise ValueError(
                "analysis_options apply only to a network; these results are precomputed"
            )
        self._network_units = network_units
        self._analysis_options = {"progress": False, **(analysis_options or {})}
        try:
            inspect.signature(analyze).bind(None, **self._analysis_options)
        except TypeError as error:
            raise TypeError(f"analysis_options do not fit tcnn_widgets.analyze: {error}") from None
        self._cache: list[Invariances | None] = results or [None] * len(network_units)
        self._errors: dict[int, str] = {}
        records = [None if r is None else encode_unit(r) for r in self._cache]
        super().__init__(units=records, unit=unit, rank=rank, angle=angle, order=order)
        self._ensure_analyzed(self.unit)

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
    def _ensure_analyzed(self, unit: int) -> None:
        """Analyze ``unit`` if it is neither cached nor failed, and send its record."""
        if self._cache[unit] is not None or unit in self._errors:
            return
        source = self._network_units[unit]
        try:
            result = analyze(source, **self._analysis_options)
            shapes = {other.shape for other in self._cache if other is not None}
            if shapes and result.shape not in shapes:
                raise ValueError(
                    f"stimulus shape {result.shape} differs from the other units' {shapes}"
                )
        except Exception as error:  # shown in the widget instead of a blank area
            self._errors[unit] = f"{type(error).__name__}: {error}"
            record = {"name": str(getattr(source, "name", "")), "error": self._errors[unit]}
        else:
            self._cache[unit] = result
            record = encode_unit(result)
        records = list(self.units)
        records[unit] = record
        self.units = records

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
        with self.hold_sync():
            for unit in range(len(self._cache)):
                self._ensure_analyzed(unit)

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
        """The stimulus shown now, ``cos θ x* + sin θ ρ w`` (float64, shape (h, w))."""
        result, index, angle = self.selection()
        return result.frame(index, angle)

    def frame_png(self, size: int = 256) -> bytes:
        """PNG of the current frame on its video's gray scale, enlarged without smoothing.

        Parameters
        ----------
        size : int
            Approximate length of the longer side in pixels (an integer multiple of the
            stimulus size is used).
        """
        result, index, angle = self.selection()
        gray = to_gray_bytes(result.frame(index, angle), result.gray_limit(index))
        scale = max(1, size // max(gray.shape))
        image = Image.fromarray(gray)
        image = image.resize(
            (gray.shape[1] * scale, gray.shape[0] * scale), Image.Resampling.NEAREST
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


def _sources(network_or_results: Any) -> tuple[list[Invariances] | None, list | None]:
    """Split the explorer's input into precomputed results or a network's units."""
    if isinstance(network_or_results, Invariances):
        network_or_results = [network_or_results]
    if callable(getattr(network_or_results, "unit_types", None)):
        units = list(network_or_results.unit_types())
        if not units:
            raise ValueError("the network has no units (unit_types() returned an empty list)")
        return None, units
    if isinstance(network_or_results, Sequence) and not isinstance(
        network_or_results, (str, bytes)
    ):
        results = list(network_or_results)
        if not results:
            raise ValueError("network_or_results is empty: pass at least one Invariances")
        for i, result in enumerate(results):
            check_result(result, f"network_or_results[{i}]")
        shapes = {result.shape for result in results}
        if len(shapes) > 1:
            raise ValueError(
                f"all results must have the same stimulus shape, got {sorted(shapes)}; "
                "explore results of different networks in separate explorers"
            )
        return results, None
    raise TypeError(
        "network_or_results must be a network (with unit_types()), an Invariances or a list of "
        f"Invariances, got {type(network_or_results).__name__}"
    )
