"""Speed of the PyTorch adapter, each against a reference timed in the same run.

    python benchmarks/bench_torch.py            # all rows
    python benchmarks/bench_torch.py products   # one section: products | small | colour | resnet

Rows (issue #10):
- products: the adapter's two exact methods, double backward through the gradient's
  graph kept at the point (its default below 4096 entries) and torch.func (vmap of jvp
  of grad), at 1 to 64 products per call, n = 1024.
- small: a small CNN unit, n = 1024: the full dense analysis and the matrix-free ends
  (k = 10) against torch.func.hessian + numpy.linalg.eigh alone (the spectrum only).
- colour: a 3 x 64 x 64 unit of a 4-layer CNN, k = 10.
- resnet: resnet18 (random weights), layer3 channel 0 at 3 x 224 x 224, k = 10, with
  and without the receptive-field crop; time and peak memory, each in a fresh process.

The matrix-free rows need ``analyze(..., directions=k)`` (the engine of the "any input
size" issue); where the installed package lacks it they print "n/a".
"""

from __future__ import annotations

import inspect
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import tcnn_widgets as tw
from tcnn_widgets import torch as tt

MATRIX_FREE = "directions" in inspect.signature(tw.analyze).parameters


def best_of(fn, repeats=3):
    """Smallest wall time of ``repeats`` calls (load from other users only adds time)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def small_cnn(channels=1, side=32, seed=0):
    """conv 5x5, tanh, 2x2 average pool, conv 5x5, tanh, linear: a smooth small CNN."""
    torch.manual_seed(seed)
    inner = ((side - 4) // 2 - 4) ** 2 * 8
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 8, 5),
        torch.nn.Tanh(),
        torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(8, 8, 5),
        torch.nn.Tanh(),
        torch.nn.Flatten(),
        torch.nn.Linear(inner, 10),
    )


def four_layer_cnn(seed=0):
    """Four 3x3 convolutions with softplus, strides 1, 2, 1, 2: a 3 x 64 x 64 input."""
    torch.manual_seed(seed)
    layers = []
    for i, (cin, cout, stride) in enumerate([(3, 16, 1), (16, 32, 2), (32, 32, 1), (32, 64, 2)]):
        layers += [torch.nn.Conv2d(cin, cout, 3, stride=stride, padding=1), torch.nn.Softplus()]
        del i
    return torch.nn.Sequential(*layers)


def section_products():
    def unit(method):
        u = tt.unit(small_cnn(), "6", 0, input_shape=(32, 32))
        u.hvp_method = method
        return u

    func, double = unit("torch.func"), unit("double backward")  # the default at n = 1024
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 32))
    print("\nProducts, small CNN unit, n = 1024 (float64, best of 3; the point's graph kept)")
    print("  products   torch.func vmap(jvp(grad))   double backward (kept graph)   ratio")
    for m in (1, 4, 11, 64):
        V = rng.standard_normal((m, 32, 32))
        double.hvp(x, V)  # builds the gradient's graph at x, as the first product does
        t_func = best_of(lambda V=V: func.hvp(x, V))
        t_double = best_of(lambda V=V: double.hvp(x, V))
        print(
            f"  {m:8d}   {t_func * 1e3:23.2f} ms   {t_double * 1e3:25.2f} ms   "
            f"{t_func / t_double:.2f}x"
        )
    error = np.abs(func.hvp(x, V) - double.hvp(x, V)).max() / np.abs(double.hvp(x, V)).max()
    print(f"  the two exact methods agree to {error:.1e} (relative)")


def tt_function(u):
    def f(x):
        return u._forward(x[None])[0]

    return f


def section_small():
    # BLOCK_WIDTH: the products per call that analyze gives a batched unit
    from tcnn_widgets._matrix_free import BLOCK_WIDTH, Products, tangent_ends

    u = tt.unit(small_cnn(), "6", 0, input_shape=(32, 32))
    f = tt_function(u)
    result = tw.analyze(u, seed=0, directions=10, restarts=4, hessian="exact")
    x = result.stimulus

    def reference():
        with u._threads():
            H = torch.func.hessian(f)(torch.tensor(x)).reshape(1024, 1024).numpy()
        return np.linalg.eigvalsh(H)

    def ends(width):
        products = Products(u.hvp, u.shape)
        rng = np.random.default_rng(0)
        with threadpool_limits(limits=1, user_api="blas"):  # as analyze runs
            tangent_ends(products, x.ravel(), result.mu, 10, rng, width)
        return products.count

    ref = best_of(reference, 3)
    blocks, single = best_of(lambda: ends(BLOCK_WIDTH), 3), best_of(lambda: ends(1), 3)
    counts = ends(BLOCK_WIDTH), ends(1)
    full = best_of(lambda: tw.analyze(u, seed=0, directions=10, restarts=4, hessian="exact"), 3)
    dense = best_of(lambda: tw.analyze(u, seed=0, hessian="exact", restarts=4), 1)
    print("\nSmall CNN unit, n = 1024 (wall time, best of 3)")
    print(f"  torch.func.hessian + eigvalsh (spectrum)    {ref:7.2f} s   1.00 (reference)")
    print(
        f"  ends alone, k = 10, blocks of {BLOCK_WIDTH:<2d}          {blocks:7.2f} s   "
        f"{ref / blocks:.2f}x faster ({counts[0]} products; target >= 3x)"
    )
    print(
        f"  ends alone, k = 10, one product per call    {single:7.2f} s   "
        f"{ref / single:.2f}x faster ({counts[1]} products)"
    )
    print(
        f"  full analysis, k = 10 (optimum, ends, geodesics, ranges, names) {full:7.2f} s   "
        f"{ref / full:.2f}x faster"
    )
    print(
        f"  full dense analysis, all 1023 directions    {dense:7.2f} s   {ref / dense:.2f}x faster"
    )


def section_colour():
    if not MATRIX_FREE:
        print("\n3 x 64 x 64 unit, 4-layer CNN, k = 10: n/a (analyze has no directions=)")
        return
    print("\n3 x 64 x 64 unit of a 4-layer CNN, k = 10 (best of 3; target < 5 s on the 2 cores)")
    for threads in (1, 2):
        u = tt.unit(four_layer_cnn(), "7", 5, input_shape=(3, 64, 64), threads=threads)
        elapsed = best_of(
            lambda u=u: tw.analyze(u, seed=0, directions=10, restarts=4, hessian="exact"), 3
        )
        print(f"  threads={threads}: {elapsed:.2f} s")


RESNET = """
import json, resource, sys, time, warnings
import torch, torchvision
import tcnn_widgets as tw
from tcnn_widgets import torch as tt
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None)
crop = sys.argv[1] if sys.argv[1] != "none" else None
start = time.perf_counter()
u = tt.unit(model, "layer3", 0, input_shape=(3, 224, 224), crop=crop)
built = time.perf_counter() - start
hessian = "exact"
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        result = tw.analyze(u, seed=0, directions=10, restarts=2, hessian=hessian)
    except ValueError as error:  # the engine's check of products against differences
        hessian = "fd (exact refused: " + str(error)[:70] + ")"
        result = tw.analyze(u, seed=0, directions=10, restarts=2)
