"""Batches of units: worker processes, executors, a real Dask cluster, faults, out= files.

Real components only: real worker processes killed by real signals, a real
``dask.distributed.LocalCluster``, a real parent process interrupted by SIGINT and
SIGKILL. References are serial runs in this process.
"""

from __future__ import annotations

import filecmp
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from batch_units import (
    DyingUnit,
    FailingUnit,
    FlakyUnit,
    PidUnit,
    Shared,
    SharedUnit,
    like,
    small_units,
)

import tcnn_widgets as tw
from tcnn_widgets.batch import BatchError, StoredResults
from tcnn_widgets.cli import main
from tcnn_widgets.network import TiledCNN
from tcnn_widgets.units import CallableUnit

HERE = Path(__file__).parent


def assert_same(results, reference) -> None:
    """Every field of every result equal, bit for bit, in the same order."""
    assert len(results) == len(reference)
    for got, want in zip(results, reference, strict=True):
        got, want = got.to_arrays(), want.to_arrays()
        assert got.keys() == want.keys()
        for key in want:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key, strict=True)


@pytest.fixture(scope="module")
def units():
    return small_units(12)


@pytest.fixture(scope="module")
def serial(units):
    return tw.analyze(units, seed=3, workers=1, progress=False)


def test_serial_batch_reproduces_each_unit_alone(units, serial):
    alone = tw.analyze(units[4], seed=serial[4].seed)
    assert_same([alone], [serial[4]])


def test_worker_processes_equal_serial_in_input_order(units, serial):
    assert_same(tw.analyze(units, seed=3, workers=2, progress=False), serial)
    assert_same(tw.analyze(units, seed=3, progress=False), serial)  # workers=None: all cores


def test_matrix_free_batches_equal_serial_and_resume(units, tmp_path):
    options = dict(seed=3, directions=2, method="matrix-free", progress=False)
    serial = tw.analyze(units[:4], workers=1, **options)
    assert serial[0].method == "matrix-free" and serial[0].n_directions == 4
    assert_same(tw.analyze(units[:4], workers=2, **options), serial)
    out = tmp_path / "layer.npz"
    assert_same(list(tw.analyze(units[:4], workers=2, out=out, **options)), serial)
    with pytest.raises(ValueError, match="directions stored 2, now 3"):
        tw.analyze(units[:4], workers=2, out=out, **{**options, "directions": 3})


def test_any_executor_equals_serial(units, serial):
    with ThreadPoolExecutor(2) as threads:
        assert_same(tw.analyze(units, seed=3, executor=threads, progress=False), serial)
    with ProcessPoolExecutor(2) as processes:
        assert_same(tw.analyze(units, seed=3, executor=processes, progress=False), serial)


def test_dask_local_cluster_equals_serial_and_retries_a_killed_worker(
    units, serial, tmp_path, monkeypatch
):
    distributed = pytest.importorskip("distributed")  # the [dask] extra; in [test] too
    log = tmp_path / "log"
    monkeypatch.setenv("TCNN_BATCH_LOG", str(log))  # before the workers start
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert_same(tw.analyze(units, seed=3, executor=client, progress=False), serial)
        executor = client.get_executor()
        assert_same(tw.analyze(units, seed=3, executor=executor, progress=False), serial)
        marker = tmp_path / "killed"
        dying = [*units[:5], like(DyingUnit, units[5], marker=str(marker)), *units[6:]]
        assert_same(tw.analyze(dying, seed=3, executor=client, progress=False), serial)
        runs = marker.read_text().split()  # the process id of each run
        assert len(runs) == 2 and runs[0] != runs[1]  # killed, then retried once elsewhere
        check_always_dying_unit_is_reported(client, units, serial, tmp_path / "always")
        shared = Shared(np.zeros(100_000))
        many = [like(SharedUnit, u, shared=shared) for u in units]
        assert_same(tw.analyze(many, seed=3, executor=client, progress=False), serial)
        pids = log.read_text().split()
        assert 1 <= len(pids) <= 2 and len(set(pids)) == len(pids)  # once per worker


def check_always_dying_unit_is_reported(client, units, serial, marker) -> None:
    """A unit that kills every worker it runs on: run twice, then reported (on Dask)."""
    dying = [*units[:3], like(DyingUnit, units[3], marker=str(marker), always=True), *units[4:6]]
    with pytest.raises(BatchError, match=r"units\[3\]") as caught:
        tw.analyze(dying, seed=3, executor=client, progress=False)
    [failure] = caught.value.failures
    assert (failure.index, failure.attempts) == (3, 2), failure
    runs = marker.read_text().split()
    assert len(runs) == 2 and runs[0] != runs[1]
    results = caught.value.results
    assert_same(results[:3] + results[4:6], serial[:3] + serial[4:6])
    return failure


