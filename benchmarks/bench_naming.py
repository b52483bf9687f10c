"""Naming benchmark: naming all 64 unit types of the shipped network vs their analysis.

Run: ``python benchmarks/bench_naming.py``. The analysis of all unit types (which names
their directions) and the naming alone (``describe_directions`` on every result) are
timed in the same run, by the wall clock and by the process' CPU time (which leaves
out time spent waiting for a core on a loaded machine: many small NumPy calls suffer
more from waiting than the analysis' compiled loops). The budget is 10 % of the
analysis time. Not a test: numbers vary with load.
"""

from __future__ import annotations

import time

import numpy as np

from tcnn_widgets import analyze
from tcnn_widgets.naming import describe_directions
from tcnn_widgets.pretrained import load_pretrained


def best_times(function, repeat: int = 3) -> tuple[float, float]:
    """Best of ``repeat`` timings of one call: wall-clock and CPU seconds."""
    wall = cpu = np.inf
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    units = load_pretrained().unit_types()
    analyze(units[:1], seed=0, progress=False)  # compile the kernels first
    results: list = []

    def analysis():  # in this process, so that CPU time compares like with like
        results[:] = analyze(units, seed=0, progress=False, workers=1)

    def naming():
        for result in results:
            describe_directions(result.stimulus, result.directions)

    analysis_wall, analysis_cpu = best_times(analysis, repeat=2)
    naming_wall, naming_cpu = best_times(naming, repeat=5)
    wall, cpu = naming_wall / analysis_wall, naming_cpu / analysis_cpu
    print(
        f"| measure ({len(units)} unit types, {results[0].shape}) | wall s | ratio | CPU s | ratio |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        f"| analysis (reference, naming included) | {analysis_wall:.3f} | 1 | {analysis_cpu:.3f} | 1 |"
    )
    print(f"| naming alone | {naming_wall:.3f} | {wall:.3f} | {naming_cpu:.3f} | {cpu:.3f} |")
    for clock, ratio in (("wall", wall), ("CPU", cpu)):
        print(f"budget 0.10 ({clock}): {'met' if ratio <= 0.10 else 'NOT met'}")


if __name__ == "__main__":
    main()
