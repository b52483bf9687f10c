"""Naming benchmark: naming all 64 unit types of the shipped network vs their analysis.

Run: ``python benchmarks/bench_naming.py``. The analysis of all unit types (which names
their directions) and the naming alone (``describe_directions`` on every result) are
timed in the same run, so load from other processes cancels out in the ratio. The
budget is 10 % of the analysis time. Not a test: numbers vary with load.
"""

from __future__ import annotations

import time

import numpy as np

from tcnn_widgets import analyze
from tcnn_widgets.naming import describe_directions
from tcnn_widgets.pretrained import load_pretrained


def best_time(function, repeat: int = 3) -> float:
    """Best of ``repeat`` timings of one call, in seconds."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    units = load_pretrained().unit_types()
    analyze(units[:1], seed=0, progress=False)  # compile the kernels first
    results: list = []

    def analysis():
        results[:] = analyze(units, seed=0, progress=False)

    def naming():
        for result in results:
            describe_directions(result.stimulus, result.directions)

    analysis_time = best_time(analysis, repeat=2)
    naming_time = best_time(naming, repeat=5)
    ratio = naming_time / analysis_time
    print(f"| measure ({len(units)} unit types, {results[0].shape}) | seconds | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| analysis (reference, naming included) | {analysis_time:.3f} | 1 |")
    print(f"| naming alone | {naming_time:.3f} | {ratio:.3f} |")
    print(f"budget 0.10: {'met' if ratio <= 0.10 else 'NOT met'}")


if __name__ == "__main__":
    main()