def test_dask_retries_once_when_the_scheduler_allows_no_retry(units, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            marker = tmp_path / "killed"
            dying = [*units[:2], like(DyingUnit, units[2], marker=str(marker)), *units[3:6]]
            assert_same(tw.analyze(dying, seed=3, executor=client, progress=False), serial[:6])
            assert len(marker.read_text().split()) == 2
            failure = check_always_dying_unit_is_reported(client, units, serial, tmp_path / "a")
            assert "KilledWorker" in failure.error  # the scheduler's report of the second death


def test_cli_workers_and_scheduler(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    net = TiledCNN.random(maps=2, tile=2, field=4, pool=2, image_size=8, seed=5)
    weights = tmp_path / "net.npz"
    net.save(weights)
    reference = tw.analyze(net.unit_types()[:3], seed=0, workers=1, progress=False)
    common = ["analyze", str(weights), "--units", "0", "1", "2", "--featured", "0", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "w"), "--workers", "2"]) == 0
    assert_same(tw.load_results(tmp_path / "w" / "units" / "results.npz"), reference)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        address = cluster.scheduler_address
        assert main([*common, "--out", str(tmp_path / "d"), "--scheduler", address]) == 0
    assert_same(tw.load_results(tmp_path / "d" / "units" / "results.npz"), reference)
    capsys.readouterr()
    assert main([*common, "--out", str(tmp_path / "x"), "--scheduler", "tcp://127.0.0.1:9"]) == 1
    assert "cannot reach a Dask scheduler" in capsys.readouterr().err
    assert main([*common, "--scheduler", address, "--workers", "2"]) == 1
    assert "not both" in capsys.readouterr().err


def test_killed_worker_is_retried_elsewhere(units, serial, tmp_path):
    marker = tmp_path / "killed"
    dying = [*units[:7], like(DyingUnit, units[7], marker=str(marker)), *units[8:]]
    assert_same(tw.analyze(dying, seed=3, workers=2, progress=False), serial)
    runs = marker.read_text().split()
    assert len(runs) == 2 and runs[0] != runs[1]


def test_workers_none_starts_processes_only_when_they_pay(units, serial, tmp_path, monkeypatch):
    log = tmp_path / "log"
    monkeypatch.setenv("TCNN_BATCH_LOG", str(log))
    here = str(os.getpid())
    # 2 units: after the first, one is left, which no pool can split
    two = [like(PidUnit, u) for u in units[:2]]
    assert_same(tw.analyze(two, seed=3, progress=False), serial[:2])
    assert log.read_text().split() == [here, here]
    # 6 small units (a few ms each): the 5 left save less than a pool costs
    log.unlink()
    six = [like(PidUnit, u) for u in units[:6]]
    assert_same(tw.analyze(six, seed=3, progress=False), serial[:6])
    assert log.read_text().split() == [here] * 6
    # 8 units of 24 x 24 (about 60 ms each): the first here (and a second when the
    # first leaves it borderline), the rest in worker processes
    net = TiledCNN.random(maps=2, tile=2, field=22, pool=3, image_size=25, seed=0)
    big = net.unit_types()
    reference = tw.analyze(big, seed=3, workers=1, progress=False)
    log.unlink()
    assert_same(tw.analyze([like(PidUnit, u) for u in big], seed=3, progress=False), reference)
    pids = log.read_text().split()
    probes = pids.count(here)
    assert len(pids) == 8 and 1 <= probes <= 2 and pids[:probes] == [here] * probes


def test_unit_that_always_kills_its_worker_is_reported_after_one_retry(units, serial, tmp_path):
    dying = [*units[:3], like(DyingUnit, units[3], marker=str(tmp_path / "m"), always=True)]
    with pytest.raises(BatchError, match=r"units\[3\].*WorkerDied") as caught:
        tw.analyze([*dying, *units[4:]], seed=3, workers=2, progress=False)
    [failure] = caught.value.failures
    assert (failure.index, failure.attempts) == (3, 2)
    results = caught.value.results
    assert results[3] is None
    assert_same(results[:3] + results[4:], serial[:3] + serial[4:])


