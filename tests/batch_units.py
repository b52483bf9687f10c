"""Picklable units for tests/test_batch.py: they fail, kill their worker, or log their runs.

They live in a module of their own so that worker processes can import them.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tcnn_widgets.network import TiledCNN
from tcnn_widgets.units import PoolingUnit


def small_units(count: int = 16) -> list[PoolingUnit]:
    """``count`` pooling units on 5 x 5 fields (16 unit types per network, seeds 0, 1, ...)."""
    units = []
    seed = 0
    while len(units) < count:
        net = TiledCNN.random(maps=4, tile=2, field=4, pool=2, image_size=8, seed=seed)
        units.extend(net.unit_types())
        seed += 1
    return units[:count]


def like(cls, unit: PoolingUnit, **attributes) -> PoolingUnit:
    """A unit of class ``cls`` computing exactly what ``unit`` computes."""
    copy = cls(unit.filters, unit.eps, name=unit.name)
    for key, value in attributes.items():
        setattr(copy, key, value)
    return copy


class FailingUnit(PoolingUnit):
    """Raises inside the analysis."""

    def values_and_grads(self, X):
        raise ValueError("this unit is broken on purpose")


class DyingUnit(PoolingUnit):
    """Kills its own worker process (SIGKILL) the first time it runs anywhere.

    ``marker`` is a file to which each run appends its process id as it starts;
    when the file held a line already, the unit computes normally. With
    ``always=True`` it kills every process it runs in.
    """

    marker: str = ""
    always: bool = False

    def values_and_grads(self, X):
        if not getattr(self, "_started", False):  # once per run (per unpickled copy)
            self._started = True
            first = not Path(self.marker).exists()
            with open(self.marker, "a") as log:
                log.write(f"{os.getpid()}\n")
            if self.always or first:
                os.kill(os.getpid(), signal.SIGKILL)
        return super().values_and_grads(X)


class PidUnit(PoolingUnit):
    """Appends the id of the process it runs in to the file $TCNN_BATCH_LOG (once per run)."""

    def values_and_grads(self, X):
        if not getattr(self, "_started", False):
            self._started = True
            with open(os.environ["TCNN_BATCH_LOG"], "a") as log:
                log.write(f"{os.getpid()}\n")
        return super().values_and_grads(X)


class LoggingUnit(PoolingUnit):
    """Appends ``index`` to the file named by $TCNN_BATCH_LOG when its analysis starts,
    then sleeps ``$TCNN_BATCH_DELAY`` seconds (once per process)."""

    index: int = -1

    def values_and_grads(self, X):
        if not getattr(self, "_started", False):
            self._started = True
            with open(os.environ["TCNN_BATCH_LOG"], "a") as log:
                log.write(f"{self.index}\n")
            time.sleep(float(os.environ.get("TCNN_BATCH_DELAY", "0")))
        return super().values_and_grads(X)


class FlakyUnit(PoolingUnit):
    """Raises the first time it runs anywhere (creating ``marker``), then computes."""

    marker: str = ""

    def values_and_grads(self, X):
        if not Path(self.marker).exists():
            Path(self.marker).touch()
            raise RuntimeError("flaky the first time")
        return super().values_and_grads(X)


class Shared:
    """A large object shared by many units (as a network is): logs each unpickling
    as ``pid`` to the file named by $TCNN_BATCH_LOG."""

    def __init__(self, data):
        self.data = data

    def __setstate__(self, state):
        self.__dict__.update(state)
        with open(os.environ["TCNN_BATCH_LOG"], "a") as log:
            log.write(f"{os.getpid()}\n")


class SharedUnit(PoolingUnit):
    """A pooling unit that holds a reference to a :class:`Shared` object."""

    shared: Shared | None = None


def logging_units(count: int) -> list[LoggingUnit]:
    return [like(LoggingUnit, u, index=i) for i, u in enumerate(small_units(count))]


if __name__ == "__main__":  # python batch_units.py OUT COUNT WORKERS FOLD_EVERY: tests interrupt it
    from tcnn_widgets.analysis import Settings
    from tcnn_widgets.batch import analyze_batch

    out, count, workers, fold_every = sys.argv[1:5]
    units = logging_units(int(count))
    analyze_batch(
        units,
        Settings(),
        7,
        workers=int(workers),
        out=out,
        progress=False,
        fold_every=float(fold_every),
    )
