"""Whole layers: many units analyzed in parallel, on every core or on a Dask cluster.

``tw.analyze(units, workers=..., executor=..., out=...)`` lands here (see
:func:`analyze_batch`). Results come back in input order and, with the same seed,
equal a serial run's bit for bit: each unit gets its own seed derived from the
batch seed (:func:`_unit_seeds`), every run uses one BLAS
thread, and Numba's parallel loops run over independent items (workers use one
Numba thread each, which changes no result).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from tqdm.auto import tqdm

from . import _validate
from ._batch import (
    analyze_one,
    pickle_units,
    run_executor,
    run_pool,
    units_digest,
)
from ._batchfile import BatchFile, StoredUnits, read_header
from ._interrupt import deferred_interrupt
from .results import Invariances
from .units import Unit


@dataclass(frozen=True)
class UnitFailure:
    """A unit of a batch that raised, or whose worker process died twice.

    Attributes
    ----------
    index : int
        Its position in the input list.
    name : str
        The unit's name.
    error : str
        ``"ExceptionType: message"``.
    traceback : str
        The full traceback, as printed where the unit ran.
    attempts : int
        How many times it was run (2 when its worker died and the retry died too).
    """

    index: int
    name: str
    error: str
    traceback: str
    attempts: int


class BatchError(RuntimeError):
    """Some units of a batch failed; the others finished and are kept.

    Attributes
    ----------
    failures : list of UnitFailure
        One per failed unit, in input order, with its traceback.
    results : list or StoredResults
        The results: a list with None at each failed unit, or, with ``out=``, the
        units stored in the file (run again with the same ``out`` to retry only the
        failed ones).
    """

    def __init__(self, failures: list[UnitFailure], results) -> None:
        self.failures = failures
        self.results = results
        lines = [f"  units[{f.index}] {f.name!r}: {f.error}" for f in failures[:10]]
        if len(failures) > 10:
            lines.append(f"  ... and {len(failures) - 10} more")
        super().__init__(
            f"{len(failures)} of the batch's units failed (the others finished; they are in "
            "error.results, and tracebacks in error.failures[i].traceback):\n" + "\n".join(lines)
        )


class StoredResults(Sequence):
    """The units of a batch file written by ``analyze(units, out=path)``, read on access.

    A sequence of :class:`~tcnn_widgets.Invariances` in input order; only the unit
    asked for is read, so a layer of thousands of units need not fit in memory.
    The file is also an ordinary results file: :func:`tcnn_widgets.load_results`
    reads it whole.

    Parameters
    ----------
    path : path-like
        The file.

    Example
    -------
    >>> stored = StoredResults("layer.npz")  # doctest: +SKIP
    >>> stored[3].curvatures, stored.indices[3]  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = _validate.input_path(path, "path")
        with StoredUnits(self.path) as stored:
            self.indices = stored.index
            self.total = stored.total

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        position = _validate.integer(position, "position")
        if not -len(self) <= position < len(self):
            raise IndexError(f"position {position} is outside 0..{len(self) - 1}")
        with StoredUnits(self.path) as stored:
            return Invariances.from_arrays(stored.arrays(position % len(self)))

    def __repr__(self) -> str:
        return f"StoredResults({str(self.path)!r}: {len(self)} of {self.total} units)"