def test_a_pool_that_breaks_before_taking_a_unit_keeps_it_for_the_next_pool():
    # a worker can die between two waits: the next submit then raises BrokenProcessPool
    from collections import deque
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from tcnn_widgets._batch import drain

    def submit(index):
        if index == 2:
            raise BrokenProcessPool("a child process terminated abruptly")
        future = Future()
        future.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        return future

    queue, delivered, attempts = deque([0, 1, 2, 3]), [], {}
    suspects = drain(submit, queue, 4, lambda *args: delivered.append(args), attempts)
    assert suspects == [0, 1] and list(queue) == [2, 3] and not delivered
    assert attempts == {0: 1, 1: 1}  # the refused unit did not run


def test_failing_unit_is_reported_with_traceback_and_the_batch_finishes(units, serial):
    broken = [*units[:2], like(FailingUnit, units[2]), *units[3:]]
    for workers in (1, 2):
        with pytest.raises(BatchError, match="broken on purpose") as caught:
            tw.analyze(broken, seed=3, workers=workers, progress=False)
        [failure] = caught.value.failures
        assert failure.index == 2 and failure.name == units[2].name
        assert failure.error == "ValueError: this unit is broken on purpose"
        assert "values_and_grads" in failure.traceback and "Traceback" in failure.traceback
        results = caught.value.results
        assert_same(results[:2] + results[3:], serial[:2] + serial[3:])


def test_unpicklable_unit_fails_before_any_work(units, tmp_path):
    f = CallableUnit(lambda x: float(np.sum(x**2)), lambda x: 2 * x, (3, 3))
    out = tmp_path / "layer.npz"
    with pytest.raises(TypeError, match=r"units\[1\] \(CallableUnit.*picklable.*workers=1"):
        tw.analyze([units[0], f], workers=2, out=out, progress=False)
    assert not out.exists() and not (tmp_path / "layer.npz.parts").exists()
    assert len(tw.analyze([units[0], f], workers=1, progress=False)) == 2  # serial: fine


