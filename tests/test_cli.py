"""The tcnn-widgets command: help, bad input, and end-to-end runs in a temporary folder."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tcnn_widgets import load_results
from tcnn_widgets.cli import main
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.report import GIF_FRAMES


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m tcnn_widgets ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "tcnn_widgets", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("src", "href") and value]


def local_links(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.links


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("net") / "small.npz"
    TiledCNN.random(maps=4, tile=2, field=4, pool=2, seed=0, image_size=8).save(path)
    return path


@pytest.mark.parametrize("command", [[], ["demo"], ["train"], ["analyze"]])
def test_help(command):
    done = run(*command, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith(f"usage: tcnn-widgets {' '.join(command)}".rstrip())
    assert done.stderr == ""


def test_console_script_and_version():
    done = subprocess.run(["tcnn-widgets", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and re.fullmatch(r"tcnn-widgets \S+\n", done.stdout)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "required: COMMAND"),
        (["fly"], "invalid choice: 'fly'"),
        (["analyze"], "required: WEIGHTS"),
        (["analyze", "missing.npz"], "no file at 'missing.npz'"),
        (["analyze", "garbage.npz"], "not a readable .npz file"),
        (["analyze", "results.npz"], "lacks the arrays"),
        (["analyze", "small.npz", "--units", "99"], "unit index 99 is outside 0..15"),
        (["analyze", "small.npz", "--units", "x"], "--units: expected a whole number"),
        (["analyze", "small.npz", "--restarts", "0"], "--restarts: expected a number >= 1"),
        (["analyze", "small.npz", "--format", "gif"], "invalid choice: 'gif'"),
        (["analyze", "small.npz", "--out", "file.txt"], "exists"),
        (["demo", "--out"], "expected one argument"),
        (["train", "--cifar10", "nowhere"], "no CIFAR-10 archive or folder at 'nowhere'"),
        (["train", "--out", "no/such/folder/w.npz"], "--out: folder 'no/such/folder'"),
        (["train", "--method", "sgd"], "invalid choice: 'sgd'"),
        (["train", "--steps", "1", "--resume", "small.npz"], "lacks the arrays"),
        (["demo", "--units", "-3"], "expected a number >= 0, got -3"),
    ],
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(
    tmp_path, small_weights, monkeypatch, capsys, args, message
):
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file")
    np.savez(tmp_path / "results.npz", other=np.zeros(3))
    (tmp_path / "small.npz").write_bytes(small_weights.read_bytes())
    (tmp_path / "file.txt").write_text("a file where a folder should be")
    monkeypatch.chdir(tmp_path)
    try:
        status = main(args)  # an uncaught exception fails the test
    except SystemExit as stop:  # usage errors end in argparse
        status = stop.code
    assert status != 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert message in lines[0] and lines[0].startswith("tcnn-widgets")


@pytest.mark.parametrize("args", [["analyze", "missing.npz"], ["demo", "--units", "x"]])
def test_bad_input_in_a_real_process_has_no_traceback(tmp_path, args):
    done = run(*args, cwd=tmp_path)
    assert done.returncode != 0
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


def test_analyze_end_to_end(tmp_path, small_weights, capsys):
    out = tmp_path / "report"
    status = main(
        [
            "analyze",
            str(small_weights),
            "--out",
            str(out),
            "--units",
            "0",
            "5",
            "9",
            "--restarts",
            "2",
            "--featured",
            "1",
            "--quiet",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert str((out / "index.html").resolve()) in printed
    results = load_results(out / "units" / "results.npz")
    assert len(results) == 3
    network = TiledCNN.load(small_weights)
    types = network.unit_types()
    for result, index in zip(results, [0, 5, 9], strict=True):
        assert result.name == types[index].name
        assert result.activation == pytest.approx(types[index].value(result.stimulus))
    links = local_links(out / "index.html")
    assert "units/results.npz" in links and "units/stimuli.png" in links
    gifs = [link for link in links if link.endswith("_invariant.png")]  # animated PNGs
    assert len(gifs) == 2  # most and least invariant of the one featured unit
    for link in links:
        assert (out / link).is_file(), link
    for gif in gifs:
        assert Image.open(out / gif).n_frames == 2 * GIF_FRAMES - 2  # forward, then back
    assert not list(out.rglob(".*tmp"))  # no temporary files left behind


def test_analyze_svg_figures(tmp_path, small_weights):
    out = tmp_path / "svg"
    done = run(
        "analyze",
        str(small_weights),
        "--out",
        str(out),
        "--units",
        "3",
        "--restarts",
        "1",
        "--format",
        "svg",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    figures = sorted(p.name for p in (out / "units").glob("*.svg"))
    assert figures == [
        "stimuli.svg",
        "u00_m0_r1_c1_least_curve.svg",
        "u00_m0_r1_c1_most_curve.svg",
        "u00_m0_r1_c1_spectrum.svg",
        "u00_m0_r1_c1_strips.svg",
    ]
    assert (out / "units" / "stimuli.svg").read_text().startswith("<?xml")


def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    done = run("demo", "--out", str(out), "--units", "0", "1", "--restarts", "2", "--featured", "1")
    assert done.returncode == 0, done.stderr
    assert f"open {(out / 'index.html').resolve()}" in done.stdout
    assert "units:" in done.stderr  # the progress bars
    links = local_links(out / "index.html")
    assert "explorer/index.html" in links
    for link in links:
        assert not link.startswith(("http:", "https:", "//")), link
        assert (out / link).is_file(), link
    for layer, side in ((1, 10), (2, 15)):  # the two-layer colour network, 2 maps per layer
        two_layer = load_results(out / f"two_layer_color_layer{layer}" / "results.npz")
        assert [r.stimulus.shape for r in two_layer] == [(3, side, side)] * 2
    for network in ("pretrained", "random"):
        assert len(load_results(out / network / "results.npz")) == 2
        assert (
            len(
                [
                    link
                    for link in links
                    if link.startswith(network) and link.endswith("_invariant.png")
                ]
            )
            == 2
        )
    explorer = out / "explorer"
    for script in re.findall(r'src="([^"]+)"', (explorer / "index.html").read_text()):
        assert (explorer / script).is_file(), script
    # Size (issue #15). This run (2 + 2 + 4 units, 1 featured per section) took 5.1 MB
    # before the page's data were packed and the figures and videos re-encoded; 3.0 MB now.
    sizes = {path: path.stat().st_size for path in out.rglob("*") if path.is_file()}
    assert sum(sizes.values()) <= 3.3e6, sorted(sizes.items(), key=lambda item: -item[1])[:5]
    assert sizes[explorer / "index.html"] <= 1.6e6  # 1.26 MB of it are the inlined scripts


def fake_cifar10(folder: Path, per_batch: int = 20) -> Path:
    """A folder laid out like the CIFAR-10 binary release, with random images."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = rng.integers(0, 256, size=(per_batch, 1 + 3 * 32 * 32), dtype=np.uint8)
        records[:, 0] %= 10
        (folder / name).write_bytes(records.tobytes())
    return folder


