"""Fast topographic-ICA objective and its gradient with respect to the weights.

The TICA objective (METHOD section 3) of a tiled CNN on a batch of images is

    J(W) = sum over images t, maps m and pooling positions (i, j) of
           sqrt(eps + sum_{u, v < P} h[t, m, i + u, j + v]^2),

with simple responses ``h[t, m, i, j] = sum_ab W[m, i % k, j % k, a, b] X[t, i + a, j + b]``.

How the kernels are fast
------------------------
All simple units of one *tile phase* (grid positions with ``i % k == pa`` and
``j % k == pb``) share their M filters, so the forward pass of one phase is one
matrix product ``H = Patches @ W_phase^T`` (positions x r^2 times r^2 x M), and the
weight gradient is ``dW_phase = Delta^T @ Patches``. Each image is cut into its
patches once per phase (``_cut_patches``), the two products are computed with
small register-blocked loops (4 positions x 2 maps, 2 maps x 4 pixels) that keep
eight accumulators in registers, and everything for one image stays in the
level-1/2 cache. The two threads take alternate images. Arithmetic is float32;
gradients are summed per image in float32 and across images in float64.
``tests/test_training.py`` checks the result against a float64 NumPy reference.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

# Images summed in float32 before their gradient is added to the float64 total.
_FLUSH_EVERY = 16


def tica_objective(
    images: np.ndarray, weights: np.ndarray, *, pool: int = 3, eps: float = 1e-4
) -> tuple[float, np.ndarray]:
    """TICA objective of a tiled CNN summed over ``images``, and its weight gradient.

    Parameters
    ----------
    images : ndarray, shape (N, S, S)
        Preprocessed images (any real dtype; used as float32).
    weights : ndarray, shape (M, k, k, r, r)
        Filters of the tiled CNN, as in :class:`tcnn_widgets.network.TiledCNN`.
    pool : int
        Pooling neighbourhood P.
    eps : float
        Smoothing constant of the pooling square root.

    Returns
    -------
    objective : float
        ``sum sqrt(eps + pooled energy)`` over images, maps and pooling positions.
    gradient : ndarray, shape (M, k, k, r, r), float64
        Its gradient with respect to ``weights``.
    """
    X, W = _check_inputs(images, weights, pool, eps)
    M, k, _, r, _ = W.shape
    rows, cols, counts = phase_positions(X.shape[1] - r + 1, k)
    total, grad = _tica_batch(
        X,
        _pack_weights(W),
        M,
        rows,
        cols,
        counts,
        r,
        pool,
        np.float32(eps),
        numba.get_num_threads(),
    )
    return float(total), _unpack_gradient(grad, M, k, r)


def tica_objective_reference(
    images: np.ndarray, weights: np.ndarray, *, pool: int = 3, eps: float = 1e-4
) -> tuple[float, np.ndarray]:
    """Plain NumPy float64 version of :func:`tica_objective` (for tests and benchmarks).

    Uses ``numpy.lib.stride_tricks.sliding_window_view`` and ``einsum``; same
    parameters and returns.
    """
    X = np.asarray(images, dtype=np.float64)
    W = np.asarray(weights, dtype=np.float64)
    M, k, _, r, _ = W.shape
    patches = np.lib.stride_tricks.sliding_window_view(X, (r, r), axis=(1, 2))  # N,n,n,r,r
    n = patches.shape[1]
    tiled = W[:, np.arange(n) % k][:, :, np.arange(n) % k]  # M, n, n, r, r
    H = np.einsum("tijab,mijab->tmij", patches, tiled, optimize=True)
    energy = np.lib.stride_tricks.sliding_window_view(H * H, (pool, pool), axis=(2, 3))
    p = np.sqrt(eps + energy.sum(axis=(-2, -1)))  # N, M, G, G
    G = p.shape[-1]
    # d p / d h: each simple unit collects h / p from every pooling unit that contains it.
    inv = 1.0 / p
    collected = np.zeros_like(H)
    for u in range(pool):
        for v in range(pool):
            collected[:, :, u : u + G, v : v + G] += inv
    delta = H * collected
    grad_tiled = np.einsum("tmij,tijab->mijab", delta, patches, optimize=True)
    grad = np.zeros_like(W)
    for a in range(k):
        for b in range(k):
            grad[:, a, b] = grad_tiled[:, a::k, b::k].sum(axis=(1, 2))
    return float(p.sum()), grad


def phase_positions(n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid positions of each tile phase, padded to a multiple of 4.

    Parameters
    ----------
    n : int
        Side of the grid of simple units.
    k : int
        Tile size.

    Returns
    -------
    rows, cols : ndarray of int64, shape (k * k, Q)
        Position ``q`` of phase ``pa * k + pb`` is ``(rows[., q], cols[., q])``;
        padding entries (``q >= counts[.]``) are 0.
    counts : ndarray of int64, shape (k * k,)
        Number of real positions of each phase.
    """
    largest = ((n + k - 1) // k) ** 2
    Q = 4 * ((largest + 3) // 4)
    rows = np.zeros((k * k, Q), dtype=np.int64)
    cols = np.zeros((k * k, Q), dtype=np.int64)
    counts = np.zeros(k * k, dtype=np.int64)
    for pa in range(k):
        for pb in range(k):
            i, j = np.meshgrid(np.arange(pa, n, k), np.arange(pb, n, k), indexing="ij")
            c = i.size
            rows[pa * k + pb, :c] = i.ravel()
            cols[pa * k + pb, :c] = j.ravel()
            counts[pa * k + pb] = c
    return rows, cols, counts


def _check_inputs(images, weights, pool, eps) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(images)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"images must be a real-valued array, got dtype {X.dtype}")
    if X.ndim != 3 or X.shape[1] != X.shape[2]:
        raise ValueError(f"images must have shape (N, S, S), got {X.shape}")
    W = np.asarray(weights, dtype=np.float64)
    if W.ndim != 5 or W.shape[1] != W.shape[2] or W.shape[3] != W.shape[4]:
        raise ValueError(f"weights must have shape (M, k, k, r, r), got {W.shape}")
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise ValueError(f"pool must be an int >= 1, got {pool!r}")
    if X.shape[1] - W.shape[3] - pool + 2 < 1:
        raise ValueError(
            f"{X.shape[1]}x{X.shape[1]} images are too small for field {W.shape[3]} and pool {pool}"
        )
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be finite and >= 0, got {eps!r}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.all(np.isfinite(X)):
        raise ValueError("images contain NaN or infinite values (or overflow float32)")
    if not np.all(np.isfinite(W)):
        raise ValueError("weights contain NaN or infinite values")
    return X, W


def _pack_weights(W: np.ndarray) -> np.ndarray:
    """(M, k, k, r, r) -> float32 (k*k, M', r*r') with M' even and r*r' a multiple of 4."""
    M, k, _, r, _ = W.shape
    packed = np.zeros((k * k, M + M % 2, 4 * ((r * r + 3) // 4)), dtype=np.float32)
    packed[:, :M, : r * r] = W.transpose(1, 2, 0, 3, 4).reshape(k * k, M, r * r)
    return packed


def _unpack_gradient(grad: np.ndarray, M: int, k: int, r: int) -> np.ndarray:
    """Inverse of :func:`_pack_weights` for the float64 gradient."""
    G = grad[:, :M, : r * r].reshape(k, k, M, r, r)
    return np.ascontiguousarray(G.transpose(2, 0, 1, 3, 4))


@njit(cache=True, parallel=True)
def _tica_batch(X, W, maps, rows, cols, counts, r, pool, eps, threads):
    """Objective and packed gradient over all images; thread t takes images t, t + threads, ..."""
    N, S = X.shape[0], X.shape[1]
    phases, M, C = W.shape
    Q = rows.shape[1]
    n = S - r + 1
    G = n - pool + 1
    totals = np.zeros(threads)
    grads = np.zeros((threads, phases, M, C))
    for t in prange(threads):
        patches = np.zeros((phases, Q, C), dtype=np.float32)
        patches_t = np.zeros((phases, C, Q), dtype=np.float32)
        responses = np.zeros((phases, Q, M), dtype=np.float32)
        h = np.zeros((n, n, M), dtype=np.float32)
        band = np.zeros((n, G, M), dtype=np.float32)
        inv = np.zeros((G, G, M), dtype=np.float32)
        delta_t = np.zeros((phases, M, Q), dtype=np.float32)
        grad = np.zeros((phases, M, C), dtype=np.float32)
        done = 0
        for image in range(t, N, threads):
            _cut_patches(X[image], rows, cols, counts, r, patches, patches_t)
            for ph in range(phases):
                _forward_phase(patches[ph], W[ph], counts[ph], responses[ph])
                for q in range(counts[ph]):
                    h[rows[ph, q], cols[ph, q], :] = responses[ph, q, :]
            totals[t] += _pool(h, maps, pool, eps, band, inv)
            _collect(h, inv, pool, band)
            for ph in range(phases):
                for q in range(counts[ph]):
                    for m in range(maps):
                        delta_t[ph, m, q] = h[rows[ph, q], cols[ph, q], m]
                _backward_phase(delta_t[ph], patches_t[ph], grad[ph])
            done += 1
            if done % _FLUSH_EVERY == 0:
                grads[t] += grad
                grad[:] = 0.0
        grads[t] += grad
    return totals.sum(), grads.sum(axis=0)


@njit(cache=True)
def _cut_patches(image, rows, cols, counts, r, patches, patches_t):
    """Patch ``q`` of phase ``ph`` (flattened r x r), row-wise and column-wise."""
    for ph in range(rows.shape[0]):
        for q in range(counts[ph]):
            i, j = rows[ph, q], cols[ph, q]
            for a in range(r):
                for b in range(r):
                    patches[ph, q, a * r + b] = image[i + a, j + b]
        for a in range(r):
            for b in range(r):
                for q in range(counts[ph]):
                    patches_t[ph, a * r + b, q] = image[rows[ph, q] + a, cols[ph, q] + b]


@njit(cache=True, fastmath=True)
def _forward_phase(P, W, count, out):
    """``out[q, m] = P[q] . W[m]`` for the positions of one phase, 4 x 2 at a time."""
    for q in range(0, count, 4):
        for m in range(0, W.shape[0], 2):
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            a3 = np.float32(0.0)
            b0 = np.float32(0.0)
            b1 = np.float32(0.0)
            b2 = np.float32(0.0)
            b3 = np.float32(0.0)
            for c in range(P.shape[1]):
                w = W[m, c]
                v = W[m + 1, c]
                p0 = P[q, c]
                p1 = P[q + 1, c]
                p2 = P[q + 2, c]
                p3 = P[q + 3, c]
                a0 += p0 * w
                a1 += p1 * w
                a2 += p2 * w
                a3 += p3 * w
                b0 += p0 * v
                b1 += p1 * v
                b2 += p2 * v
                b3 += p3 * v
            out[q, m] = a0
            out[q + 1, m] = a1
            out[q + 2, m] = a2
            out[q + 3, m] = a3
            out[q, m + 1] = b0
            out[q + 1, m + 1] = b1
            out[q + 2, m + 1] = b2
            out[q + 3, m + 1] = b3


@njit(cache=True, fastmath=True)
def _pool(h, maps, pool, eps, band, inv):
    """Sum of the pooling outputs of one image (first ``maps`` maps); 1/p goes to ``inv``."""
    n, G = band.shape[0], band.shape[1]
    band[:] = 0.0
    for i in range(n):
        for j in range(G):
            for v in range(pool):
                for m in range(maps):
                    band[i, j, m] += h[i, j + v, m] * h[i, j + v, m]
    total = 0.0
    for i in range(G):
        for j in range(G):
            for m in range(maps):
                s = eps
                for u in range(pool):
                    s += band[i + u, j, m]
                p = np.sqrt(s)
                total += p
                inv[i, j, m] = np.float32(1.0) / p
    return total


@njit(cache=True, fastmath=True)
def _collect(h, inv, pool, band):
    """Overwrite ``h`` with d(objective)/dh = h * (sum of 1/p over the pooling units holding it)."""
    n, G, M = band.shape
    band[:] = 0.0
    for i in range(n):
        for u in range(pool):
            if 0 <= i - u < G:
                for j in range(G):
                    for m in range(M):
                        band[i, j, m] += inv[i - u, j, m]
    for i in range(n):
        for j in range(n):
            for m in range(M):
                s = np.float32(0.0)
                for v in range(pool):
                    if 0 <= j - v < G:
                        s += band[i, j - v, m]
                h[i, j, m] *= s


@njit(cache=True, fastmath=True)
def _backward_phase(D, Pt, grad):
    """``grad[m, c] += sum_q D[m, q] Pt[c, q]``, 2 maps x 4 pixels at a time."""
    Q = Pt.shape[1]
    for m in range(0, grad.shape[0], 2):
        for c in range(0, grad.shape[1], 4):
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            a3 = np.float32(0.0)
            b0 = np.float32(0.0)
            b1 = np.float32(0.0)
            b2 = np.float32(0.0)
            b3 = np.float32(0.0)
            for q in range(Q):
                d = D[m, q]
                e = D[m + 1, q]
                p0 = Pt[c, q]
                p1 = Pt[c + 1, q]
                p2 = Pt[c + 2, q]
                p3 = Pt[c + 3, q]
                a0 += d * p0
                a1 += d * p1
                a2 += d * p2
                a3 += d * p3
                b0 += e * p0
                b1 += e * p1
                b2 += e * p2
                b3 += e * p3
            grad[m, c] += a0
            grad[m, c + 1] += a1
            grad[m, c + 2] += a2
            grad[m, c + 3] += a3
            grad[m + 1, c] += b0
            grad[m + 1, c + 1] += b1
            grad[m + 1, c + 2] += b2
            grad[m + 1, c + 3] += b3
