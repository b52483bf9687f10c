"""Running a batch of units on worker processes or on an executor (behind ``batch.py``).

Three ways to run, one loop (:func:`drain`):

- our own :class:`~concurrent.futures.ProcessPoolExecutor` (``workers=N``): the
  pickled unit list goes to each worker process once, through the pool's
  initializer; a task is then just an index, a seed and the settings. A worker that
  dies breaks the pool: a new pool is started and the units that were running are
  retried one at a time, so that a unit that kills its worker again is known to be
  the culprit and reported;
- a Dask client (``_dask.run_dask``, which uses :func:`drain` too);
- any other executor: each task carries its unit.

Tasks return plain arrays (:meth:`Invariances.to_arrays`) or an error text and its
traceback, never raise: a failing unit does not sink the batch.
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import pickle
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    CancelledError,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool

import numba

# (arrays of Invariances.to_arrays, error line, traceback); arrays is None on error
Outcome = tuple[dict | None, str | None, str | None]
# deliver(index, outcome, attempts): the loop hands every finished unit to this
Deliver = Callable[[int, Outcome, int], None]

# The unit list of this worker process, installed once by the pool's initializer.
# Only ever set inside worker processes of our own pool.
_worker_units: list | None = None

PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
DIED = "WorkerDied: its worker process died (killed, or out of memory)"


def pickle_units(units: Sequence) -> bytes:
    """The unit list pickled once (shared objects, such as a network, are stored once).

    Raises
    ------
    TypeError
        Naming the first unit that cannot be pickled, before any work starts.
    """
    try:
        return pickle.dumps(list(units), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - pickling raises many kinds; find the unit below
        name_unpicklable(units)
        raise


def units_digest(units: Sequence) -> str:
    """SHA-256 of :func:`pickle_units`' bytes, pickled straight into the hash (no copy kept).

    Raises
    ------
    TypeError
        Naming the first unit that cannot be pickled, before any work starts.
    """
    digest = hashlib.sha256()
    try:
        pickle.Pickler(_HashWriter(digest), protocol=pickle.HIGHEST_PROTOCOL).dump(list(units))
    except Exception:  # noqa: BLE001 - pickling raises many kinds; find the unit below
        name_unpicklable(units)
        raise
    return digest.hexdigest()


class _HashWriter:
    """A write-only file feeding a hash."""

    def __init__(self, digest) -> None:
        self.write = digest.update


def name_unpicklable(units: Sequence) -> None:
    """Raise a TypeError naming the first unit that cannot be pickled, if there is one."""
    for i, unit in enumerate(units):
        try:
            pickle.dumps(unit, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001
            raise TypeError(
                f"units[{i}] ({type(unit).__name__} {getattr(unit, 'name', '')!r}) cannot be "
                f"sent to worker processes: {type(error).__name__}: {error}. Units of a "
                "parallel batch (or one written to out=) must be picklable: define functions "
                "at module level instead of lambdas or closures, or pass workers=1"
            ) from None


def analyze_one(unit, settings, seed: int, precision: str) -> Outcome:
    """Analyze one unit; the result as arrays at ``precision``, or the error and traceback."""
    from .analysis import _threadpools, analyze_unit  # analysis imports this module's users

    try:
        with _threadpools().limit(limits=1, user_api="blas"):
            result = analyze_unit(unit, settings, seed)
            return result.to_arrays(precision=precision), None, None
    except Exception as error:  # noqa: BLE001 - reported per unit, the batch goes on
        return None, f"{type(error).__name__}: {error}", traceback.format_exc()


def install_units(units: list | bytes, parent: int) -> None:
    """Initializer of our worker processes: the unit list, once; one kernel thread.

    ``units`` is the list itself when the workers are forked (they inherit it; nothing
    is pickled), else its :func:`pickle_units` bytes.

    Ctrl-C is left to the parent, which stops the pool and saves what is finished.
    On Linux a worker is killed when its parent dies (even by SIGKILL), instead of
    computing on for nobody.
    """
    global _worker_units
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(1)
    numba.set_num_threads(1)
    _worker_units = pickle.loads(units) if isinstance(units, bytes) else units


def analyze_installed(index: int, settings, seed: int, precision: str) -> Outcome:
    """Task of our own pool: the unit at ``index`` of the installed list."""
    return analyze_one(_worker_units[index], settings, seed, precision)


def drain(
    submit: Callable[[int], Future],
    queue: deque,
    limit: int,
    deliver: Deliver,
    attempts: dict[int, int],
    *,
    isolate: deque | None = None,
) -> list[int]:
    """Run the indices of ``queue`` (and, one at a time, of ``isolate``) to the end.

    Parameters
    ----------
    submit : callable
        ``submit(index) -> Future`` whose result is an :data:`Outcome`.
    queue : deque of int
        Indices to run, at most ``limit`` in flight.
    limit : int
        Tasks in flight at once (a few per worker keeps each busy).
    deliver : callable
        Called with ``(index, outcome, attempts)`` as each unit ends.
    attempts : dict of int to int
        Runs so far of each index that may still be retried (updated; an index
        leaves it when delivered, so that it does not grow with the batch).
    isolate : deque of int, optional
        Indices to run alone, before the others (retries after a worker died).

    Returns
    -------
    list of int
        The indices in flight when the pool broke (a worker process died), empty
        when everything ran. Only our own pool can break this way.
    """
    isolate = isolate if isolate is not None else deque()
    in_flight: dict[Future, int] = {}
    try:
        while queue or isolate or in_flight:
            refused = False  # the pool broke before it took the next index
            if isolate:
                if not in_flight:
                    refused = not _submit_next(submit, isolate, in_flight)
            else:
                while queue and len(in_flight) < limit and not refused:
                    refused = not _submit_next(submit, queue, in_flight)
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            if refused or any(isinstance(_exception(f), BrokenProcessPool) for f in done):
                wait(in_flight)  # a broken pool fails every task it holds at once
                done = set(in_flight)
            suspects = []
            for future in done:
                index = in_flight.pop(future)
                attempts[index] = attempts.get(index, 0) + 1
                error = _exception(future)
                if isinstance(error, BrokenProcessPool):
                    suspects.append(index)
                elif error is not None:  # the executor failed, e.g. Dask's KilledWorker
                    text = "".join(traceback.format_exception(error))
                    deliver(
                        index, (None, f"{type(error).__name__}: {error}", text), attempts[index]
                    )
                else:
                    deliver(index, future.result(), attempts[index])
                if index not in suspects:
                    del attempts[index]  # kept only while a retry may follow
            if suspects or refused:
                return sorted(suspects)
        return []
    except BaseException:  # Ctrl-C: leave nothing queued behind
        for future in in_flight:
            future.cancel()
        raise


def _submit_next(submit: Callable[[int], Future], source: deque, in_flight: dict) -> bool:
    """Submit the first index of ``source``; False, with the index put back, when the
    pool broke before taking it (a worker died since the last wait)."""
    index = source.popleft()
    try:
        in_flight[submit(index)] = index
    except BrokenProcessPool:
        source.appendleft(index)  # it never ran: it waits for the next pool
        return False
    return True


def _exception(future: Future) -> BaseException | None:
    """The future's exception; a CancelledError for a cancelled future."""
    return CancelledError("the task was cancelled") if future.cancelled() else future.exception()