def test_bad_batch_arguments_are_named(units):
    with pytest.raises(ValueError, match="workers"):
        tw.analyze(units, workers=0)
    with pytest.raises(TypeError, match="workers"):
        tw.analyze(units, workers=2.0)
    with pytest.raises(TypeError, match="not both"):
        with ThreadPoolExecutor(1) as threads:
            tw.analyze(units, workers=2, executor=threads)
    with pytest.raises(TypeError, match="executor must be"):
        tw.analyze(units, executor="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="out must end in .npz"):
        tw.analyze(units, out="layer.txt")
    with pytest.raises(TypeError, match="list of units"):
        tw.analyze(units[0], workers=2)


def test_out_that_is_not_a_batch_file_is_refused(units, serial, tmp_path):
    text, plain = tmp_path / "text.npz", tmp_path / "plain.npz"
    text.write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        tw.analyze(units, seed=3, out=text, progress=False)
    tw.save_results(plain, serial[:2])
    with pytest.raises(ValueError, match="not written by a batch analysis"):
        tw.analyze(units, seed=3, out=plain, progress=False)
    assert text.read_text() == "not a zip" and len(tw.load_results(plain)) == 2  # untouched


def test_out_file_streams_resumes_and_checks_settings(units, serial, tmp_path):
    out = tmp_path / "layer.npz"
    stored = tw.analyze(units, seed=3, workers=2, out=out, progress=False)
    assert isinstance(stored, StoredResults) and len(stored) == len(units)
    assert_same(list(stored), serial)
    assert_same(tw.load_results(out), serial)  # an ordinary results file too
    np.testing.assert_array_equal(stored.indices, np.arange(len(units)))
    assert not (tmp_path / "layer.npz.parts").exists()
    before = out.read_bytes()
    again = tw.analyze(units, seed=3, workers=2, out=out, progress=False)
    assert out.read_bytes() == before and len(again) == len(units)
    with pytest.raises(ValueError, match="other settings: restarts stored 8, now 3"):
        tw.analyze(units, seed=3, restarts=3, out=out, progress=False)
    with pytest.raises(ValueError, match="other seed: stored 3, now 4"):
        tw.analyze(units, seed=4, out=out, progress=False)
    with pytest.raises(ValueError, match="number of units"):
        tw.analyze(units[:5], seed=3, out=out, progress=False)
    with pytest.raises(ValueError, match="units"):
        tw.analyze(units[::-1], seed=3, out=out, progress=False)
    # seed=None resumes with the file's seed
    assert_same(list(tw.analyze(units, out=out, progress=False)), serial)


def test_float32_results_travel_and_store_compactly(units, serial, tmp_path):
    compact = [tw.Invariances.from_arrays(r.to_arrays(precision="float32")) for r in serial]
    assert_same(tw.analyze(units, seed=3, workers=1, precision="float32", progress=False), compact)
    assert_same(tw.analyze(units, seed=3, workers=2, precision="float32", progress=False), compact)
    small, large = tmp_path / "small.npz", tmp_path / "large.npz"
    assert_same(tw.analyze(units, seed=3, out=small, precision="float32", progress=False), compact)
    tw.analyze(units, seed=3, out=large, progress=False)
    assert small.stat().st_size < 0.75 * large.stat().st_size
    with pytest.raises(ValueError, match="precision"):
        tw.analyze(units, seed=3, out=large, precision="float32", progress=False)
    with pytest.raises(TypeError, match="list of units"):
        tw.analyze(units[0], precision="float32")


def test_failed_units_are_retried_when_resuming(units, serial, tmp_path):
    out = tmp_path / "layer.npz"
    flaky = [units[0], like(FlakyUnit, units[1], marker=str(tmp_path / "m")), units[2]]
    with pytest.raises(BatchError, match="flaky the first time") as caught:
        tw.analyze(flaky, seed=3, workers=2, out=out, progress=False)
    assert list(caught.value.results.indices) == [0, 2]
    resumed = tw.analyze(flaky, seed=3, workers=2, out=out, progress=False)
    assert_same(list(resumed), tw.analyze(units[:3], seed=3, workers=1, progress=False))


def test_shared_objects_go_to_each_worker_once(units, serial, tmp_path, monkeypatch):
    log = tmp_path / "log"
    monkeypatch.setenv("TCNN_BATCH_LOG", str(log))
    shared = Shared(np.zeros(100_000))
    many = [like(SharedUnit, u, shared=shared) for u in units]
    assert_same(tw.analyze(many, seed=3, workers=2, progress=False), serial)
    assert not log.exists()  # forked workers inherit the list: nothing is unpickled at all
    with ProcessPoolExecutor(2) as processes:  # another executor: one copy per unit
        tw.analyze(many[:3], seed=3, executor=processes, progress=False)
    assert len(log.read_text().split()) == 3


def run_batch(
    out: Path, count: int, log: Path, delay: float, workers: int = 2, fold_every: float = 60
) -> subprocess.Popen:
    """The batch of ``batch_units.py`` in its own process (out=)."""
    env = {
        **os.environ,
        "TCNN_BATCH_LOG": str(log),
        "TCNN_BATCH_DELAY": str(delay),
        "PYTHONPATH": os.pathsep.join([str(HERE.parent), str(HERE)]),
    }
    return subprocess.Popen(
        [sys.executable, str(HERE / "batch_units.py"), str(out), str(count), str(workers)]
        + [str(fold_every)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def stored(out: Path) -> set[int]:
    """Indices of the units in an out= file and its parts folder."""
    found = set()
    if out.exists():
        with np.load(out) as data:
            found |= {int(i) for i in data["batch.index"]}
    parts = out.with_name(out.name + ".parts")
    if parts.is_dir():
        found |= {int(p.stem[4:]) for p in parts.glob("unit*.npz")}
    return found


@pytest.mark.parametrize(
    ("signum", "workers", "fold_every"),
    [
        (signal.SIGINT, 2, 60),
        (signal.SIGKILL, 2, 60),
        (signal.SIGKILL, 2, 0.3),
        (signal.SIGINT, 1, 60),
    ],
)
def test_interrupted_parent_resumes_without_loss_or_repeats(tmp_path, signum, workers, fold_every):
    count = 24
    out, log = tmp_path / "layer.npz", tmp_path / "log"
    process = run_batch(out, count, log, delay=0.25, workers=workers, fold_every=fold_every)
    parts = tmp_path / "layer.npz.parts"
    deadline = time.monotonic() + 120
    # count the stored units in the parts folder and, once folded, in the file itself
    while len(stored(out)) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read()
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    if signum == signal.SIGINT:
        assert "run the same call again to resume" in stderr
        assert out.exists()  # Ctrl-C folds what finished into the file
    finished = stored(out)
    assert 6 <= len(finished) < count
    if fold_every < 60:
        assert out.exists()  # folded while running: the file itself holds finished units
    if out.exists():
        assert len(tw.load_results(out)) >= 1  # whatever state it is in, it loads
    log.write_text("")
    resumed = run_batch(out, count, log, delay=0)
    _, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    again = {int(line) for line in log.read_text().split()}
    assert not again & finished  # nothing computed twice
    assert again | finished == set(range(count))  # nothing lost
    reference = tmp_path / "reference.npz"
    whole = run_batch(reference, count, tmp_path / "log2", delay=0)
    assert whole.wait(timeout=300) == 0
    assert filecmp.cmp(out, reference, shallow=False)  # the same file, byte for byte
    assert not parts.exists()