elapsed = time.perf_counter() - start
print(json.dumps({"build": built, "total": elapsed, "n": int(result.stimulus.size),
    "window": [u.window[0].start, u.window[0].stop, u.window[1].start, u.window[1].stop],
    "frame": [u.frame[0].start, u.frame[0].stop],
    "hvp_count": int(getattr(result, "hvp_count", -1)), "hessian": hessian,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "warnings": sorted({str(w.message)[:60] for w in caught})}))
"""


def section_resnet():
    if not MATRIX_FREE:
        print("\nresnet18 layer3: n/a (analyze has no directions=)")
        return
    print("\nresnet18 (random weights), layer3 channel 0, 3 x 224 x 224, k = 10, CPU")
    rows = {}
    for crop in ("none", "receptive_field"):
        run = subprocess.run(
            [sys.executable, "-c", RESNET, crop], capture_output=True, text=True, check=True
        )
        rows[crop] = json.loads(run.stdout.strip().splitlines()[-1])
        r = rows[crop]
        print(
            f"  crop={crop:16s} n = {r['n']:6d}  {r['total']:7.1f} s (unit built in "
            f"{r['build']:.1f} s)  peak {r['peak_mb']:.0f} MB  window {r['window']}"
        )
        print(f"      products: {r['hessian']}, {r['hvp_count']} of them")
        for message in r["warnings"]:
            print(f"      warning: {message}...")
    ratio = rows["none"]["total"] / rows["receptive_field"]["total"]
    print(f"  crop speed-up: {ratio:.2f}x")


SECTIONS = {
    "products": section_products,
    "small": section_small,
    "colour": section_colour,
    "resnet": section_resnet,
}

if __name__ == "__main__":
    warnings.simplefilter("ignore", UserWarning)
    chosen = sys.argv[1:] or list(SECTIONS)
    print(f"torch {torch.__version__}, threads per unit: 1, matrix-free engine: {MATRIX_FREE}")
    for name in chosen:
        SECTIONS[name]()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MB")
