"""Running a batch of units on a Dask cluster (behind ``batch.py``; the ``[dask]`` extra).

The pickled unit list reaches every worker once, as a worker plugin: the scheduler
keeps it and hands it to each worker that joins, including one that a nanny starts
again after a death. (Scattered data would be lost with the workers holding it, and
the tasks needing it could then wait forever.) A task is then an index, a seed and
the settings.

Dask reschedules the tasks of a worker that dies, up to its
``distributed.scheduler.allowed-failures``; each task counts its starts in the
scheduler's task metadata, so that a unit is retried once, then reported, as on our
own pool.
"""

from __future__ import annotations

import pickle
import uuid
from collections import deque
from concurrent.futures import Future

import numba
from distributed import get_client, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from ._batch import DIED, Deliver, analyze_one, drain

RUNS_KEY = "tcnn_widgets-runs"  # the scheduler's task metadata: starts of each unit


class UnitsPlugin(WorkerPlugin):
    """The pickled unit list on each worker, unpickled there on first use.

    One bytes payload keeps an object that the units share (a network) shared;
    Dask would serialize a list element by element.
    """

    idempotent = False  # a batch registers its own, under its own name

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self._units: list | None = None

    def __getstate__(self) -> dict:
        return {"payload": self.payload, "_units": None}

    @property
    def units(self) -> list:
        if self._units is None:
            self._units = pickle.loads(self.payload)
        return self._units


def analyze_on_worker(
    plugin: str, index: int, settings, seed: int, precision: str, batch: str
) -> tuple:
    """Task on a Dask worker: the unit at ``index`` of the worker's :class:`UnitsPlugin`.

    Counts its runs that did not end in the scheduler's task metadata (under
    :data:`RUNS_KEY`, ``batch``, ``index``), which survives the death of a worker: a
    run adds one when it starts and takes it back when it ends, so the third start
    means two runs died with their workers, and reports :data:`DIED` instead of
    running the unit again.

    Returns
    -------
    tuple
        The outcome and the number of runs: ``(arrays, error, trace, runs)``.
    """
    client = get_client()
    keys = [RUNS_KEY, batch, str(index)]
    runs = client.get_metadata(keys, default=0) + 1
    client.set_metadata(keys, runs)
    if runs > 2:
        return None, DIED, DIED + "\n", 2
    numba.set_num_threads(1)  # per thread; Dask workers of several threads share cores
    units = get_worker().plugins[plugin].units
    outcome = analyze_one(units[index], settings, seed, precision)
    # a run that ends is no death: the count goes back, so that a result lost with a
    # worker that died later (and computed again) does not look like a deadly unit
    client.set_metadata(keys, runs - 1)
    return (*outcome, runs)


def run_dask(
    client, executor, payload: bytes, todo, seeds, settings, precision: str, deliver: Deliver
) -> None:
    """Run ``todo`` on a Dask cluster: a unit is retried once after its worker dies.

    When the scheduler gives up before :func:`analyze_on_worker` does
    (``KilledWorker``, with allowed-failures 0), the unit is submitted once more
    here, so "retried once, then reported" holds whatever that setting is, without
    changing it. The plugin and the run counts are removed at the end (one empty
    entry per batch stays in the scheduler's task metadata).
    """
    batch = uuid.uuid4().hex
    plugin = f"tcnn_widgets-units-{batch}"
    queue = deque(todo)

    def submit(i: int) -> Future:
        return executor.submit(analyze_on_worker, plugin, i, settings, seeds[i], precision, batch)

    def deliver_runs(index: int, outcome: tuple, attempts: int) -> None:
        if len(outcome) == 4:  # the task ran to its end
            deliver(index, outcome[:3], outcome[3])
            return
        runs = client.get_metadata([RUNS_KEY, batch, str(index)], default=0)
        if runs < 2 and (outcome[1] or "").startswith("KilledWorker"):
            queue.append(index)  # the scheduler gave up before our one retry
        else:
            deliver(index, outcome, max(runs, attempts))

    client.register_plugin(UnitsPlugin(payload), name=plugin)
    try:
        drain(submit, queue, len(todo), deliver_runs, {})
    finally:
        try:
            client.set_metadata([RUNS_KEY, batch], {})
        finally:
            client.unregister_worker_plugin(plugin)