def analyze_batch(
    units: Sequence[Unit],
    settings,
    seed: int | None,
    *,
    workers: int | None = None,
    executor=None,
    out: str | os.PathLike | None = None,
    precision: str = "float64",
    progress: bool = True,
    fold_every: float = 60.0,
) -> list[Invariances] | StoredResults:
    """Analyze many units, in parallel, optionally streaming them to a file.

    The list form of :func:`tcnn_widgets.analyze`, which documents the keywords.

    Parameters
    ----------
    units : sequence of Unit
    settings : tcnn_widgets.analysis.Settings
    seed : int or None
        Batch seed; None draws one (or, resuming ``out``, takes the file's).
    workers : int, optional
        Worker processes; 1 is serial. None decides: the first unit is analyzed in
        this process on one thread and timed (CPU seconds t, as a worker would
        spend); with c the time to send its result
        back (timed by pickling it there and back), r units left and w the cores
        this process may run on (at most r), worker processes start only when they
        save more than they cost, ``r * (t * (1 - 1/w) - c) > POOL_START_SECONDS``
        (0.07 s, measured on a 2-core machine by ``benchmarks/bench_batch.py``).
        When the saving is under 4 times that, a second unit is analyzed here and
        the faster time decides (one slow first unit does not start a pool).
        Otherwise the rest runs here too. Results are the same either way.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Run there instead (``workers`` must then be None).
    out : path-like, optional
        A `.npz` file to stream finished units to; resumes when it exists.
    precision : {"float64", "float32"}
        Precision of the display arrays as results travel and are stored.
    progress : bool
        A progress bar (tqdm.auto) fed by completions.
    fold_every : float
        With ``out``: seconds between rewrites of the file with the units finished
        so far (each unit is on disk at once in the parts folder anyway); a rewrite
        is also put off to at least 10 times its own duration, so that rewriting a
        large file never takes more than a tenth of the time.
        The parent's memory does not grow with the number of units: the file is
        written and read without holding the zip's table of contents (see
        ``tcnn_widgets._batchfile``).

    Returns
    -------
    list of Invariances, or StoredResults when ``out`` is given

    Raises
    ------
    BatchError
        After the batch, when some units failed (the others are kept).
    TypeError
        For a non-Unit item, a unit that cannot be pickled (before any work), or a
        bad ``workers``/``executor``.
    ValueError
        When ``out`` holds a batch of other units, seed or settings.
    """
    units = list(units)
    for i, item in enumerate(units):
        if not isinstance(item, Unit):
            raise TypeError(f"units[{i}] is a {type(item).__name__}, not a Unit")
    auto = workers is None and executor is None
    workers = _check_workers(workers, executor)
    path = None if out is None else _validate.output_path(out, "out", suffixes=(".npz",))
    precision = _validate.choice(precision, "precision", ("float64", "float32"))
    fold_every = _validate.real(fold_every, "fold_every", minimum=0)
    threads = isinstance(executor, ThreadPoolExecutor)
    digest = None  # also checks, before any work, that the units can be pickled
    if (
        path is not None
        or (workers > 1 and len(units) > 1)
        or (executor is not None and not threads)
    ):
        digest = units_digest(units)
    if seed is None:
        stored = read_header(path) if path is not None else None
        seed = int(stored["batch.seed"]) if stored is not None else _random_seed()
    seeds = _unit_seeds(seed, len(units))
    file = None
    if path is not None:
        header = _header(len(units), seed, settings, precision, digest)
        file = BatchFile(path, header, fold_every=fold_every)
    done = file.done() if file is not None else np.zeros(len(units), dtype=bool)
    todo = np.flatnonzero(~done).tolist()
    results: list[Invariances | None] | None = [None] * len(units) if file is None else None
    failures: list[UnitFailure] = []
    bar = tqdm(total=len(units), initial=int(done.sum()), desc="units", disable=not progress)

    def deliver(index: int, outcome, attempts: int) -> None:
        arrays, error, trace = outcome
        if arrays is None:
            name = getattr(units[index], "name", "") or ""
            failures.append(UnitFailure(index, name, error, trace, attempts))
        elif file is not None:
            file.add(index, arrays)
            file.fold_if_due()
        else:
            results[index] = Invariances.from_arrays(arrays)
        bar.update(1)

    try:
        if todo:
            _run(units, todo, seeds, settings, precision, workers, executor, auto, deliver)
    except KeyboardInterrupt:
        if file is not None:
            print(
                f"\nInterrupted: the finished units are in {str(path)!r}; run the same call "
                "again to resume.",
                file=sys.stderr,
            )
        raise
    finally:
        bar.close()
        if file is not None:
            file.fold()
            file.close()
    failures.sort(key=lambda f: f.index)
    final = StoredResults(path) if path is not None else results
    if failures:
        raise BatchError(failures, final)
    return final


def _run(units, todo, seeds, settings, precision, workers, executor, auto, deliver) -> None:
    """Analyze ``units[i]`` for i in ``todo`` where asked, handing each to ``deliver``.

    With ``auto`` (``workers=None`` and no executor), the first unit is analyzed here
    and worker processes start only when :func:`_pool_saves` says the rest is worth
    it (a second unit is analyzed here when the first leaves it borderline).
    """
    client = _dask_client(executor)
    if client is not None:
        from ._dask import run_dask  # the [dask] extra, present since a client is

        cf = executor if executor is not client else client.get_executor(pure=False)
        run_dask(client, cf, pickle_units(units), todo, seeds, settings, precision, deliver)
        return
    if executor is not None:
        run_executor(
            executor,
            lambda i: executor.submit(analyze_one, units[i], settings, seeds[i], precision),
            todo,
            deliver,
        )
        return
    with deferred_interrupt() as requested:  # Ctrl-C waits for the unit in hand
        fastest, probes = float("inf"), 0
        while auto and workers > 1 and len(todo) > 1 and probes < 2:
            first, todo = todo[0], todo[1:]  # probe here: one unit, a second if borderline
            threads = numba.get_num_threads()
            numba.set_num_threads(1)  # as in a worker: CPU time without idle spinning
            try:
                start = time.thread_time()  # this thread's CPU time only
                outcome = analyze_one(units[first], settings, seeds[first], precision)
                fastest, probes = min(fastest, time.thread_time() - start), probes + 1
            finally:
                numba.set_num_threads(threads)
            deliver(first, outcome, 1)
            if requested():
                raise KeyboardInterrupt
            saved = _pool_saves(fastest, outcome[0], len(todo), workers)
            if saved <= POOL_START_SECONDS:
                workers = 1
            elif saved > 4 * POOL_START_SECONDS:
                break
        if workers == 1 or len(todo) < 2:
            for i in todo:
                deliver(i, analyze_one(units[i], settings, seeds[i], precision), 1)
                if requested():
                    raise KeyboardInterrupt
            return
    run_pool(units, todo, seeds, settings, precision, min(workers, len(todo)), deliver)


