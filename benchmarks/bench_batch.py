"""Batch benchmark: 2 workers against serial, break-even, Dask overhead, streaming memory.

Run: ``python benchmarks/bench_batch.py [--quick] [--memory]`` (``--memory``: only the
streaming-memory table). Prints a table; every ratio
compares against a reference measured in the same run (serial, or our own process
pool), so load from other users of the machine cancels out as far as it can. Not a
test: numbers vary with load.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import resource
import subprocess
import sys
import time

import tcnn_widgets as tw
from tcnn_widgets import PoolingUnit, TiledCNN


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def pooling_units(side: int, count: int) -> list[PoolingUnit]:
    """``count`` pooling units on ``side`` x ``side`` fields (3 x 3 pooling)."""
    field = side - 2
    maps = max(1, count // 4)
    net = TiledCNN.random(maps=maps, tile=2, field=field, pool=3, image_size=side + 1, seed=0)
    return net.unit_types()[:count]


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished (joined) child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def speedup(units, repeat: int = 1) -> dict:
    """Wall and CPU seconds, serial and with 2 workers (best of ``repeat`` alternating runs).

    The CPU seconds (this process plus its worker processes) do not depend on load
    from others, unlike the wall time: the machine schedules each login session as
    one group (autogroup), so on a busy machine 2 workers get the CPU time of one.
    ``cpu / 2`` is then the wall time of the 2-worker run on an idle machine.
    """
    best = {"serial": float("inf"), "parallel": float("inf")}
    cpu = {}
    for _ in range(repeat):
        for name, workers in (("serial", 1), ("parallel", 2)):
            before = cpu_seconds()
            wall = timed(lambda w=workers: tw.analyze(units, seed=0, workers=w, progress=False))
            if wall < best[name]:
                best[name], cpu[name] = wall, cpu_seconds() - before
    return {"wall": best, "cpu": cpu}


def streaming_memory(count: int, stream: bool = True) -> dict:
    """Peak memory of a fresh parent process streaming ``count`` small units to out=
    (or, with ``stream=False``, keeping them in a list, for comparison)."""
    code = f"""