def run_pool(
    units: list,
    todo: Sequence[int],
    seeds: Sequence[int],
    settings,
    precision: str,
    workers: int,
    deliver: Deliver,
) -> None:
    """Run ``todo`` on our own pool of ``workers`` processes, retrying after worker deaths.

    The units that were running when a worker died are run again, one at a time,
    on a new pool; one that kills its worker again is reported (:data:`DIED`).
    """
    # fork: workers start in milliseconds with the parent's imports and compiled
    # kernels, and scripts need no ``if __name__ == "__main__"`` guard (spawn and
    # forkserver run the main script again in every worker). Spawn where there is no fork.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    shipped = units if context.get_start_method() == "fork" else pickle_units(units)
    queue, isolate = deque(todo), deque()
    attempts: dict[int, int] = {}
    while queue or isolate:
        before = set(multiprocessing.active_children())
        pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=install_units, initargs=(shipped, os.getpid())
        )
        try:
            alone = bool(isolate)
            suspects = drain(
                lambda i, pool=pool: pool.submit(
                    analyze_installed, i, settings, seeds[i], precision
                ),
                queue,
                2 * workers,
                deliver,
                attempts,
                isolate=isolate,
            )
        except BaseException:
            stop_pool(pool, before)
            raise
        pool.shutdown(wait=True)
        for index in suspects:
            if alone or attempts[index] > 1:
                deliver(index, (None, DIED, DIED + "\n"), attempts[index])
            else:
                isolate.append(index)


def stop_pool(pool: ProcessPoolExecutor, before: set) -> None:
    """Stop our pool now (Ctrl-C): cancel what waits, end the processes it started."""
    pool.shutdown(wait=False, cancel_futures=True)
    started = set(multiprocessing.active_children()) - before
    for process in started:
        process.terminate()
    for process in started:
        process.join(timeout=5)


def run_executor(
    executor: Executor, submit: Callable[[int], Future], todo: Sequence[int], deliver: Deliver
) -> None:
    """Run ``todo`` on an executor that we do not own (it is left running)."""
    attempts: dict[int, int] = {}
    queue = deque(todo)
    broken = drain(submit, queue, len(todo), deliver, attempts)
    # a process pool of the caller's broke: it cannot be restarted, and holds the rest
    message = DIED + "; the executor is broken and ran nothing more"
    for index in [*broken, *queue]:
        deliver(index, (None, message, message + "\n"), attempts.get(index, 0))
