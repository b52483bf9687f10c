"""Ctrl-C that stops long work between steps instead of inside a compiled kernel.

Python raises ``KeyboardInterrupt`` wherever the interpreter happens to be when
SIGINT arrives. Inside a Numba-compiled call that surfaces as ``SystemError:
CPUDispatcher(...) returned a result with an exception set``, which no ``except
KeyboardInterrupt`` catches, and the work done so far is lost. Within
:func:`deferred_interrupt`, the first Ctrl-C only sets a flag; the loop checks it
between steps, saves what it has and stops. A second Ctrl-C raises at once, for a
user who really wants out.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """Defer the first Ctrl-C (SIGINT) of the block to the caller's next check.

    Yields
    ------
    callable
        ``requested()`` is True once Ctrl-C was pressed within the block.

    Outside the main thread (where Python cannot handle signals) nothing is
    deferred and ``requested()`` stays False.

    Example
    -------
    >>> with deferred_interrupt() as requested:
    ...     for step in range(3):
    ...         if requested():
    ...             break
    """
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield pressed.is_set
        return

    def handler(signum, frame):
        if pressed.is_set():
            raise KeyboardInterrupt
        pressed.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)