import json, resource, tempfile, tracemalloc, os
import tcnn_widgets as tw
units = (tw.load_pretrained().unit_types() * {count})[:{count}]
units = [tw.PoolingUnit(u.filters, u.eps, name=f"unit {{i}}") for i, u in enumerate(units)]
tw.analyze(units[:4], seed=0, workers=1, progress=False)  # warm kernels
def high_water():  # peak resident memory (kB) since the last reset (Linux /proc)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
with tempfile.TemporaryDirectory() as folder:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak: compiling kernels at import set it far higher
    before = high_water()
    tracemalloc.start()
    out = os.path.join(folder, "layer.npz") if {stream} else None
    kept = tw.analyze(units, seed=0, workers=2, out=out, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    after = high_water()
    size = os.path.getsize(out) if out else 0
print(json.dumps({{"rss_before": before, "rss_peak": after, "traced_peak": peak, "file": size}}))
"""
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def transport(units) -> None:
    """Bytes and seconds to send one result back (pickle, unpickle, rebuild) per precision."""
    analysis = timed(lambda: tw.analyze(units, seed=0, workers=1, progress=False)) / len(units)
    result = tw.analyze(units[0], seed=0)
    print("\n| result of one 10 x 10 unit | bytes | send + rebuild ms | / analysis of one unit |")
    print("| --- | --- | --- | --- |")
    for precision in ("float64", "float32"):
        start = time.perf_counter()
        for _ in range(50):
            data = pickle.dumps(result.to_arrays(precision=precision), protocol=5)
            tw.Invariances.from_arrays(pickle.loads(data))
        seconds = (time.perf_counter() - start) / 50
        print(f"| {precision} | {len(data):,} | {seconds * 1e3:.2f} | {seconds / analysis:.3f} |")


def break_even(units) -> None:
    """Small batches of 10 x 10 units: where 2 workers start to pay for themselves, and
    what ``workers=None`` chose (its wall time against the better of the two)."""
    print(
        "\n| 10 x 10 units | serial wall ms | 2 workers wall ms | serial CPU ms | "
        "2 workers CPU ms | idle-machine speed-up | workers=None wall ms | chose |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for count in (2, 4, 8, 16, 32, 64):
        m = speedup(units[:count], repeat=5)
        (sw, pw), (sc, pc) = m["wall"].values(), m["cpu"].values()
        auto = min(
            timed(lambda c=count: tw.analyze(units[:c], seed=0, progress=False)) for _ in range(5)
        )
        print(
            f"| {count} | {sw * 1e3:.0f} | {pw * 1e3:.0f} | {sc * 1e3:.0f} | {pc * 1e3:.0f} | "
            f"{sc / (pc / 2):.2f}x | {auto * 1e3:.0f} | {chosen(units[:count])} |"
        )


def chosen(units) -> str:
    """Whether ``workers=None`` started worker processes for ``units`` (seen by their pids)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    started = len(multiprocessing.active_children())
    tw.analyze(units, seed=0, progress=False)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    return "pool" if children > 0 or len(multiprocessing.active_children()) > started else "here"


def memory(quick: bool) -> None:
    print("\nParent memory while streaming small units to out= (2 workers, fresh process)")
    print("| units | kept | RSS before MB | RSS peak MB | traced Python peak MB | file MB |")
    print("| --- | --- | --- | --- | --- | --- |")
    counts = (250, 500, 1000) if not quick else (50, 100, 200)
    for count, stream in [(c, True) for c in counts] + [(counts[-1], False)]:
        m = streaming_memory(count, stream)
        print(
            f"| {count} | {'out= file' if stream else 'list'} | {m['rss_before'] / 1024:.0f} | "
            f"{m['rss_peak'] / 1024:.0f} | {m['traced_peak'] / 1e6:.1f} | {m['file'] / 1e6:.0f} |"
        )


def main(quick: bool) -> None:
    rows = []
    net = tw.load_pretrained()
    seed_units = net.unit_types()
    tw.analyze(seed_units[:4], seed=0, workers=1, progress=False)  # compile / load kernels
    transport(seed_units)
    break_even(seed_units)
    rows.append(("64 units of the shipped network (10 x 10)", 64, speedup(seed_units, repeat=3)))
    for side, count in ((16, 16), (24, 16), (32, 8)) if not quick else ((16, 8),):
        units = pooling_units(side, count)
        rows.append((f"{count} pooling units on {side} x {side}", count, speedup(units)))
    big = pooling_units(48, 4 if quick else 16)
    rows.append((f"{len(big)} pooling units on 48 x 48 (n = 2304)", len(big), speedup(big)))

    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        "| batch | serial wall s | 2 workers wall s | wall ratio | serial CPU s | "
        "2 workers CPU s | CPU ratio | idle-machine speed-up (serial CPU / (CPU / 2)) | "
        "serial CPU s per unit |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, count, m in rows:
        (sw, pw), (sc, pc) = m["wall"].values(), m["cpu"].values()
        print(
            f"| {name} | {sw:.2f} | {pw:.2f} | {sw / pw:.2f}x | {sc:.2f} | {pc:.2f} | "
            f"{pc / sc:.2f} | {sc / (pc / 2):.2f}x | {sc / count:.4f} |"
        )

    from distributed import Client, LocalCluster

    start = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - start
        timings = {}
        for name, units in (("64 units (10 x 10)", seed_units), ("4 units 48 x 48", big[:4])):
            tw.analyze(units[:2], seed=0, executor=client, progress=False)  # warm workers
            pool = min(
                timed(lambda u=units: tw.analyze(u, seed=0, workers=2, progress=False))
                for _ in range(2)
            )
            dask = min(
                timed(lambda u=units: tw.analyze(u, seed=0, executor=client, progress=False))
                for _ in range(2)
            )
            timings[name] = (pool, dask)
    print(f"\nDask LocalCluster (2 processes, 1 thread each) started in {started:.1f} s")
    print("| batch | process pool s | Dask s | Dask / pool |")
    print("| --- | --- | --- | --- |")
    for name, (pool, dask) in timings.items():
        print(f"| {name} | {pool:.2f} | {dask:.2f} | {dask / pool:.2f} |")

    memory(quick)


if __name__ == "__main__":  # Dask's worker processes import this file again
    if "--memory" in sys.argv:  # that part alone
        memory(quick="--quick" in sys.argv)
    else:
        main(quick="--quick" in sys.argv)
