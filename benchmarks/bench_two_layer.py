"""Two-layer colour network: training throughput per layer, and layer-2 unit analysis.

Run: ``python benchmarks/bench_two_layer.py [--images 512] [--units 4]``. Not a test:
every ratio compares against a plain NumPy reference measured in the same run, so load
from other processes cancels out (roughly).

1. TICA objective + weight gradient, images per second, of each layer of the shipped
   architecture: layer 1 on (3, 32, 32) colour images, layer 2 on the (16, 23, 23)
   layer-1 pooled maps; the Numba kernel against
   :func:`~tcnn_widgets.training._objective.tica_objective_reference` (NumPy float64).
2. Layer-2 units (3 x 15 x 15 = 675 inputs): the finite-difference Hessian (2n gradient
   evaluations in one parallel Numba call) of every layer-2 unit type, against a NumPy
   FD Hessian from a vectorized NumPy gradient on the first ``--units`` types.
3. The whole analysis (``tcnn_widgets.analyze``, dense and matrix-free with k = 10) of
   the first ``--analyze`` (default: all 64) layer-2 unit types, against the same
   analysis of a unit whose values and gradients are the NumPy reference (first
   ``--units`` types).
4. Against PyTorch (``tcnn_widgets.torch.from_tiled_cnn``, the same unit as a torch
   module, float64, one torch thread): for every analysed layer-2 unit type, the
   Hessian at the optimum of the dense Numba analysis, Numba's finite differences
   against ``torch.func.hessian`` (then ``eigh`` of the tangent block, basis from
   ``scipy.linalg.null_space``, both ways), with the largest curvature difference of the
   dense and the matrix-free (k = 10) analyses from that reference; and the whole dense
   and matrix-free analyses of the first ``--torch-units`` types done on the torch unit
   (exact autodiff products, ``hessian="exact"``) against the Numba unit. Skipped
   without PyTorch.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # NumPy's fastest on 2 shared cores

import numba  # noqa: E402
import numpy as np  # noqa: E402

import tcnn_widgets as tw  # noqa: E402
from tcnn_widgets.network import TiledCNN  # noqa: E402
from tcnn_widgets.pretrained import load_pretrained  # noqa: E402
from tcnn_widgets.training._objective import (  # noqa: E402
    tica_objective,
    tica_objective_reference,
)
from tcnn_widgets.training.layerwise import layer1_responses  # noqa: E402


def best_time(function, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def numpy_layer2_grads(unit, X: np.ndarray) -> np.ndarray:
    """Gradients of a layer-2 unit for a stack of fields (N, c, s, s), vectorized NumPy."""
    F1, F2, P1 = unit.filters1, unit.filters2, unit.pool
    M1, L, _, C, r, _ = F1.shape
    P2, r2 = F2.shape[0], F2.shape[-1]
    G = L - P1 + 1
    windows = np.lib.stride_tricks.sliding_window_view(X, (r, r), axis=(2, 3))  # N,C,L,L,r,r
    h1 = np.einsum("ncijab,mijcab->nmij", windows, F1, optimize=True)
    sq = np.lib.stride_tricks.sliding_window_view(h1**2, (P1, P1), axis=(2, 3))
    p1 = np.sqrt(unit.eps1 + sq.sum(axis=(-1, -2)))  # N,M1,G,G
    w2 = np.lib.stride_tricks.sliding_window_view(p1, (r2, r2), axis=(2, 3))  # N,M1,P2,P2,r2,r2
    h2 = np.einsum("nmuvab,uvmab->nuv", w2, F2, optimize=True)
    g = np.sqrt(unit.eps2 + np.sum(h2**2, axis=(1, 2)))
    coefficients = h2 / g[:, None, None]
    dp = np.zeros_like(p1)
    for u in range(P2):
        for v in range(P2):
            dp[:, :, u : u + r2, v : v + r2] += coefficients[:, u, v, None, None, None] * F2[u, v]
    ratio = dp / p1
    collected = np.zeros_like(h1)
    for u in range(P1):
        for v in range(P1):
            collected[:, :, u : u + G, v : v + G] += ratio
    dh1 = collected * h1
    grads = np.zeros_like(X)
    for i in range(L):
        for j in range(L):
            grads[:, :, i : i + r, j : j + r] += np.einsum(
                "nm,mcab->ncab", dh1[:, :, i, j], F1[:, i, j]
            )
    return grads


class NumpyUnit(tw.Unit):
    """The same layer-2 unit with values and gradients in vectorized NumPy (the reference)."""

    def __init__(self, unit) -> None:
        self.unit, self.shape, self.name = unit, unit.shape, unit.name

    def values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        return self.unit.values(X), numpy_layer2_grads(self.unit, X)


def numpy_fd_hessian(unit, x: np.ndarray, step: float) -> np.ndarray:
    n = x.size
    E = np.eye(n).reshape(n, *x.shape)
    grads = numpy_layer2_grads(unit, np.concatenate([x + step * E, x - step * E]))
    return ((grads[:n] - grads[n:]).reshape(n, n) / (2 * step)).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=512)
    parser.add_argument("--units", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--analyze", type=int, default=64, help="layer-2 types analysed in 3, 4.")
    parser.add_argument(
        "--torch-units", type=int, default=8, help="types analysed on the torch unit in 4."
    )
    parser.add_argument("--sections", default="1234", help="which sections to run, e.g. 4.")
    args = parser.parse_args()
    print(f"numba threads: {numba.get_num_threads()}, CPUs: {os.cpu_count()}")
    try:
        net = load_pretrained("two_layer_color")
    except FileNotFoundError:
        net = TiledCNN.random(seed=0, channels=3, layer2=dict(maps=16, field=4))
    types = net.unit_types(layer=2)
    if "1" in args.sections:
        training(net, args)
    if "2" in args.sections:
        fd_hessians(types, args)
    if "3" in args.sections:
        analyses(types, args)
    if "4" in args.sections:
        against_torch(net, types[: args.analyze], args.torch_units, restarts=4)


def training(net, args) -> None:
    """Section 1: TICA objective and gradient of each layer."""
    X = np.random.default_rng(0).standard_normal((args.images, 3, 32, 32))
    R = layer1_responses(net, X)
    print("\n1. TICA objective + gradient (images per second, wall clock)")
    print("| layer | input | Numba kernel | NumPy reference | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for layer, inputs, W, pool in ((1, X, net.weights, net.pool), (2, R, net.weights2, net.pool2)):
        tica_objective(inputs[:8], W, pool=pool)  # compile outside the timings
        fast = best_time(lambda i=inputs, w=W, p=pool: tica_objective(i, w, pool=p), args.repeat)
        ref = best_time(lambda i=inputs, w=W, p=pool: tica_objective_reference(i, w, pool=p), 1)
        f, _ = tica_objective(inputs, W, pool=pool)
        f_ref, _ = tica_objective_reference(inputs, W, pool=pool)
        assert abs(f - f_ref) < 1e-4 * abs(f_ref)
        n = len(inputs)
        print(
            f"| {layer} | {inputs.shape[1:]} | {n / fast:,.0f} | {n / ref:,.0f} | "
            f"{ref / fast:.1f}x |"
        )


def fd_hessians(types: list, args) -> None:
    """Section 2: the FD Hessians of layer-2 unit types against NumPy."""
    rng = np.random.default_rng(1)
    step = 1e-5
    print(f"\n2. Layer-2 units: FD Hessian of all {len(types)} unit types (n = {types[0].shape})")
    x0 = rng.standard_normal(types[0].shape)
    x0 /= np.linalg.norm(x0)
    types[0].fd_hessian(x0, step)  # compile
    start = time.perf_counter()
    for unit in types:
        unit.fd_hessian(x0, step)
    numba_all = (time.perf_counter() - start) / len(types)
    numba_some = numpy_some = 0.0
    for unit in types[: args.units]:
        numba_some += best_time(lambda u=unit: u.fd_hessian(x0, step), 1)
        numpy_some += best_time(lambda u=unit: numpy_fd_hessian(u, x0, step), 1)
        H, H_ref = unit.fd_hessian(x0, step), numpy_fd_hessian(unit, x0, step)
        assert np.linalg.norm(H - H_ref) < 1e-6 * np.linalg.norm(H_ref)
    print("| what | Numba | NumPy FD reference | ratio |")
    print("| --- | --- | --- | --- |")
    print(f"| FD Hessian, mean over all {len(types)} types (s) | {numba_all:.3f} | | |")
    print(
        f"| FD Hessian, first {args.units} types (s per unit) | {numba_some / args.units:.3f} | "
        f"{numpy_some / args.units:.3f} | {numpy_some / numba_some:.1f}x |"
    )


def analyses(types: list, args) -> None:
    """Section 3: whole analyses against a NumPy unit."""
    analysed = types[: args.analyze]
    print(
        f"\n3. Whole analyses of {len(analysed)} of the {len(types)} layer-2 unit types (s per unit)"
    )
    print("| method | Numba FD products | NumPy FD reference (first types) | ratio |")
    print("| --- | --- | --- | --- |")
    for method, extra in (("dense", {}), ("matrix-free", {"directions": 10})):
        start = time.perf_counter()
        tw.analyze(analysed, restarts=4, seed=0, method=method, progress=False, **extra)
        fast = (time.perf_counter() - start) / len(analysed)
        start = time.perf_counter()
        tw.analyze(
            [NumpyUnit(unit) for unit in types[: args.units]],
            restarts=4,
            seed=0,
            method=method,
            progress=False,
            **extra,
        )
        ref = (time.perf_counter() - start) / args.units
        print(f"| {method} | {fast:.2f} | {ref:.2f} | {ref / fast:.1f}x |")


def torch_hessian(function, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``torch.func.hessian`` of ``function`` at x (n, n), the curvatures
    ``eig(B^T H B) - mu`` from it (sorted, most invariant first; B from
    ``scipy.linalg.null_space``), and the seconds ``torch.func.hessian`` took."""
    import scipy.linalg
    import torch

    xt = torch.tensor(x)
    start = time.perf_counter()
    H = torch.func.hessian(function)(xt).reshape(x.size, x.size).numpy()
    seconds = time.perf_counter() - start
    g = torch.func.grad(function)(xt).numpy().ravel()
    xf = x.ravel()
    B = scipy.linalg.null_space(xf[None])
    curvatures = np.linalg.eigvalsh(B.T @ ((H + H.T) / 2) @ B) - xf @ g / (xf @ xf)
    return H, np.sort(curvatures)[::-1], seconds