SMALL = ["--maps", "4", "--tile", "2", "--field", "8", "--pool", "2"]  # whitening keeps 32 of r^2


def test_train_on_embedded_images_then_resume_then_analyze(tmp_path, capsys):
    out = tmp_path / "w.npz"
    args = ["train", *SMALL, "--images", "60", "--out", str(out), "--quiet"]
    assert main([*args, "--steps", "3", "--checkpoint-every", "1"]) == 0
    printed = capsys.readouterr().out
    first, last = map(float, re.search(r"per image (\S+) -> (\S+)", printed).groups())
    assert "3 steps" in printed and last < first
    network = TiledCNN.load(out)
    assert network.weights.shape == (4, 2, 2, 8, 8) and network.image_size == 32
    checkpoint = tmp_path / "w.checkpoint.npz"
    assert checkpoint.is_file()
    assert main([*args, "--steps", "5", "--resume", str(checkpoint)]) == 0
    assert "5 steps" in capsys.readouterr().out
    assert not np.array_equal(TiledCNN.load(out).weights, network.weights)
    report = tmp_path / "report"
    assert main(["analyze", str(out), "--out", str(report), "--units", "0", "--quiet"]) == 0
    assert (report / "index.html").is_file()


def test_train_on_cifar10_from_a_folder_and_from_the_cache(tmp_path, monkeypatch, capsys):
    folder = fake_cifar10(tmp_path / "cifar-10-batches-bin")
    args = ["train", *SMALL, "--steps", "1", "--quiet"]
    assert main([*args, "--cifar10", str(folder), "--out", str(tmp_path / "a.npz")]) == 0
    assert "Training" not in capsys.readouterr().out  # --quiet
    cache = tmp_path / "cache"
    cache.mkdir()
    with tarfile.open(cache / "cifar-10-binary.tar.gz", "w:gz") as archive:
        archive.add(folder, arcname="cifar-10-batches-bin")
    monkeypatch.setenv("TCNN_WIDGETS_CACHE", str(cache))
    out = tmp_path / "b.npz"
    assert main([*args[:-1], "--data", "cifar10", "--out", str(out)]) == 0
    assert "Training on 100 images of 32x32" in capsys.readouterr().out
    np.testing.assert_array_equal(
        TiledCNN.load(out).weights, TiledCNN.load(tmp_path / "a.npz").weights
    )
