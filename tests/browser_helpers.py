"""Helpers for the real-browser tests: Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium. When
Chromium or Playwright is missing the tests are skipped on a developer's machine
and fail when the environment variable CI is "true".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tcnn_widgets.pixels import to_gray_bytes
from tcnn_widgets.results import Invariances

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def colour_unit(channels: int = 3, size: int = 4):
    """f and grad of a small unit on (channels, size, size) stimuli: the energy of three
    tanh filters, with an analytic gradient."""
    weights = np.random.default_rng(3).normal(size=(3, channels * size * size))

    def f(x):
        return float(np.sum(np.tanh(weights @ x.ravel()) ** 2))

    def grad(x):
        t = np.tanh(weights @ x.ravel())
        return (weights.T @ (2 * t * (1 - t**2))).reshape(x.shape)

    return f, grad


def large_result(shape: tuple[int, ...] = (3, 224, 224), k: int = 3) -> Invariances:
    """A synthetic matrix-free-like result on large stimuli (2k directions), for drawing.

    x* is a smooth colour pattern; the directions are random, orthonormal and tangent to
    it; the activation along each geodesic is ``g* cos t`` on a 33-angle grid. Only the
    display is tested with it: it is not the analysis of a unit.
    """
    rng = np.random.default_rng(0)
    grids = np.meshgrid(*[np.linspace(-1, 1, size) for size in shape], indexing="ij")
    stimulus = np.sin(3 * grids[-1] + sum(grids[:-1])) * np.exp(-(grids[-1] ** 2 + grids[-2] ** 2))
    stimulus /= np.linalg.norm(stimulus)
    flat = rng.normal(size=(2 * k, stimulus.size))
    flat -= np.outer(flat @ stimulus.ravel(), stimulus.ravel())
    basis = np.linalg.qr(flat.T)[0].T
    angles = np.linspace(-np.pi / 2, np.pi / 2, 33)
    return Invariances(
        stimulus=stimulus,
        activation=2.0,
        mu=2.0,
        radius=1.0,
        curvatures=-np.linspace(0.1, 2.0, 2 * k),
        directions=basis.reshape(2 * k, *shape),
        groups=np.arange(2 * k),
        video_ranges=np.tile([-0.6, 0.8], (2 * k, 1)),
        threshold=0.7,
        geodesic_angles=angles,
        geodesic_activations=np.tile(2.0 * np.cos(angles), (2 * k, 1)),
        hessian=None,
        residual=0.0,
        start_activations=np.array([2.0]),
        hessian_asymmetry=0.0,
        hessian_method="fd",
        seed=0,
        is_maximum=True,
        name="synthetic large",
        method="matrix-free",
        complete=False,
    )


def need(what: str, available: bool) -> None:
    """Skip (developer machine) or fail (CI=true) when a browser-test requirement is missing."""
    if available:
        return
    message = f"{what} is missing; install it as described in the CI commands"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def launch(playwright):
    """Launch Debian's Chromium headless (never a downloaded browser)."""
    need(f"Chromium at {CHROMIUM}", Path(CHROMIUM).is_file())
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def local_only(page) -> list[str]:
    """Abort every request that leaves this machine; returns the list of blocked URLs."""
    blocked: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "blob:", "http://127.0.0.1", "ws://127.0.0.1")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    page.route("**/*", route)
    return blocked


def shown_frame(canvas) -> dict:
    """What the stimulus canvas shows: its gray pixels and the unit, direction and angle drawn.

    Parameters
    ----------
    canvas : playwright Locator
        The ``.tcnn-frame`` canvas.

    Returns
    -------
    dict
        ``gray`` (h, w) uint8 red channel read back with getImageData, ``unit``,
        ``index`` (stored direction index) and ``angle`` (float).
    """
    shown = canvas.evaluate(
        """(canvas) => {
            const image = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
            const red = Array.from(image.data.filter((_, i) => i % 4 === 0));
            const alpha = Array.from(image.data.filter((_, i) => i % 4 === 3));
            const gray = image.data.every((v, i) => i % 4 === 3 || v === image.data[i - (i % 4)]);
            return { red, alpha, gray, width: canvas.width, height: canvas.height, ...canvas.dataset };
        }"""
    )
    assert shown["gray"], "the stimulus canvas must be gray (R = G = B)"
    assert set(shown["alpha"]) == {255}, "the stimulus canvas must be opaque"
    return {
        "gray": np.array(shown["red"], dtype=np.uint8).reshape(shown["height"], shown["width"]),
        "unit": int(shown["unit"]),
        "index": int(shown["index"]),
        "angle": float(shown["angle"]),
    }