def timed(function, *args, **kwargs):
    """``function(*args, **kwargs)`` and the seconds it took."""
    start = time.perf_counter()
    out = function(*args, **kwargs)
    return out, time.perf_counter() - start


def against_torch(net, types: list, torch_units: int, restarts: int) -> None:
    """Section 4: layer-2 unit types (the first ones, in unit_types order) against the same
    units in PyTorch."""
    try:
        import torch

        from tcnn_widgets import torch as tt
    except ImportError:
        print("\n4. Against PyTorch: skipped (PyTorch is not installed)")
        return
    module = tt.from_tiled_cnn(net)
    K = int(np.lcm(net.tile, net.tile2))
    positions = [(m, a, b) for m in range(net.maps2) for a in range(K) for b in range(K)]
    torch.set_num_threads(1)
    seconds = {key: 0.0 for key in ("fd", "exact", "torch")}
    errors = {key: [] for key in ("fd", "exact", "dense", "free")}
    whole = {}  # (who, method) -> seconds over the first torch_units types
    options = {"dense": {}, "matrix-free": {"directions": 10}}
    unconverged = 0  # dense searches that stopped at max_iter
    agree = {(who, method): [] for who in ("numba fd", "numba exact") for method in options}
    warm = tt.unit(
        module, "", 0, position=(0, 0), input_shape=net.input_shape, crop="receptive_field"
    )
    torch_hessian(lambda s: warm._forward(s[None])[0], np.ones(warm.shape))  # not timed
    for index, (unit, (m, a, b)) in enumerate(zip(types, positions, strict=False)):
        u = tt.unit(
            module, "", m, position=(a, b), input_shape=net.input_shape, crop="receptive_field"
        )
        assert u.shape == unit.shape
        results = {}
        for method in ("dense", "matrix-free"):
            with warnings.catch_warnings(record=True) as caught:  # counted, not printed
                warnings.simplefilter("always", UserWarning)
                results[method], spent = timed(
                    tw.analyze,
                    unit,
                    restarts=restarts,
                    seed=0,
                    method=method,
                    progress=False,
                    **options[method],
                )
            if method == "dense" and any("did not converge" in str(w.message) for w in caught):
                unconverged += 1
            if index < torch_units:
                whole[("numba fd", method)] = whole.get(("numba fd", method), 0.0) + spent
        x = results["dense"].stimulus
        n = x.size
        H_fd, spent = timed(unit.fd_hessian, x, 1e-5 * np.linalg.norm(x))
        seconds["fd"] += spent
        H_exact, spent = timed(unit.hvp, x, np.eye(n).reshape(n, *x.shape))
        seconds["exact"] += spent
        H, reference, spent = torch_hessian(lambda s, u=u: u._forward(s[None])[0], x)
        seconds["torch"] += spent
        size = np.linalg.norm(H)
        errors["fd"].append(np.linalg.norm((H_fd + H_fd.T) / 2 - H) / size)
        errors["exact"].append(np.linalg.norm(H_exact.reshape(n, n) - H) / size)
        scale = np.abs(reference).max()
        errors["dense"].append(np.abs(results["dense"].curvatures - reference).max() / scale)
        free = results["matrix-free"]
        if np.linalg.norm(free.stimulus - x) < 1e-6 * np.linalg.norm(x):  # the same optimum
            ends = np.r_[reference[:10], reference[-10:]]
            errors["free"].append(np.abs(free.curvatures - ends).max() / scale)
        if index >= torch_units:
            continue
        exact = {}
        for who, target in (("numba exact", unit), ("torch", u)):
            for method in ("dense", "matrix-free"):
                result, spent = timed(
                    tw.analyze,
                    target,
                    restarts=restarts,
                    seed=0,
                    method=method,
                    hessian="exact",
                    progress=False,
                    **options[method],
                )
                whole[(who, method)] = whole.get((who, method), 0.0) + spent
                if who == "numba exact":
                    exact[method] = result
                    continue
                for mine, ours in (("numba fd", results[method]), ("numba exact", exact[method])):
                    same = abs(result.activation - ours.activation) < 1e-8 * ours.activation
                    difference = np.abs(result.curvatures - ours.curvatures).max()
                    agree[(mine, method)].append(
                        difference / np.abs(ours.curvatures).max() if same else np.nan
                    )
    count, n_torch = len(types), min(torch_units, len(types))
    print(
        f"\n4. Against PyTorch (torch {torch.__version__}, 1 thread; Numba "
        f"{numba.get_num_threads()} threads): {count} layer-2 unit types, n = {types[0].shape}"
    )
    print(
        "| Hessian at the dense optimum (s per unit) | time | torch.func.hessian | ratio | "
        "largest ||H - H_torch|| / ||H_torch|| |"
    )
    print("| --- | --- | --- | --- | --- |")
    for key, label in (
        ("fd", "Numba FD Hessian (2n gradients)"),
        ("exact", "Numba exact products (n HVPs)"),
    ):
        print(
            f"| {label} | {seconds[key] / count:.3f} | {seconds['torch'] / count:.3f} | "
            f"{seconds['torch'] / seconds[key]:.1f}x | {max(errors[key]):.1e} |"
        )
    print(
        f"\nCurvatures against torch.func.hessian + eigh at the same point (largest "
        f"difference / largest |curvature|): dense (FD) {max(errors['dense']):.1e}; "
        f"matrix-free k = 10 (FD) {max(errors['free'], default=np.nan):.1e} "
        f"({len(errors['free'])} of {count} at the same optimum). The search stopped at "
        f"max_iter before converging for {unconverged} of {count} units (the comparisons "
        "are at the same point either way)."
    )
    print(f"\nWhole analyses of the first {n_torch} types (s per unit; restarts={restarts})")
    print(
        "| method | Numba, FD products (default) | Numba, exact products | torch unit "
        "(autodiff products) | torch / Numba FD | torch / Numba exact | curvatures, torch vs "
        "Numba FD | curvatures, torch vs Numba exact |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for method in ("dense", "matrix-free"):
        fd, exact, theirs = (
            whole[(who, method)] / n_torch for who in ("numba fd", "numba exact", "torch")
        )
        differences = [
            f"{np.nanmax(agree[(mine, method)]):.1e} "
            f"({int(np.sum(np.isnan(agree[(mine, method)])))} at another optimum)"
            for mine in ("numba fd", "numba exact")
        ]
        print(
            f"| {method} | {fd:.2f} | {exact:.2f} | {theirs:.2f} | {theirs / fd:.1f}x | "
            f"{theirs / exact:.1f}x | {differences[0]} | {differences[1]} |"
        )


if __name__ == "__main__":
    main()
