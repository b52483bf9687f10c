"""InvarianceExplorer without a browser: state sync, caching, wire format, bad input.

With no kernel, ipywidgets uses a dummy comm: ``set_state`` acts like a change made
in the front end, and a recorder on ``comm.send`` shows what Python sends back.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import anywidget
import numpy as np
import pytest
from browser_helpers import colour_unit
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image

import tcnn_widgets.widget as widget_module
from tcnn_widgets._page_state import (
    ALPHABET,
    UNPACK_STATE_JS,
    decode_text,
    encode_text,
    pack_state,
    page_state,
    unpack_state,
)
from tcnn_widgets.analysis import analyze
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.pixels import to_display_bytes, to_gray_bytes
from tcnn_widgets.results import Invariances
from tcnn_widgets.widget import InvarianceExplorer, encode_unit

JS = Path(__file__).parents[1] / "js"


def small_network() -> TiledCNN:
    """16 units with 5 x 5 optimal stimuli: fast to analyze."""
    return TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0)


@pytest.fixture(scope="module")
def results() -> list[Invariances]:
    return analyze(small_network().unit_types(), seed=0, progress=False)


@pytest.fixture
def sent(monkeypatch):
    """Record every message the widgets created in a test send to the front end."""
    messages = []

    def record(self, data=None, metadata=None, buffers=None):
        messages.append((data, buffers or []))

    monkeypatch.setattr("comm.DummyComm.send", record)
    return messages


@pytest.fixture
def analyze_calls(monkeypatch):
    """Count the analyses the widget runs (the real analysis still runs)."""
    calls = []

    def counting(unit, **options):
        calls.append(unit)
        return analyze(unit, **options)

    monkeypatch.setattr(widget_module, "analyze", counting)
    return calls


@pytest.fixture(scope="module")
def colour() -> Invariances:
    """A (3, 4, 4) colour unit: energy of 3 tanh filters, analyzed densely."""
    return analyze(*colour_unit(), shape=(3, 4, 4), seed=0, progress=False)


def floats(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4")


# ---- wire format ---------------------------------------------------------------------
def test_record_holds_float32_buffers_of_every_field(results):
    result = results[2]
    record = encode_unit(result)
    h, w = result.shape
    assert (record["height"], record["width"]) == (h, w)
    assert record["name"] == result.name and record["error"] == ""
    for field in (
        "stimulus",
        "directions",
        "curvatures",
        "video_ranges",
        "geodesic_angles",
        "geodesic_activations",
        "label_centres",
    ):
        assert isinstance(record[field], bytes)
        expected = np.asarray(getattr(result, field), dtype=np.float32).ravel()
        np.testing.assert_array_equal(floats(record[field]), expected)
    np.testing.assert_array_equal(np.frombuffer(record["groups"], dtype="<i4"), result.groups)
    limits = [result.gray_limit(i) for i in range(result.n_directions)]
    np.testing.assert_allclose(floats(record["gray_limits"]), limits, rtol=1e-7)
    assert record["activation"] == result.activation
    assert record["threshold"] == result.threshold and record["radius"] == result.radius
    assert record["video_level"] == result.video_level


def test_state_carries_every_unit_as_binary_buffers_not_json_lists(results):
    explorer = InvarianceExplorer(results)
    state = explorer.get_state()
    assert len(state["units"]) == len(results)
    assert all(isinstance(r["directions"], bytes) for r in state["units"])
    message, paths, buffers = _remove_buffers(state)
    assert len(buffers) == 10 * len(results)  # 10 binary arrays per unit
    assert ["units", 5, "directions"] in paths
    text = json.dumps(message["units"])
    assert not re.search(r"\[\s*-?\d+\.\d+\s*,", text), "float arrays must not travel as JSON lists"


def test_rank_angle_order_and_play_changes_send_no_data_and_analyze_nothing(
    results, sent, analyze_calls
):
    explorer = InvarianceExplorer(results)
    explorer.set_state({"rank": 5, "angle": 0.3, "order": "least", "playing": True})
    assert (explorer.rank, explorer.angle, explorer.order, explorer.playing) == (
        5,
        0.3,
        "least",
        True,
    )
    assert analyze_calls == []
    assert all(buffers == [] for _, buffers in sent)
    assert all("units" not in data["state"] for data, _ in sent)


def test_colour_and_partial_records(colour, results):
    record = encode_unit(colour)
    assert (record["channels"], record["height"], record["width"]) == (3, 4, 4)
    assert len(floats(record["directions"])) == 47 * 48
    assert record["complete"] is True and record["ends_tied"] == [False, False]
    matrix_free = analyze(
        small_network().unit_types()[2], seed=0, directions=3, method="matrix-free", progress=False
    )
    kept = encode_unit(matrix_free)
    assert kept["complete"] is False and kept["ends_tied"] == [False, True]
    assert len(floats(kept["curvatures"])) == 6
    assert len(floats(kept["directions"])) == 6 * 25
    assert kept["channels"] == 1


# ---- on-demand analysis and caching ----------------------------------------------------
def test_network_units_are_analyzed_on_demand_and_cached(sent, analyze_calls):
    network = small_network()
    explorer = InvarianceExplorer(network, analysis_options={"seed": 0}, background=False)
    assert len(analyze_calls) == 1
    assert explorer.units[0] is not None
    assert explorer.units[1:] == [None] * 15

    explorer.set_state({"unit": 3})  # as the front end does when a gallery entry is clicked
    assert len(analyze_calls) == 2
    updates = [(data, buffers) for data, buffers in sent if "units" in data["state"]]
    assert len(updates) == 1
    data, buffers = updates[0]
    assert ["units", 3, "stimulus"] in data["buffer_paths"]
    stimulus = buffers[data["buffer_paths"].index(["units", 3, "stimulus"])]
    direct = analyze(network.unit_types()[3], seed=0, progress=False)
    np.testing.assert_array_equal(floats(stimulus), direct.stimulus.astype(np.float32).ravel())

    explorer.set_state({"unit": 0})
    explorer.unit = 3
    explorer.set_state({"rank": 2})
    assert len(analyze_calls) == 2, "cached units are not analyzed again"
    assert explorer.result(3).name == direct.name == "map 0, row 1, col 1"


def test_analyze_all_fills_every_unit_in_one_update(sent):
    explorer = InvarianceExplorer(small_network(), analysis_options={"seed": 0}, background=False)
    sent.clear()
    explorer.analyze_all()
    assert all(record is not None for record in explorer.units)
    assert sum("units" in data["state"] for data, _ in sent) == 1


def test_background_analysis_fills_the_gallery_in_a_few_messages(sent, analyze_calls):
    explorer = InvarianceExplorer(small_network(), analysis_options={"seed": 0})
    explorer._thread.join(timeout=120)
    assert not explorer._thread.is_alive()
    assert all(record is not None and not record["error"] for record in explorer.units)
    assert len(analyze_calls) == 16, "each unit is analyzed once"
    updates = sum("units" in data["state"] for data, _ in sent)
    assert 1 <= updates <= 4, f"{updates} messages: records are sent in batches"
    direct = analyze(small_network().unit_types()[11], seed=0, progress=False)
    np.testing.assert_array_equal(explorer.result(11).stimulus, direct.stimulus)


def test_closing_stops_the_background_analysis(analyze_calls):
    network = TiledCNN.random(maps=16, tile=2, field=8, pool=3, seed=0)  # 64 units
    explorer = InvarianceExplorer(network, analysis_options={"seed": 0})
    explorer.close()
    explorer._thread.join(timeout=60)
    assert not explorer._thread.is_alive()
    assert len(analyze_calls) < 64


def test_precomputed_results_are_never_analyzed(results, analyze_calls):
    explorer = InvarianceExplorer(results, unit=7)
    explorer.unit = 2
    assert analyze_calls == []
    assert explorer.result(2) is results[2]


def test_failed_analysis_shows_its_error_and_is_not_retried(analyze_calls):
    class Network:
        def unit_types(self):
            return [small_network().unit_types()[0], "not a unit"]

    explorer = InvarianceExplorer(Network(), analysis_options={"seed": 0}, background=False)
    explorer.unit = 1
    record = explorer.units[1]
    with pytest.raises(TypeError) as expected:
        analyze("not a unit")
    assert record["error"] == f"TypeError: {expected.value}"
    explorer.unit = 0
    explorer.unit = 1
    assert len(analyze_calls) == 2
    with pytest.raises(RuntimeError, match="analysis of unit 1 failed: TypeError"):
        explorer.result(1)
    assert "analysis of unit 1 failed" in explorer._repr_mimebundle_()[0]["text/plain"]


# ---- the frame shown and its PNG fallback ------------------------------------------------
def test_current_frame_clamps_like_the_front_end(results):
    explorer = InvarianceExplorer(results, unit=4, rank=99, angle=7.0, order="most")
    result, index, angle = explorer.selection()
    assert result is results[4]
    assert index == result.n_directions - 1
    assert angle == result.video_ranges[index][1]
    np.testing.assert_array_equal(explorer.current_frame(), result.frame(index, angle))

    explorer.order = "least"
    explorer.rank = 1
    explorer.angle = -9.0
    _, index, angle = explorer.selection()
    assert index == result.n_directions - 2
    assert angle == result.video_ranges[index][0]


def test_png_fallback_is_the_current_frame_on_its_video_gray_scale(results):
    explorer = InvarianceExplorer(results, unit=1, rank=3, angle=-0.2)
    data, _ = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))))
    result, index, angle = explorer.selection()
    gray = to_gray_bytes(result.frame(index, angle), result.gray_limit(index))
    scale = 256 // 5
    np.testing.assert_array_equal(image, np.kron(gray, np.ones((scale, scale), np.uint8)))


def test_nbconvert_html_export_without_widget_state_shows_the_png_fallback(tmp_path):
    nbformat = pytest.importorskip("nbformat")  # in the [test] extras
    nbclient = pytest.importorskip("nbclient")
    from nbconvert import HTMLExporter

    cell = (
        "from tcnn_widgets.network import TiledCNN\n"
        "from tcnn_widgets.widget import InvarianceExplorer\n"
        "InvarianceExplorer(TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0),\n"
        "                   unit=3, analysis_options={'seed': 0}, background=False)"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nbclient.NotebookClient(notebook, timeout=300, store_widget_state=False).execute()
    page, _ = HTMLExporter().from_notebook_node(notebook)
    (png,) = re.findall(r'<img[^>]*src="data:image/png;base64,([^"]+)"', page)
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(png)))).astype(int)
    alone = analyze(small_network().unit_types()[3], seed=0, progress=False)
    here = InvarianceExplorer(alone).frame_png()
    expected = np.asarray(Image.open(io.BytesIO(here))).astype(int)
    assert shown.shape == expected.shape == (255, 255)  # 5 x 5 enlarged 51 times
    assert np.abs(shown - expected).max() <= 1  # the kernel's analysis, to 8-bit rounding


# ---- static page ----------------------------------------------------------------------------
def test_to_html_writes_one_file_with_every_unit_and_the_scripts_inlined(tmp_path, analyze_calls):
    explorer = InvarianceExplorer(small_network(), analysis_options={"seed": 0})
    page = explorer.to_html(tmp_path / "explorer.html", title="Units <&>")
    assert len(analyze_calls) == 16
    text = page.read_text()
    assert "<title>Units &lt;&amp;&gt;</title>" in text
    assert re.findall(r"<script[^>]*\bsrc=", text) == []
    assert "<h1>Units &lt;&amp;&gt;</h1>" in text
    # the inlined libraries mention addresses; the page itself loads none (the browser
    # tests block every request and check that the page still works)
    assert "https://" not in re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S)
    assert 'application/vnd.jupyter.widget-state+json">' not in text  # packed: gzip, base64
    state = page_state(text)
    (model,) = [m for m in state["state"].values() if m["model_name"] == "AnyModel"]
    assert model["model_module"] == "anywidget"
    assert model["state"]["_esm"] == (widget_module.STATIC / "widget.js").read_text()
    assert len(model["buffers"]) == 16 * 10  # 10 binary arrays per unit
    stimulus = next(b for b in model["buffers"] if b["path"] == ["units", 9, "stimulus"])
    np.testing.assert_array_equal(
        floats(base64.b64decode(stimulus["data"])),
        explorer.result(9).stimulus.astype(np.float32).ravel(),
    )
    for name in ("require.js", "anywidget.js"):
        assert f"<script>/* {name} */" in text
    packed = re.search(
        r'<script type="application/gzip;base85" id="tcnn-embed-amd">\s*(.*?)\s*</script>',
        text,
        re.S,
    )
    embed = (widget_module.STATIC / "embed-amd.js").read_bytes()
    assert gzip.decompress(decode_text(packed.group(1))) == embed
    assert 'define("anywidget", ["@jupyter-widgets/base"]' in text
    assert [p.name for p in tmp_path.iterdir()] == ["explorer.html"]


def test_packed_page_state_restores_every_buffer_and_is_smaller(results):
    """Packing (gzip of byte-shuffled buffers, base64) is lossless for every stride."""
    explorer = InvarianceExplorer(results, compact=True)
    model, paths, buffers = _remove_buffers(explorer.get_state())
    records = [
        {"encoding": "base64", "path": path, "data": base64.b64encode(data).decode()}
        for path, data in zip(paths, buffers, strict=True)
    ]
    state = {"state": {"m1": {"model_name": "AnyModel", "state": model, "buffers": records}}}
    plain = json.dumps(state)
    strides = {("m1", "units", 0, "directions"): 2, ("m1", "units", 1, "directions"): 3}
    for packed in (pack_state(state), pack_state(state, strides)):
        assert unpack_state(packed) == json.loads(plain)
        assert len(packed) < 0.9 * len(plain)


def test_page_text_encoding_is_exact_and_cannot_close_its_script():
    assert len(set(ALPHABET)) == 85 and not set(ALPHABET) & set("<>&\"'/-\\` \n")
    rng = np.random.default_rng(0)
    for size in range(0, 13):  # every length of the last group
        data = rng.integers(0, 256, size).astype(np.uint8).tobytes()
        text = encode_text(data)
        assert set(text) <= set(ALPHABET) and len(text) == size + (size + 3) // 4
        assert decode_text(text) == data


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_page_decoder_in_javascript_reads_what_python_encodes():
    rng = np.random.default_rng(1)
    samples = [rng.integers(0, 256, size).astype(np.uint8).tobytes() for size in range(13)]
    samples += [b"\xff" * 9, b"\x00" * 7, rng.integers(0, 256, 100_003).astype(np.uint8).tobytes()]
    decoder = UNPACK_STATE_JS.split("/* unpack the widget state")[0]
    program = decoder + (
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "console.log(JSON.stringify(texts.map((t) => Buffer.from(tcnnDecode85(t)).toString('hex'))));"
    )
    done = subprocess.run(
        ["node", "-e", program],
        input=json.dumps([encode_text(sample) for sample in samples]),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == [sample.hex() for sample in samples]


def test_to_html_links_back_to_a_report_and_checks_its_arguments(tmp_path, results):
    explorer = InvarianceExplorer(results)
    text = explorer.to_html(tmp_path / "page.html", report="../index.html?a=1&b=2").read_text()
    assert '<a href="../index.html?a=1&amp;b=2">Back to the report</a>' in text
    assert "Back to the report" not in explorer.to_html(tmp_path / "plain.html").read_text()
    with pytest.raises(ValueError, match="must end in .html"):
        explorer.to_html(tmp_path / "page.txt")
    with pytest.raises(TypeError, match="report must be a str"):
        explorer.to_html(tmp_path / "page.html", report=3)


def test_inline_offline_scripts_refuses_a_page_exported_without_the_local_urls(tmp_path):
    page = tmp_path / "exported.html"
    page.write_text('<html><head><script src="https://cdn/require.js"></script></head></html>')
    with pytest.raises(ValueError, match="require_js_url=require.js"):
        widget_module.inline_offline_scripts(page)


def test_to_html_leaves_an_existing_page_whole_when_writing_fails(tmp_path, results, monkeypatch):
    page = tmp_path / "explorer.html"
    page.write_text("old page")
    explorer = InvarianceExplorer(results)

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(widget_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        explorer.to_html(page)
    assert page.read_text() == "old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["explorer.html"]


def test_to_html_needs_an_existing_folder(tmp_path, results):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        InvarianceExplorer(results).to_html(tmp_path / "missing" / "page.html")


# ---- bad input ---------------------------------------------------------------------------
def test_unit_out_of_range_is_an_index_error(results):
    with pytest.raises(
        IndexError, match=r"unit 16 is out of range: this explorer has units 0\.\.15"
    ):
        InvarianceExplorer(results, unit=16)
    explorer = InvarianceExplorer(results)
    with pytest.raises(IndexError, match="unit -1 is out of range"):
        explorer.unit = -1
    with pytest.raises(IndexError, match="unit 40 is out of range"):
        explorer.result(40)
    assert explorer.unit == 0


def test_named_groups_of_networks_and_results_with_different_shapes(results, analyze_calls):
    other = TiledCNN.random(maps=2, tile=1, field=3, pool=2, seed=1)
    explorer = InvarianceExplorer(
        {"precomputed": results[:3], "other": other},
        analysis_options={"seed": 0},
        background=False,
    )
    assert explorer.groups == [
        {"name": "precomputed", "start": 0, "stop": 3},
        {"name": "other", "start": 3, "stop": 3 + len(other.unit_types())},
    ]
    assert analyze_calls == []
    explorer.unit = 4
    assert explorer.result(4).shape == (4, 4) != results[0].shape
    assert explorer.units[4]["height"] == 4 and explorer.units[0]["height"] == 5
    with pytest.raises(ValueError, match="empty dict"):
        InvarianceExplorer({})
    with pytest.raises(TypeError, match=r"network_or_results\['x'\] must be a network"):
        InvarianceExplorer({"x": 3})


def test_layers_of_a_network_become_groups(results):
    class TwoLayers:
        layers = 2

        def unit_types(self, layer=1):
            return {1: results[:2], 2: results[2:5]}[layer]

    cached, units, groups = widget_module._sources(TwoLayers())
    assert groups == [
        {"name": "layer 1", "start": 0, "stop": 2},
        {"name": "layer 2", "start": 2, "stop": 5},
    ]
    assert cached == [*results[:5]] and units == [None] * 5

    class OneLayer(TwoLayers):
        layers = 1

    assert widget_module._sources(OneLayer())[2] == []


def test_a_result_that_does_not_fit_its_shape_is_refused(results):
    broken = Invariances(**{**results[0].__dict__})
    broken.directions = broken.directions[:-1]
    with pytest.raises(ValueError, match=r"network_or_results\[1\]\.directions has shape"):
        InvarianceExplorer([results[0], broken])


def test_other_bad_input_gets_clear_errors(results):
    with pytest.raises(ValueError, match="empty"):
        InvarianceExplorer([])
    with pytest.raises(TypeError, match=r"network_or_results\[1\] is a str"):
        InvarianceExplorer([results[0], "x"])
    with pytest.raises(TypeError, match="must be a network"):
        InvarianceExplorer(42)
    with pytest.raises(ValueError, match="analysis_options apply only to a network"):
        InvarianceExplorer(results, analysis_options={"seed": 1})
    with pytest.raises(ValueError, match="order must be 'most' or 'least'"):
        InvarianceExplorer(results, order="best")
    with pytest.raises(ValueError, match="angle must be a finite number"):
        InvarianceExplorer(results, angle=float("nan"))


def test_a_single_result_is_accepted(results):
    explorer = InvarianceExplorer(results[3])
    assert len(explorer.units) == 1
    assert explorer.result() is results[3]


# ---- the shipped front end -------------------------------------------------------------------
def test_npm_anywidget_has_the_same_minor_version_as_python_anywidget():
    lock = json.loads((JS / "package-lock.json").read_text())
    npm_version = lock["packages"]["node_modules/anywidget"]["version"]
    assert npm_version.split(".")[:2] == anywidget.__version__.split(".")[:2]


def node() -> str:
    path = shutil.which("node")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is not installed; CI needs Node.js 20 for the front-end checks")
        pytest.skip("node is not installed")
    return path


def run_node(script: str, payload: dict) -> dict:
    """Run an ES module script with js/src importable; JSON in on stdin, JSON out."""
    completed = subprocess.run(
        [node(), "--input-type=module", "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=JS,
        check=True,
    )
    return json.loads(completed.stdout)


def test_js_gray_rule_is_the_python_rule_byte_for_byte():
    rng = np.random.default_rng(0)
    limit = 0.731
    values = np.concatenate(
        [
            rng.uniform(-1.2, 1.2, 5000) * limit,
            (np.arange(256) + 0.5) / 127.5 * limit - limit,  # exact rounding halves
            [-limit, 0.0, limit, 10.0, -10.0],
        ]
    )
    script = """
    import { grayByte } from "./src/pixels.js";
    let text = ""; for await (const chunk of process.stdin) text += chunk;
    const { values, limit } = JSON.parse(text);
    console.log(JSON.stringify(values.map((v) => grayByte(v, limit))));
    """
    js = run_node(script, {"values": values.tolist(), "limit": limit})
    np.testing.assert_array_equal(js, to_gray_bytes(values, limit))


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_js_display_rule_is_pixels_to_display_bytes_byte_for_byte(channels):
    rng = np.random.default_rng(channels)
    frame = rng.normal(size=(channels, 3, 5))
    limit = float(np.max(np.abs(frame))) * 0.9  # some values clip
    script = """
    import { displayRGBA, displaySize } from "./src/pixels.js";
    let text = ""; for await (const chunk of process.stdin) text += chunk;
    const { frame, limit, channels, height, width } = JSON.parse(text);
    const size = displaySize(channels, height, width);
    const rgba = displayRGBA(frame, limit, channels, height, width,
      new Uint8ClampedArray(4 * size.width * size.height));
    console.log(JSON.stringify({ rgba: Array.from(rgba), ...size }));
    """
    js = run_node(
        script,
        {
            "frame": frame.ravel().tolist(),
            "limit": limit,
            "channels": channels,
            "height": 3,
            "width": 5,
        },
    )
    rgba = np.array(js["rgba"], dtype=np.uint8).reshape(js["height"], js["width"], 4)
    expected = to_display_bytes(frame, limit)
    assert np.all(rgba[..., 3] == 255)
    if channels == 3:
        np.testing.assert_array_equal(rgba[..., :3], expected)
    else:
        assert expected.shape == (3, channels * 5 + channels - 1)
        for c in range(3):
            np.testing.assert_array_equal(rgba[..., c], expected)


def test_to_display_bytes_shapes_and_bad_input():
    gray = np.array([[-1.0, 0.0], [0.5, 2.0]])
    np.testing.assert_array_equal(to_display_bytes(gray, 1.0), to_gray_bytes(gray, 1.0))
    np.testing.assert_array_equal(to_display_bytes(gray[None], 1.0), to_gray_bytes(gray, 1.0))
    rgb = to_display_bytes(np.stack([gray, -gray, 0 * gray]), 2.0)
    assert rgb.shape == (2, 2, 3)
    np.testing.assert_array_equal(rgb[..., 1], to_gray_bytes(-gray, 2.0))
    tiles = to_display_bytes(np.stack([gray, gray]), 1.0)
    np.testing.assert_array_equal(tiles[:, 2], [255, 255])  # the gap column
    with pytest.raises(ValueError, match=r"shape \(h, w\) or \(c, h, w\)"):
        to_display_bytes(np.zeros((1, 2, 2, 2)), 1.0)
    with pytest.raises(ValueError, match="limit must be a positive finite number"):
        to_display_bytes(gray, 0.0)


def test_png_fallback_of_a_colour_unit_is_rgb(colour):
    explorer = InvarianceExplorer(colour, rank=2, angle=0.1)
    data, _ = explorer._repr_mimebundle_()
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))))
    result, index, angle = explorer.selection()
    rgb = to_display_bytes(result.frame(index, angle), result.gray_limit(index))
    assert rgb.shape == (4, 4, 3)
    np.testing.assert_array_equal(image, np.kron(rgb, np.ones((64, 64, 1), np.uint8)))


def test_js_float16_decoding_is_numpy_float16(results):
    values = np.concatenate([results[0].directions.ravel(), [0.0, -0.0, 6.1e-5, 1e-7, 65504.0]])
    half = values.astype("<f2")
    script = """
    import { decodeFloat16 } from "./src/buffers.js";
    let text = ""; for await (const chunk of process.stdin) text += chunk;
    const bytes = Uint8Array.from(JSON.parse(text).bytes);
    console.log(JSON.stringify(Array.from(decodeFloat16(bytes))));
    """
    js = run_node(script, {"bytes": list(half.tobytes())})
    np.testing.assert_array_equal(np.array(js, dtype=np.float32), half.astype(np.float32))


def test_compact_records_send_int8_directions_and_float16_activations(results):
    result = results[1]
    full, compact = encode_unit(result), encode_unit(result, compact=True)
    assert compact["compact"] is True and full["compact"] is False
    assert len(compact["directions"]) * 4 == len(full["directions"])
    assert "direction_scales" not in full
    steps = np.frombuffer(compact["directions"], "i1").reshape(len(result.directions), -1)
    scales = np.frombuffer(compact["direction_scales"], "<f4")
    flat = result.directions.reshape(len(steps), -1)
    assert np.all(np.abs(steps).max(axis=1) == 127)  # each direction uses its whole range
    largest = np.abs(flat).max(axis=1, keepdims=True)
    assert np.abs(steps * scales[:, None].astype(float) - flat).max() <= (largest / 254).max()
    halves = np.frombuffer(compact["geodesic_activations"], "<f2")
    np.testing.assert_allclose(
        halves, result.geodesic_activations.ravel(), rtol=2.0**-11, atol=2.0**-25
    )
    explorer = InvarianceExplorer(results, compact=True)
    assert all(record["compact"] for record in explorer.units)


def test_js_frames_match_invariances_frame(results):
    result = results[6]
    index, angle = 4, 0.37
    script = """
    import { frameInto } from "./src/frame.js";
    let text = ""; for await (const chunk of process.stdin) text += chunk;
    const { stimulus, direction, radius, angle } = JSON.parse(text);
    const out = frameInto(new Float64Array(stimulus.length), stimulus, direction, radius, angle);
    console.log(JSON.stringify(Array.from(out)));
    """
    js = run_node(
        script,
        {
            "stimulus": result.stimulus.ravel().tolist(),
            "direction": result.directions[index].ravel().tolist(),
            "radius": result.radius,
            "angle": angle,
        },
    )
    np.testing.assert_array_equal(np.reshape(js, result.shape), result.frame(index, angle))


def test_analysis_options_that_analyze_does_not_take_are_refused():
    net = TiledCNN.random(maps=2, tile=1, field=3, pool=2, image_size=5, seed=0)
    with pytest.raises(TypeError, match="analysis_options do not fit tcnn_widgets.analyze"):
        InvarianceExplorer(net, analysis_options={"restart": 4})