def shown_rgb(canvas) -> np.ndarray:
    """The RGB pixels of a canvas, read back with getImageData: (height, width, 3) uint8."""
    shown = canvas.evaluate(
        """(canvas) => {
            const image = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
            return { data: Array.from(image.data), width: canvas.width, height: canvas.height };
        }"""
    )
    rgba = np.array(shown["data"], dtype=np.uint8).reshape(shown["height"], shown["width"], 4)
    assert np.all(rgba[..., 3] == 255), "the canvas must be opaque"
    return rgba[..., :3]


def expected_gray(result: Invariances, index: int, angle: float) -> np.ndarray:
    """The frame Python computes for a direction and angle, on the video's gray scale."""
    return to_gray_bytes(result.frame(index, angle), result.gray_limit(index))


def assert_frame_matches(shown: dict, result: Invariances, index: int, angle: float) -> None:
    """The canvas shows Python's frame for (index, angle), within 8-bit rounding."""
    assert shown["index"] == index
    assert shown["angle"] == pytest.approx(angle, abs=1e-6)
    expected = expected_gray(result, index, angle).astype(int)
    difference = np.abs(shown["gray"].astype(int) - expected)
    assert difference.max() <= 1, f"canvas differs from Python's frame by {difference.max()} levels"
    assert np.ptp(expected) > 10, "a test frame should not be flat"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyter_lab(root: Path, timeout: float = 60.0, app: str = "lab"):
    """Run a headless JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) on
    127.0.0.1 serving ``root``; yields its base URL."""
    need(f"jupyter {app}", _has_module("jupyterlab" if app == "lab" else "notebook"))
    port = free_port()
    if app == "lab":
        settings = [
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    else:
        settings = ["--JupyterNotebookApp.expose_app_in_browser=True"]
    command = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        *settings,
        f"--ServerApp.root_dir={root}",
    ]
    with open(root / "jupyter.log", "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=root)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{url}/api/status", server, root / "jupyter.log", timeout)
            yield url
        finally:
            _stop(server)


@contextmanager
def marimo_app(app: Path, timeout: float = 60.0):
    """Run ``marimo run app.py --headless`` on a free port of 127.0.0.1; yields its URL."""
    need("marimo", _has_module("marimo"))
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "marimo",
        "run",
        str(app),
        "--headless",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-token",
    ]
    log_path = app.parent / "marimo.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=app.parent)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_for(url + "/", server, log_path, timeout)
            yield url
        finally:
            _stop(server)


def _wait_for(url: str, server: subprocess.Popen, log_path: Path, timeout: float) -> None:
    """Wait until ``url`` answers, or raise with the server's log."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log_path.read_text()}") from None
            time.sleep(0.3)


def _stop(server: subprocess.Popen) -> None:
    """Terminate a server process (kill it when it does not stop within 15 s)."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def open_notebook_and_run(
    page, url: str, notebook: str, timeout_ms: int = 90_000, app: str = "lab"
) -> None:
    """Open a notebook in JupyterLab or Notebook 7, wait for an idle kernel, run all cells."""
    page.goto(f"{url}/lab/tree/{notebook}" if app == "lab" else f"{url}/notebooks/{notebook}")
    page.wait_for_function(
        """() => {
            const app = window.jupyterapp;
            const panel = app && app.shell.currentWidget;
            const kernel = panel && panel.sessionContext && panel.sessionContext.session
                && panel.sessionContext.session.kernel;
            return Boolean(kernel && kernel.connectionStatus === "connected"
                && kernel.status === "idle");
        }""",
        timeout=timeout_ms,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def write_explorer_notebook(path: Path, arguments: str) -> None:
    """Write a one-cell notebook showing ``InvarianceExplorer(<arguments>)``.

    ``arguments`` is Python source, e.g. ``"TiledCNN.random(...), unit=4"``.
    """
    import nbformat

    cell = (
        "from tcnn_widgets.network import TiledCNN\n"
        "from tcnn_widgets.widget import InvarianceExplorer\n"
        f"explorer = InvarianceExplorer({arguments})\n"
        "explorer"
    )
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(cell)], metadata={"kernelspec": kernel}
    )
    nbformat.write(notebook, str(path))
