"""Matrix-free against dense analysis (docs/method.md §10): time, peak memory, growth.

Run: ``python benchmarks/bench_matrix_free.py [dense] [auto] [targets] [growth] [--quick]``
(all sections by default). Every case runs in its own
subprocess (so that its peak memory is its own) on one BLAS thread. Prints tables;
ratios compare cases measured in the same run. Not a test: numbers vary with load.

Units (``tests/reference_units.py``): a generic two-layer tanh conv net in NumPy with
an analytic gradient (finite-difference products, two gradients each), and a large
square-root pooling unit with exact products.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CASE = """
import json, resource, sys, time, tracemalloc
import numpy as np
from threadpoolctl import threadpool_limits
sys.path.insert(0, {tests!r})
from reference_units import FilterPoolingUnit, TanhConvNet
from tcnn_widgets import analyze

kind, shape, k, method, traced = {kind!r}, {shape!r}, {k!r}, {method!r}, {traced!r}
n = int(np.prod(shape))
if kind == "tanh":
    unit, options = TanhConvNet(shape, seed=1), dict(restarts=2)
else:
    W = np.random.default_rng(0).standard_normal((9, n))
    unit, options = FilterPoolingUnit(W, shape), dict(restarts=2, hessian="exact")
with threadpool_limits(1):
    analyze(TanhConvNet((6, 6)), seed=0, restarts=1)  # warm imports and JIT
    if traced:
        tracemalloc.start()
    start, cpu = time.perf_counter(), time.process_time()
    result = analyze(unit, seed=0, directions=k, method=method, **options)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(dict(seconds=seconds, cpu=cpu, peak=peak, rss=rss, hvp=result.hvp_count,
                      curvatures=result.curvatures.tolist(), method=result.method)))
"""


def run(kind: str, shape: tuple, k: int | None, method: str, traced: bool = False) -> dict:
    """One analysis in a fresh process: wall and CPU seconds, traced peak bytes (NumPy
    and Python allocations, with ``traced``), max RSS, products, curvatures."""
    code = CASE.format(
        tests=str(HERE.parent / "tests"), kind=kind, shape=shape, k=k, method=method, traced=traced
    )
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def gib(size: float) -> str:
    return f"{size / 2**30:.2f} GiB"


def slope(sizes, values) -> float:
    """Least-squares exponent p of ``value ~ n^p``."""
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


def dense_against_matrix_free(rows: list, sides: list[int]) -> None:
    for side in sides:
        shape = (side, side)
        dense = run("tanh", shape, None, "dense")
        free = run("tanh", shape, 10, "matrix-free")
        n = side * side
        ends = np.r_[dense["curvatures"][:10], dense["curvatures"][-10:]]
        error = np.max(np.abs(np.array(free["curvatures"]) - ends)) / np.max(np.abs(ends))
        rows.append(
            (
                f"tanh net n={n}: dense, all {n - 1}",
                f"{dense['seconds']:.2f} s",
                f"CPU {dense['cpu']:.2f} s",
            )
        )
        rows.append(
            (
                f"tanh net n={n}: matrix-free, k=10",
                f"{free['seconds']:.2f} s",
                f"{dense['seconds'] / free['seconds']:.0f}x faster than dense "
                f"(CPU {dense['cpu'] / free['cpu']:.0f}x); "
                f"{free['hvp']} products; ends agree to {error:.1e}",
            )
        )


def auto_threshold(rows: list, sides: list[int]) -> None:
    """Dense against matrix-free at the same k = 10, around the ``method="auto"`` switch."""
    for side in sides:
        dense = run("tanh", (side, side), 10, "dense")
        free = run("tanh", (side, side), 10, "matrix-free")
        rows.append(
            (
                f"k=10, n={side * side}: dense / matrix-free",
                f"{dense['seconds'] / free['seconds']:.2f}",
                f"dense {dense['seconds']:.2f} s, matrix-free {free['seconds']:.2f} s",
            )
        )


def targets(rows: list) -> None:
    colour = run("tanh", (3, 64, 64), 10, "matrix-free")
    colour_memory = run("tanh", (3, 64, 64), 10, "matrix-free", traced=True)
    rows.append(
        (
            "3x64x64 tanh net (n=12,288), k=10",
            f"{colour['seconds']:.2f} s",
            f"CPU {colour['cpu']:.2f} s, target < 10 s; traced peak {gib(colour_memory['peak'])}, max RSS "
            f"{gib(colour['rss'])} (target < 1 GiB); {colour['hvp']} products",
        )
    )
    large = run("pool", (3, 224, 224), 10, "matrix-free")
    large_memory = run("pool", (3, 224, 224), 10, "matrix-free", traced=True)
    rows.append(
        (
            "3x224x224 pooling unit (n=150,528), k=10",
            f"{large['seconds']:.2f} s",
            f"CPU {large['cpu']:.2f} s, target < 120 s; traced peak {gib(large_memory['peak'])}, max RSS "
            f"{gib(large['rss'])} (target < 3 GiB); {large['hvp']} exact products",
        )
    )


def growth(rows: list, dense_sides: list[int], free_sides: list[int]) -> None:
    for label, method, sides, k in (
        ("dense", "dense", dense_sides, None),
        ("matrix-free", "matrix-free", free_sides, 10),
    ):
        sizes = [s * s for s in sides]
        timed = [run("tanh", (s, s), k, method) for s in sides]
        traced = [run("tanh", (s, s), k, method, traced=True) for s in sides]
        seconds = [t["cpu"] for t in timed]  # CPU seconds: less sensitive to load
        peaks = [t["peak"] for t in traced]
        rows.append(
            (
                f"growth, {label}, n={sizes[0]}..{sizes[-1]}",
                f"t ~ n^{slope(sizes, seconds):.2f}",
                f"memory ~ n^{slope(sizes, peaks):.2f}; CPU seconds "
                + ", ".join(f"{s:.2f}" for s in seconds)
                + "; peaks "
                + ", ".join(gib(p) for p in peaks),
            )
        )


SECTIONS = ("dense", "auto", "targets", "growth")


class PrintedRows(list):
    """Table rows, each printed as soon as it is added."""

    def append(self, row: tuple[str, str, str]) -> None:
        name, value, note = row
        print(f"{name:<44}  {value:>10}  {note}", flush=True)
        super().append(row)


def main() -> None:
    """Run the sections named on the command line (all by default), printing each row
    as soon as it is measured."""
    quick = "--quick" in sys.argv
    chosen = [a for a in sys.argv[1:] if a in SECTIONS] or list(SECTIONS)
    runs = {
        "dense": lambda rows: dense_against_matrix_free(rows, [48] if quick else [48, 64]),
        "auto": lambda rows: auto_threshold(rows, [16, 24, 32, 40]),
        "targets": targets,
        "growth": lambda rows: growth(rows, [16, 24, 32], [32, 64, 96]),
    }
    print(f"{'measurement':<44}  {'value':>10}  notes", flush=True)
    for section in chosen:
        runs[section](PrintedRows())
    print(f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
