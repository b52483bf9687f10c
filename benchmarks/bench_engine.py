"""Engine benchmark: FD Hessian, analysis of all unit types, a 32 x 32 unit, cold start.

Run: ``python benchmarks/bench_engine.py``. Prints a table; every ratio compares
against a reference measured in the same run. Not a test: numbers vary with load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

from tcnn_widgets import PoolingUnit, TiledCNN, analyze
from tcnn_widgets._sphere import optimal_stimulus
from tcnn_widgets.naming import name_directions


def best_time(function, repeat: int = 7, number: int = 1, clock=time.perf_counter) -> float:
    """Best of ``repeat`` timings of ``number`` calls, in seconds per call.

    ``clock=time.process_time`` measures this process's CPU time, which other work on
    the machine changes much less than the wall clock (for single-threaded work).
    """
    best = np.inf
    for _ in range(repeat):
        start = clock()
        for _ in range(number):
            function()
        best = min(best, (clock() - start) / number)
    return best


def numpy_fd_hessian(unit: PoolingUnit, x: np.ndarray, step: float) -> np.ndarray:
    """Plain NumPy central differences of the gradient, one column at a time."""
    A = unit.quadratic_matrix()
    x = x.ravel()

    def grad(y):
        Ay = A @ y
        return Ay / np.sqrt(unit.eps + y @ Ay)

    H = np.empty((x.size, x.size))
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = step
        H[:, i] = (grad(x + e) - grad(x - e)) / (2 * step)
    return H


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def bench_hessian(rows: list) -> None:
    net = TiledCNN.random(seed=0)
    unit = net.unit(3, 0, 1)
    x = analyze(unit, seed=0).stimulus
    exact = unit.hessian(x)
    numba_time = best_time(lambda: unit.fd_hessian(x, 1e-5), number=200)
    numpy_time = best_time(lambda: numpy_fd_hessian(unit, x, 1e-5), number=5)
    exact_time = best_time(lambda: unit.hessian(x), number=50)
    fd = unit.fd_hessian(x, 1e-5)
    error = relative_error((fd + fd.T) / 2, exact)
    rows.append(
        (
            "FD Hessian, seed unit (n=100), Numba",
            f"{numba_time * 1e6:.0f} us",
            f"{numpy_time / numba_time:.0f}x faster than NumPy loop; rel. error {error:.1e}; "
            "target < 130 us",
        )
    )
    rows.append(("FD Hessian, NumPy column loop (reference)", f"{numpy_time * 1e6:.0f} us", ""))
    rows.append(
        (
            "Exact Hessian, closed form (NumPy)",
            f"{exact_time * 1e6:.0f} us",
            f"Numba FD = {numba_time / exact_time:.2f}x closed form",
        )
    )


def bench_all_units(rows: list) -> None:
    net = TiledCNN.random(seed=0)
    units = net.unit_types()
    analyze(units[:2], seed=0, progress=False)  # warm the JIT
    seconds = best_time(lambda: analyze(units, restarts=8, seed=1, progress=False), repeat=3)
    one_unit = best_time(lambda: analyze(units[0], seed=1), repeat=5)
    rows.append(
        (
            "Analysis of 64 unit types (8 starts, warm)",
            f"{seconds:.3f} s",
            f"{seconds / 64 * 1e3:.1f} ms per unit; target < 0.5 s",
        )
    )
    rows.append(
        (
            "  one unit alone (reference)",
            f"{one_unit * 1e3:.1f} ms",
            f"64 units = {seconds / one_unit:.0f}x one unit",
        )
    )


def closed_form_analysis(unit: PoolingUnit, radius=1.0, angles=65, threshold=0.7, top=np.pi / 2):
    """The dense outputs of one pooling unit from its closed form (docs/method.md §8).

    One eigendecomposition of A gives the optimum, the curvatures and directions;
    the activation along each geodesic and the video ranges are formulas; the
    directions are named as the analysis names them. Returns the arrays and the
    CPU seconds spent naming.
    """
    lam, V = np.linalg.eigh(unit.quadratic_matrix())
    lam, V = lam[::-1], V[:, ::-1]
    x = radius * V[:, 0]
    g_star = np.sqrt(unit.eps + lam[0] * radius**2)
    curvatures = (lam[1:] - lam[0]) / g_star
    W = V[:, 1:].T.copy()
    pivots = W[np.arange(len(W)), np.argmax(np.abs(W), axis=1)]
    W *= np.where(pivots < 0, -1.0, 1.0)[:, None]
    grid = np.linspace(-top, top, angles)
    cos2, sin2 = np.cos(grid) ** 2, np.sin(grid) ** 2
    along = np.sqrt(unit.eps + radius**2 * (lam[0] * cos2 + lam[1:, None] * sin2))
    level = threshold * g_star
    drop = (lam[0] * radius**2 + unit.eps - level**2) / (radius**2 * (lam[0] - lam[1:]))
    ends = np.minimum(np.arcsin(np.sqrt(np.clip(drop, 0.0, 1.0))), top)
    ranges = np.column_stack([-ends, ends])
    start = time.process_time()
    labels = name_directions(x.reshape(unit.shape), W.reshape(len(W), *unit.shape))
    naming = time.process_time() - start
    return (x, curvatures, W, along, ranges, labels), naming


def bench_floor(rows: list) -> None:
    """The dense analysis of all 64 unit types against their closed-form floor.

    All in this process, one BLAS thread, CPU time (best of 7, interleaved so that
    load changes hit all alike): the floor; the analysis as a plain loop
    ``[analyze(u) for u in units]`` and as ``analyze(units, workers=1)``; and the search
    for the optimal stimulus alone (8 starts), which a general unit needs while the
    floor reads the optimum off an eigendecomposition.
    """
    units = TiledCNN.random(seed=0).unit_types()
    analyze(units[:2], seed=0, progress=False, workers=1)  # warm the JIT
    namings = []

    def floor():
        namings.append(sum(closed_form_analysis(unit)[1] for unit in units))

    def search():
        rng = np.random.default_rng(1)
        for unit in units:
            optimal_stimulus(unit, 1.0, 8, 1000, rng)

    def limited(function):  # one BLAS thread, as analyze runs
        def run():
            with threadpool_limits(limits=1, user_api="blas"):
                function()

        return run

    work = {
        "floor": limited(floor),
        "search": limited(search),
        "loop": lambda: [analyze(unit, seed=1) for unit in units],
        "batch": lambda: analyze(units, seed=1, progress=False, workers=1),
    }
    best = dict.fromkeys(work, np.inf)
    for _ in range(7):
        for name, function in work.items():
            best[name] = min(best[name], best_time(function, repeat=1, clock=time.process_time))
    floor_time, search_time, loop, batch = best.values()
    naming = min(namings)
    rows.append(("Closed-form floor, 64 unit types", f"{floor_time:.3f} s", "reference"))
    for name, seconds in (
        ("Dense analysis, 64 unit types, plain loop", loop),
        ("Dense analysis, analyze(units, workers=1)", batch),
    ):
        rows.append(
            (
                name,
                f"{seconds:.3f} s",
                f"{seconds / floor_time:.2f}x the floor (target 1.5x); without naming "
                f"({naming:.3f} s in both) {(seconds - naming) / (floor_time - naming):.2f}x",
            )
        )
    rows.append(
        (
            "  of which the search for the optimum alone",
            f"{search_time:.3f} s",
            f"{search_time / floor_time:.2f}x the floor by itself: floor + search = "
            f"{(floor_time + search_time) / floor_time:.2f}x, the least a unit whose "
            "optimum must be searched for can take",
        )
    )


def bench_whole_image(rows: list) -> None:
    rng = np.random.default_rng(0)
    unit = PoolingUnit(rng.standard_normal((3, 3, 30, 30)) / 30, eps=1e-4, name="32x32 unit")
    analyze(unit, seed=0)  # warm
    seconds = best_time(lambda: analyze(unit, seed=1), repeat=2)
    fd = best_time(lambda: unit.fd_hessian(unit.check_input(np.ones((32, 32))), 1e-5), repeat=3)
    rows.append(
        (
            "Analysis of a unit on a 32 x 32 image (n=1024)",
            f"{seconds:.2f} s",
            f"of which FD Hessian {fd * 1e3:.1f} ms per evaluation",
        )
    )


COLD_START = """
import time
start = time.perf_counter()
import tcnn_widgets
net = tcnn_widgets.TiledCNN.random(seed=0)
tcnn_widgets.analyze(net.unit(0, 0, 0), seed=0)
print(time.perf_counter() - start)
"""


def bench_cold_start(rows: list) -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        times = []
        for _ in range(3):
            out = subprocess.run(
                [sys.executable, "-c", COLD_START],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            times.append(float(out.stdout.strip()))
    rows.append(("Cold start, empty Numba cache (import -> 1st unit)", f"{times[0]:.2f} s", ""))
    rows.append(
        (
            "Cold start, warm Numba cache",
            f"{min(times[1:]):.2f} s",
            f"{times[0] / min(times[1:]):.1f}x faster than empty cache; target < 3 s",
        )
    )


def main() -> None:
    rows: list[tuple[str, str, str]] = []
    for bench in (bench_hessian, bench_floor, bench_all_units, bench_whole_image, bench_cold_start):
        bench(rows)
    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'time':>10}  notes")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    print(f"(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
