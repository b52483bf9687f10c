"""Real processes for tests of signals: start a Python child, interrupt it when ready."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_python(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    """Start ``python *args`` in a new process, importing this checkout's package."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def interrupt_when(
    process: subprocess.Popen, ready: Callable[[], bool], *, delay: float = 0.0, limit: float = 300
) -> tuple[int, str, str]:
    """Send SIGINT to ``process`` once ``ready()`` holds (plus ``delay`` s); wait for its end.

    Returns
    -------
    (returncode, stdout, stderr)

    Raises
    ------
    AssertionError
        When the process ends before it was ready, or ``ready`` never holds in ``limit`` s.
    """
    deadline = time.monotonic() + limit
    while not ready():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"the process ended before it was interrupted:\n{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("the process never got ready to be interrupted")
        time.sleep(0.02)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=limit)
    return process.returncode, out, err
