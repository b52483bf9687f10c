"""TICA objective + weight-gradient throughput for the one-layer network (16 maps, k=2, r=8, P=3).

Run: ``python benchmarks/bench_training.py [--images 2048]``. Prints a table of images
per second on a batch of 32 x 32 images; every ratio compares against the plain NumPy
reference measured in the same run. Not a test: numbers vary with machine load, so
the table also gives images per CPU-second (process time summed over threads, i.e. a
per-core rate), which other processes on the machine disturb less: on an otherwise
idle machine the wall-clock rate of a 2-thread run approaches twice that.
"""

from __future__ import annotations

import argparse
import os
import time

# OpenBLAS's own threads make the skinny products of the NumPy reference several times
# slower on a 2-core machine; one BLAS thread is NumPy's fastest setting there. Set
# OPENBLAS_NUM_THREADS yourself to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numba
import numpy as np

from tcnn_widgets.network import TiledCNN
from tcnn_widgets.training._objective import tica_objective, tica_objective_reference


def timings(function, repeat: int) -> tuple[float, float]:
    """Best wall time and best process (CPU) time of ``repeat`` calls, in seconds."""
    wall = cpu = np.inf
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - w)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu


def engine_objective(net: TiledCNN, X: np.ndarray) -> tuple[float, np.ndarray]:
    """The engine's float64 Numba kernels (TiledCNN.forward and weight_gradient)."""
    return float(net.forward(X).sum()), net.weight_gradient(X)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.images, 32, 32))
    net = TiledCNN.random(seed=0)
    W = net.weights
    small = X[:16]
    tica_objective(small, W)  # compile outside the timings
    engine_objective(net, small)

    f_ref, g_ref = tica_objective_reference(X, W)
    rows = []
    for name, run, repeat in [
        ("plain NumPy (float64, matmul per tile phase)", lambda: tica_objective_reference(X, W), 2),
        ("engine Numba kernels (float64, TiledCNN)", lambda: engine_objective(net, X), 2),
        (
            "tcnn_widgets.training._objective (Numba, float32)",
            lambda: tica_objective(X, W),
            args.repeat,
        ),
    ]:
        f, g = run()
        wall, cpu = timings(run, repeat)
        error = max(
            abs(f - f_ref) / abs(f_ref), float(np.abs(g - g_ref).max() / np.abs(g_ref).max())
        )
        rows.append((name, args.images / wall, args.images / cpu, error))

    base_wall, base_cpu = rows[0][1], rows[0][2]
    print(
        f"TICA objective + gradient, one-layer network, batch of {args.images} 32x32 images, "
        f"{numba.get_num_threads()} Numba threads, "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}"
    )
    print()
    print(
        "| implementation | images/s | vs NumPy | images per CPU-second (per core) | vs NumPy "
        "| max rel. error vs float64 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, wall, cpu, error in rows:
        print(
            f"| {name} | {wall:,.0f} | {wall / base_wall:.1f}x | {cpu:,.0f} | "
            f"{cpu / base_cpu:.1f}x | {error:.1e} |"
        )


if __name__ == "__main__":
    main()