# What a pool of 2 workers costs on top of the analyses, as wall time on an idle
# 2-core machine: about 140 ms of CPU time (benchmarks/bench_batch.py, break-even
# table: 2 workers' CPU minus serial CPU, for 16 to 64 small units), shared by the
# 2 cores. Forking the workers, their first analysis (thread pools and kernels are
# set up on first use: 17 ms slower than the next) and the results' trip back.
POOL_START_SECONDS = 0.07


def _pool_saves(seconds: float, arrays: dict | None, remaining: int, workers: int) -> float:
    """Seconds that ``workers`` processes would save on ``remaining`` units, before start-up.

    ``seconds`` is the CPU time of one unit analyzed here (``arrays`` its result,
    None if it failed). A pool saves ``seconds * (1 - 1/w)`` a unit on
    ``w = min(workers, remaining)`` workers, less the time to send each result back
    (timed here by pickling ``arrays`` there and back). Compared with
    :data:`POOL_START_SECONDS` by the caller.
    """
    workers = min(workers, remaining)
    if workers < 2:
        return 0.0
    transport = 0.0
    if arrays is not None:
        start = time.process_time()
        pickle.loads(pickle.dumps(arrays, protocol=pickle.HIGHEST_PROTOCOL))
        transport = time.process_time() - start
    return remaining * (seconds * (1 - 1 / workers) - transport)


def _unit_seeds(seed: int, count: int) -> np.ndarray:
    """Independent per-unit seeds from one batch seed (each reproduces its unit alone).

    The seed of unit i is drawn from the i-th child of ``SeedSequence(seed)``, which is
    ``SeedSequence(seed, spawn_key=(i,))``: making them one at a time keeps 8 bytes a
    unit instead of a SeedSequence each.
    """
    seeds = np.empty(count, dtype=np.int64)
    for i in range(count):
        state = np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1, dtype=np.uint64)
        seeds[i] = int(state[0] >> 1)
    return seeds


def _check_workers(workers, executor) -> int:
    """``workers`` as an int (None: the cores this process may use), checked with ``executor``."""
    if executor is not None and workers is not None:
        raise TypeError("give workers or executor, not both (the executor has its own workers)")
    if (
        executor is not None
        and _dask_client(executor) is None
        and not isinstance(executor, Executor)
    ):
        raise TypeError(
            "executor must be a concurrent.futures.Executor or a dask.distributed.Client, "
            f"got {type(executor).__name__}"
        )
    if workers is None:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return _validate.integer(workers, "workers", minimum=1)


def _random_seed() -> int:
    return int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)


def _header(total: int, seed: int, settings, precision: str, digest: str) -> dict[str, np.ndarray]:
    """What a resumed batch must share with the file it continues."""
    values = {"precision": precision}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if callable(value):
            value = f"callable {getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', '?')}"
        values[field.name] = (
            value if value is None or isinstance(value, (str, int)) else float(value)
        )
    return {
        "batch.total": np.asarray(total, dtype=np.int64),
        "batch.seed": np.asarray(seed, dtype=np.int64),
        "batch.settings": np.asarray(json.dumps(values, sort_keys=True)),
        "batch.units": np.asarray(digest),
    }


def _dask_client(executor):
    """The Dask client behind ``executor`` (a Client or its ``get_executor()``), else None."""
    distributed = sys.modules.get("distributed")
    if executor is None or distributed is None:
        return None
    if isinstance(executor, distributed.Client):
        return executor
    from distributed.cfexecutor import ClientExecutor

    if isinstance(executor, ClientExecutor):
        return executor._client  # to send the units once per worker
    return None
