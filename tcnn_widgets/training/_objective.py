"""Fast topographic-ICA objective and its gradient with respect to the weights.

The TICA objective (docs/method.md §3) of a tiled CNN on a batch of images is

    J(W) = sum over images t, maps m and pooling positions (i, j) of
           sqrt(eps + sum_{u, v < P} h[t, m, i + u, j + v]^2),

with simple responses ``h[t, m, i, j] = sum_cab W[m, i % k, j % k, c, a, b] X[t, c, i + a, j + b]``
(images of C channels; grayscale images have no channel axis, C = 1).

How the kernels are fast
------------------------
All simple units of one *tile phase* (grid positions with ``i % k == pa`` and
``j % k == pb``) share their M filters, so the forward pass of one phase is one
matrix product ``H = W_phase @ Patches`` (M x C r^2 times C r^2 x positions) and the
weight gradient is ``dW_phase = Delta @ Patches^T``. Both products are written as
small register-blocked loops (2 maps x 4 pixels per sweep) whose innermost loop runs
over a long contiguous row, which LLVM turns into SIMD code.

To make those rows long and contiguous, images are processed in chunks of
``LANES = 8`` interleaved images (pixel (y, x) of the 8 images is 8 adjacent floats),
and every image-shaped buffer stores its columns split by tile phase ("split
columns": column j at ``[j % k, (j // k) * LANES + lane]``). Then the patches of a
phase, the scatter of responses to the grid, the 3 x 3 pooling sums and the gradient
gathering are all copies or sums of contiguous runs. One chunk's buffers stay in
the level-2 cache; each Numba thread takes a contiguous range of chunks.

Arithmetic is float32; the objective is summed in float64, gradients in float32 per
chunk and then in float64. ``tests/test_training.py`` checks objective and
gradient against the float64 NumPy reference :func:`tica_objective_reference` and
the engine's :class:`~tcnn_widgets.network.TiledCNN` to 1e-5 relative.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

# Images interleaved in one chunk: pixel (y, x) of LANES images is one short vector.
LANES = 8


def tica_objective(
    images: np.ndarray, weights: np.ndarray, *, pool: int = 3, eps: float = 1e-4
) -> tuple[float, np.ndarray]:
    """TICA objective of a tiled CNN summed over ``images``, and its weight gradient.

    Parameters
    ----------
    images : ndarray, shape (N, S, S) or (N, C, S, S)
        Preprocessed images (any real dtype; used as float32).
    weights : ndarray, shape (M, k, k, r, r) or (M, k, k, C, r, r)
        Filters of the tiled CNN, as in :class:`tcnn_widgets.network.TiledCNN`.
    pool : int
        Pooling neighbourhood P.
    eps : float
        Smoothing constant of the pooling square root.

    Returns
    -------
    objective : float
        ``sum sqrt(eps + pooled energy)`` over images, maps and pooling positions.
    gradient : ndarray, float64, shape of ``weights``
        Its gradient with respect to ``weights``.
    """
    X, W = _check_inputs(images, weights, pool, eps)
    M, k, _, C, r, _ = W.shape
    threads = numba.get_num_threads()
    total, grad = _tica_batch(X, _pack_weights(W), M, k, r, pool, np.float32(eps), threads)
    return float(total), _unpack_gradient(grad, M, k, C, r).reshape(np.shape(weights))


def tica_objective_reference(
    images: np.ndarray, weights: np.ndarray, *, pool: int = 3, eps: float = 1e-4
) -> tuple[float, np.ndarray]:
    """Plain NumPy float64 version of :func:`tica_objective` (for tests and benchmarks).

    The same matrix products per tile phase, with patches cut by
    ``numpy.lib.stride_tricks.sliding_window_view``; same parameters and returns.
    """
    X = np.asarray(images, dtype=np.float64)
    W = np.asarray(weights, dtype=np.float64)
    if X.ndim == 3:
        X, W = X[:, None], W[:, :, :, None]
    M, k, _, C, r, _ = W.shape
    d = C * r * r
    windows = np.lib.stride_tricks.sliding_window_view(X, (r, r), axis=(2, 3))  # N,C,n,n,r,r
    windows = windows.transpose(0, 2, 3, 1, 4, 5)  # N,n,n,C,r,r
    N, n = X.shape[0], windows.shape[1]
    H = np.empty((N, n, n, M))
    patches = {}
    for a in range(k):
        for b in range(k):
            P = windows[:, a::k, b::k].reshape(-1, d)  # a copy: positions x pixels
            H[:, a::k, b::k] = (P @ W[:, a, b].reshape(M, d).T).reshape(
                N, len(range(a, n, k)), len(range(b, n, k)), M
            )
            patches[a, b] = P
    G = n - pool + 1
    squares = H * H
    energy = np.full((N, G, G, M), float(eps))
    for u in range(pool):
        for v in range(pool):
            energy += squares[:, u : u + G, v : v + G]
    p = np.sqrt(energy)  # N, G, G, M
    # d(sum p)/dh: each simple unit collects h / p from every pooling unit holding it
    inverse = 1.0 / p
    collected = np.zeros_like(H)
    for u in range(pool):
        for v in range(pool):
            collected[:, u : u + G, v : v + G] += inverse
    delta = H * collected
    grad = np.empty_like(W)
    for a in range(k):
        for b in range(k):
            D = delta[:, a::k, b::k].reshape(-1, M)
            grad[:, a, b] = (D.T @ patches[a, b]).reshape(M, C, r, r)
    return float(p.sum()), grad.reshape(np.shape(weights))


def _check_inputs(images, weights, pool, eps) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(images)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"images must be a real-valued array, got dtype {X.dtype}")
    if X.ndim not in (3, 4) or X.shape[-1] != X.shape[-2]:
        raise ValueError(f"images must have shape (N, S, S) or (N, C, S, S), got {X.shape}")
    W = np.asarray(weights, dtype=np.float64)
    if W.ndim != X.ndim + 2 or W.shape[1] != W.shape[2] or W.shape[-1] != W.shape[-2]:
        raise ValueError(
            f"weights must have shape (M, k, k, r, r) for images (N, S, S) and "
            f"(M, k, k, C, r, r) for images (N, C, S, S); got {W.shape} for images {X.shape}"
        )
    if X.ndim == 3:
        X, W = X[:, None], W[:, :, :, None]
    if W.shape[3] != X.shape[1]:
        raise ValueError(f"weights have {W.shape[3]} channels, the images {X.shape[1]}")
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise ValueError(f"pool must be an int >= 1, got {pool!r}")
    if X.shape[-1] - W.shape[-1] - pool + 2 < 1:
        raise ValueError(
            f"{X.shape[-1]}x{X.shape[-1]} images are too small for field {W.shape[-1]} "
            f"and pool {pool}"
        )
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(
            f"eps must be finite and > 0 for training (the objective's gradient needs it), "
            f"got {eps!r}"
        )
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.all(np.isfinite(X)):
        raise ValueError("images contain NaN or infinite values (or overflow float32)")
    if not np.all(np.isfinite(W)):
        raise ValueError("weights contain NaN or infinite values")
    return X, W


def _pack_weights(W: np.ndarray) -> np.ndarray:
    """(M, k, k, C, r, r) -> float32 (k*k, M', d') with M' even and d' >= C r^2 a multiple of 4."""
    M, k, _, C, r, _ = W.shape
    d = C * r * r
    packed = np.zeros((k * k, M + M % 2, 4 * ((d + 3) // 4)), dtype=np.float32)
    packed[:, :M, :d] = W.transpose(1, 2, 0, 3, 4, 5).reshape(k * k, M, d)
    return packed


def _unpack_gradient(grad: np.ndarray, M: int, k: int, C: int, r: int) -> np.ndarray:
    """Inverse of :func:`_pack_weights` for the float64 gradient, (M, k, k, C, r, r)."""
    G = grad[:, :M, : C * r * r].reshape(k, k, M, C, r, r)
    return np.ascontiguousarray(G.transpose(2, 0, 1, 3, 4, 5))


@njit(cache=True, parallel=True)
def _tica_batch(X, W, maps, k, r, pool, eps, threads):
    """Objective and packed gradient over all images.

    Images go in chunks of ``LANES``; each thread takes a contiguous range of chunks
    (Numba's static schedule) and works in its own buffers. Every image-shaped buffer
    stores column j at ``[..., j % k, (j // k) * LANES + lane]`` ("split columns"), so
    that the positions of one tile phase, and the pooling sums, are contiguous runs.
    """
    N, channels, S = X.shape[0], X.shape[1], X.shape[2]
    phases, M, C = W.shape
    n = S - r + 1
    G = n - pool + 1
    Q = ((n + k - 1) // k) ** 2
    chunks = (N + LANES - 1) // LANES
    T = threads
    all_images = np.zeros((T, channels, S, k, _split(S, k, 0) * LANES), dtype=np.float32)
    all_patches = np.zeros((T, C, Q * LANES), dtype=np.float32)
    all_blocks = np.zeros((T, M, Q * LANES), dtype=np.float32)
    all_h = np.zeros((T, maps, n, k, _split(n, k, 0) * LANES), dtype=np.float32)
    all_bands = np.zeros((T, n, k, _split(G, k, 0) * LANES), dtype=np.float32)
    all_inv = np.zeros((T, G, k, _split(G, k, 0) * LANES), dtype=np.float32)
    all_rows = np.zeros((T, k, _split(n, k, 0) * LANES), dtype=np.float32)
    all_lane_weights = np.zeros((T, k * _split(G, k, 0) * LANES), dtype=np.float32)
    all_grads = np.zeros((T, phases, M, C), dtype=np.float32)
    totals = np.zeros(T)
    grads = np.zeros((T, phases, M, C))
    for chunk in prange(chunks):
        t = numba.get_thread_id()
        images, patches, block, h = all_images[t], all_patches[t], all_blocks[t], all_h[t]
        band, inv, row, grad = all_bands[t], all_inv[t], all_rows[t], all_grads[t]
        lane_weight = all_lane_weights[t]
        used = _interleave(X, chunk * LANES, k, images)
        _set_lane_weight(G, k, used, lane_weight)
        for pa in range(k):
            for pb in range(k):
                width = _cut_patches(images, pa, pb, n, k, r, patches)
                _forward_phase(W[pa * k + pb], patches, width, block)
                _scatter(block, pa, pb, n, k, h)
        for m in range(maps):
            totals[t] += _pool_map(h[m], G, pool, eps, lane_weight, band, inv)
            _collect_map(h[m], inv, pool, band, row)
        grad[:] = 0.0
        for pa in range(k):
            for pb in range(k):
                width = _cut_patches(images, pa, pb, n, k, r, patches)
                _gather(h, pa, pb, n, k, block)
                _backward_phase(block, patches, width, grad[pa * k + pb])
        grads[t] += grad
    return totals.sum(), grads.sum(axis=0)


@njit(cache=True)
def _split(length, k, phase):
    """Number of indices ``j < length`` with ``j % k == phase``."""
    return (length - phase + k - 1) // k


@njit(cache=True)
def _set_lane_weight(G, k, used, lane_weight):
    """1 for the pooling columns and lanes that hold real images, 0 for padding."""
    GL = lane_weight.size // k
    lane_weight[:] = 0.0
    for pj in range(k):
        for x in range(_split(G, k, pj) * LANES):
            if x % LANES < used:
                lane_weight[pj * GL + x] = 1.0


@njit(cache=True)
def _interleave(X, first, k, images):
    """``images[c, y, x % k, (x // k) * LANES + l] = X[first + l, c, y, x]``; returns images used.

    Lanes past the last image are zero.
    """
    N, C, S = X.shape[0], X.shape[1], X.shape[2]
    used = min(LANES, N - first)
    for c in range(C):
        for y in range(S):
            for x in range(S):
                for lane in range(LANES):
                    value = X[first + lane, c, y, x] if lane < used else 0.0
                    images[c, y, x % k, (x // k) * LANES + lane] = value
    return used


@njit(cache=True)
def _cut_patches(images, pa, pb, n, k, r, patches):
    """Patches of tile phase (pa, pb): ``patches[(c * r + a) * r + b, (ii * nc + jj) * LANES + l]``.

    Position (ii, jj) of the phase is grid position (pa + k ii, pb + k jj); returns
    the number of columns used, (positions of the phase) * LANES.
    """
    rows, cols = _split(n, k, pa), _split(n, k, pb)
    run = cols * LANES
    for c in range(images.shape[0]):
        for a in range(r):
            for b in range(r):
                plane, start = (pb + b) % k, ((pb + b) // k) * LANES
                for ii in range(rows):
                    source = images[c, pa + k * ii + a, plane, start : start + run]
                    target = patches[(c * r + a) * r + b, ii * run : (ii + 1) * run]
                    for x in range(run):
                        target[x] = source[x]
    return rows * run


@njit(cache=True)
def _scatter(block, pa, pb, n, k, h):
    """Copy the responses of phase (pa, pb), ``block[m, (ii * nc + jj) * LANES + l]``, to ``h``."""
    rows, run = _split(n, k, pa), _split(n, k, pb) * LANES
    for m in range(h.shape[0]):
        for ii in range(rows):
            source = block[m, ii * run : (ii + 1) * run]
            target = h[m, pa + k * ii, pb]
            for x in range(run):
                target[x] = source[x]


@njit(cache=True)
def _gather(h, pa, pb, n, k, block):
    """Inverse of :func:`_scatter`; rows of maps past ``h.shape[0]`` are zeroed."""
    rows, run = _split(n, k, pa), _split(n, k, pb) * LANES
    block[h.shape[0] :] = 0.0
    for m in range(h.shape[0]):
        for ii in range(rows):
            source = h[m, pa + k * ii, pb]
            target = block[m, ii * run : (ii + 1) * run]
            for x in range(run):
                target[x] = source[x]


@njit(cache=True, fastmath=True)
def _pool_map(h, G, pool, eps, lane_weight, band, inv):
    """Pooling of one map of a chunk (split columns); returns the lane-weighted sum of p.

    ``inv`` receives 1 / p of every pooling unit.
    """
    n, k = h.shape[0], h.shape[1]
    band[:] = 0.0
    for i in range(n):
        for pj in range(k):
            run = _split(G, k, pj) * LANES
            for v in range(pool):
                plane, start = (pj + v) % k, ((pj + v) // k) * LANES
                source = h[i, plane, start : start + run]
                target = band[i, pj]
                for x in range(run):
                    target[x] += source[x] * source[x]
    # the vertical sums work on whole rows of both column planes (padding included)
    width = k * band.shape[2]
    rows_in, rows_out = band.reshape(n, width), inv.reshape(G, width)
    total = 0.0
    for i in range(G):
        out = rows_out[i]
        for x in range(width):
            out[x] = eps
        for u in range(pool):
            source = rows_in[i + u]
            for x in range(width):
                out[x] += source[x]
        row_total = np.float32(0.0)
        for x in range(width):
            inverse = np.float32(1.0) / np.sqrt(out[x])
            row_total += out[x] * inverse * lane_weight[x]  # p = s / sqrt(s)
            out[x] = inverse
        total += row_total
    return total


@njit(cache=True, fastmath=True)
def _collect_map(h, inv, pool, band, row):
    """Overwrite one map ``h`` with d(objective)/dh = h * (sum of 1/p of the units holding it)."""
    n, k = h.shape[0], h.shape[1]
    G = inv.shape[0]
    width = k * band.shape[2]
    rows_in, rows_out = inv.reshape(G, width), band.reshape(n, width)
    band[:] = 0.0
    for i in range(n):
        for u in range(pool):
            if 0 <= i - u < G:
                source, target = rows_in[i - u], rows_out[i]
                for x in range(width):
                    target[x] += source[x]
    for i in range(n):
        row[:] = 0.0
        for p in range(k):
            columns = _split(n, k, p)
            for v in range(pool):
                # simple column k jj + p is held by pooling column k jj + p - v
                plane = (p - v) % k
                shift = (p - v - plane) // k
                first = max(0, -shift)
                last = min(columns, _split(G, k, plane) - shift)
                source = band[i, plane, (first + shift) * LANES : (last + shift) * LANES]
                target = row[p, first * LANES : last * LANES]
                for x in range(target.size):
                    target[x] += source[x]
            target = h[i, p]
            factor = row[p]
            for x in range(columns * LANES):
                target[x] *= factor[x]


@njit(cache=True, fastmath=True)
def _forward_phase(W, P, width, out):
    """``out[m, x] = sum_c W[m, c] P[c, x]`` for x < width: 2 maps x 4 pixels per sweep."""
    out[:] = 0.0
    for m in range(0, W.shape[0], 2):
        for c in range(0, W.shape[1], 4):
            w0, w1, w2, w3 = W[m, c], W[m, c + 1], W[m, c + 2], W[m, c + 3]
            v0, v1, v2, v3 = W[m + 1, c], W[m + 1, c + 1], W[m + 1, c + 2], W[m + 1, c + 3]
            for x in range(width):
                p0, p1, p2, p3 = P[c, x], P[c + 1, x], P[c + 2, x], P[c + 3, x]
                out[m, x] += w0 * p0 + w1 * p1 + w2 * p2 + w3 * p3
                out[m + 1, x] += v0 * p0 + v1 * p1 + v2 * p2 + v3 * p3


@njit(cache=True, fastmath=True)
def _backward_phase(D, P, width, grad):
    """``grad[m, c] += sum_{x < width} D[m, x] P[c, x]``, 2 maps x 4 pixels at a time."""
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
            for x in range(width):
                d = D[m, x]
                e = D[m + 1, x]
                p0 = P[c, x]
                p1 = P[c + 1, x]
                p2 = P[c + 2, x]
                p3 = P[c + 3, x]
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
