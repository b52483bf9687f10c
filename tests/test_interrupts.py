"""Ctrl-C in real processes: training and report writing stop cleanly and lose nothing.

A SIGINT is sent to a child process at a moment when it is busy (most of the time
inside Numba-compiled kernels, where a plain KeyboardInterrupt would escape as a
SystemError). The child must end with status 130, print no traceback, and leave
only complete, loadable files.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image
from processes import interrupt_when, start_python

from tcnn_widgets import TiledCNN, load_results

TRAIN = ["-m", "tcnn_widgets", "train", "--maps", "4", "--field", "8", "--pool", "2"]


@pytest.mark.parametrize("delay", [0.0, 0.4, 1.1])
def test_ctrl_c_during_training_saves_the_network_and_a_checkpoint_that_resumes(tmp_path, delay):
    out, checkpoint = tmp_path / "w.npz", tmp_path / "w.checkpoint.npz"
    args = [*TRAIN, "--images", "400", "--out", str(out), "--quiet", "--method", "projected"]
    child = start_python(*args, "--steps", "100000", "--checkpoint-every", "1")
    status, _, err = interrupt_when(child, checkpoint.is_file, delay=delay)
    assert status == 130, err
    assert "Traceback" not in err and "SystemError" not in err, err
    assert f"--resume {checkpoint}" in err
    assert np.all(np.isfinite(TiledCNN.load(out).weights))
    with np.load(checkpoint) as saved:
        steps = int(saved["steps"])
    assert steps >= 1
    resumed = start_python(*args, "--steps", str(steps + 1), "--resume", str(checkpoint))
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    with np.load(checkpoint) as saved:
        assert int(saved["steps"]) == steps + 1


def test_ctrl_c_during_train_tica_returns_the_last_whole_step(tmp_path):
    code = (
        "import sys, numpy as np\n"
        "from tcnn_widgets.training import embedded_images, preprocess, train_tica\n"
        "X = preprocess(embedded_images())[:400]\n"
        "print('training', flush=True)\n"
        f"r = train_tica(X, maps=4, field=8, pool=2, steps=100000, progress=False, "
        f"method='projected', checkpoint={str(tmp_path / 'c.npz')!r}, checkpoint_every=1)\n"
        "print(r.interrupted, r.steps, len(r.objective), np.all(np.isfinite(r.filters)))\n"
    )
    child = start_python("-c", code)
    status, out, err = interrupt_when(child, (tmp_path / "c.npz").is_file, delay=0.3)
    assert status == 0, err
    interrupted, steps, history, finite = out.split()[-4:]
    assert interrupted == "True" and finite == "True"
    assert int(history) == int(steps) + 1  # the objective of every whole step, and the start


def test_ctrl_c_while_writing_a_report_leaves_only_complete_files(tmp_path):
    report = tmp_path / "report"
    child = start_python("-m", "tcnn_widgets", "demo", "--out", str(report), "--quiet")

    def writing() -> bool:
        return report.is_dir() and any(report.rglob("*_invariant.png"))  # a video

    status, _, err = interrupt_when(child, writing, delay=0.2)
    assert status == 130, err
    assert "Traceback" not in err, err
    assert not list(report.rglob("*.tmp")), "a temporary file was left behind"
    assert not (report / "index.html").exists(), "the index is written last, only when complete"
    for path in report.rglob("*.npz"):
        assert zipfile.is_zipfile(path)
        assert load_results(path)
    for path in report.rglob("*_invariant.png"):
        with Image.open(path) as image:
            image.seek(image.n_frames - 1)  # every frame of a video decodes
    for path in report.rglob("*.png"):
        with Image.open(path) as image:
            image.load()
