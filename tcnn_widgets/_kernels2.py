"""Numba kernels of layer-2 units of a two-layer tiled CNN (docs/method.md §11).

Plain loops over float64 arrays; ``tests/test_two_layer.py`` checks each one against
a NumPy reference and against finite differences. Callers validate first: the kernels
assume well-formed, finite input.

Notation. A field ``x`` has shape (c, s, s), channels first. A layer-2 unit has the
layer-1 filters of every layer-1 simple unit inside its field, ``F1`` (M1, L, L, c, r, r)
(``F1[m, i, j]`` acts on ``x[:, i:i+r, j:j+r]``), the layer-1 pooling P1 and ``eps1``;
its own P2 x P2 filters ``F2`` (P2, P2, M1, r2, r2) on the layer-1 pooled maps ``p1``
(M1, G, G), ``G = L - P1 + 1 = r2 + P2 - 1``; and ``eps2``.
``g = sqrt(eps2 + sum_uv h2_uv^2)``, ``h2_uv = F2[u, v] . p1[:, u:u+r2, v:v+r2]``.

Layer-1 units (one pooling unit on its field) have their kernels in
:mod:`tcnn_widgets._kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _layer2_value_grad(F1, eps1, P1, F2, eps2, x, grad, h1, p1, h2, want):
    """Activation of one field ``x``; its gradient into ``grad`` when ``want``.

    ``h1`` (M1, L, L), ``p1`` (M1, G, G) and ``h2`` (P2, P2) are work buffers; on
    return ``p1`` holds ``(d g / d p1) / p1`` and ``h1`` the gradient with respect to
    the layer-1 simple responses.
    """
    M1, L = F1.shape[0], F1.shape[1]
    G = L - P1 + 1
    _layer1_simple(F1, x, h1)
    g = _layer2_from_simple(h1, eps1, P1, F2, eps2, p1, h2)
    if not want:
        return g
    grad[:] = 0.0
    if g == 0:  # eps2 = 0 and no layer-2 response: the subgradient 0
        return g
    dp = np.empty((M1, G, G))
    _pooled_from_layer2(F2, h2, 1.0 / g, dp)  # d g / d p1
    for m in range(M1):
        for i in range(G):
            for j in range(G):
                p1[m, i, j] = dp[m, i, j] / p1[m, i, j] if p1[m, i, j] > 0 else 0.0
    collected = np.empty((M1, L, L))
    _collect(p1, P1, collected)
    for m in range(M1):
        for i in range(L):
            for j in range(L):
                h1[m, i, j] *= collected[m, i, j]
    _input_from_simple(F1, h1, grad)
    return g


@njit(cache=True)
def _pooled_from_layer2(F2, coefficients, scale, out):
    """``out = scale sum_uv coefficients[u, v] F2[u, v]``, embedded in the pooled maps."""
    P2, M1, r2 = F2.shape[0], F2.shape[2], F2.shape[3]
    out[:] = 0.0
    for u in range(P2):
        for v in range(P2):
            c2 = scale * coefficients[u, v]
            for m in range(M1):
                for a in range(r2):
                    for b in range(r2):
                        out[m, u + a, v + b] += c2 * F2[u, v, m, a, b]


@njit(cache=True)
def _collect(q, P1, out):
    """``out[m, i, j] = sum of q[m, i-u, j-v]`` over the pooling units holding simple
    unit (i, j) (u, v < P1): a quantity per pooling unit, gathered per simple unit."""
    M1, G, L = q.shape[0], q.shape[1], out.shape[1]
    for m in range(M1):
        for i in range(L):
            for j in range(L):
                acc = 0.0
                for u in range(P1):
                    for v in range(P1):
                        if 0 <= i - u < G and 0 <= j - v < G:
                            acc += q[m, i - u, j - v]
                out[m, i, j] = acc


@njit(cache=True)
def _input_from_simple(F1, d, grad):
    """``grad += sum_mij d[m, i, j] F1[m, i, j]`` embedded in the field (zeros skipped)."""
    M1, L, C, r = F1.shape[0], F1.shape[1], F1.shape[3], F1.shape[4]
    for m in range(M1):
        for i in range(L):
            for j in range(L):
                w = d[m, i, j]
                if w != 0.0:
                    for c in range(C):
                        for a in range(r):
                            for b in range(r):
                                grad[c, i + a, j + b] += w * F1[m, i, j, c, a, b]


@njit(cache=True)
def _layer1_simple(F1, x, h1):
    """Layer-1 simple responses ``h1[m, i, j] = F1[m, i, j] . x[:, i:i+r, j:j+r]``."""
    M1, L, C, r = F1.shape[0], F1.shape[1], F1.shape[3], F1.shape[4]
    for m in range(M1):
        for i in range(L):
            for j in range(L):
                acc = 0.0
                for c in range(C):
                    for a in range(r):
                        for b in range(r):
                            acc += F1[m, i, j, c, a, b] * x[c, i + a, j + b]
                h1[m, i, j] = acc


@njit(cache=True)
def _layer2_from_simple(h1, eps1, P1, F2, eps2, p1, h2):
    """Activation of a layer-2 unit from its layer-1 simple responses ``h1``.

    Fills the work buffers ``p1`` (M1, G, G) with the pooled maps and ``h2`` (P2, P2)
    with the layer-2 simple responses.
    """
    M1, L = h1.shape[0], h1.shape[1]
    G = L - P1 + 1
    for m in range(M1):
        for i in range(G):
            for j in range(G):
                acc = eps1
                for u in range(P1):
                    for v in range(P1):
                        acc += h1[m, i + u, j + v] ** 2
                p1[m, i, j] = np.sqrt(acc)
    _layer2_simple(F2, p1, h2)
    return np.sqrt(eps2 + np.sum(h2 * h2))


@njit(cache=True)
def _layer2_simple(F2, p1, h2):
    """Layer-2 simple responses ``h2[u, v] = F2[u, v] . p1[:, u:u+r2, v:v+r2]``."""
    P2, M1, r2 = F2.shape[0], F2.shape[2], F2.shape[3]
    for u in range(P2):
        for v in range(P2):
            acc = 0.0
            for m in range(M1):
                for a in range(r2):
                    for b in range(r2):
                        acc += F2[u, v, m, a, b] * p1[m, u + a, v + b]
            h2[u, v] = acc


@njit(cache=True, parallel=True)
def layer2_geodesic_values(F1, eps1, P1, F2, eps2, x, W, rho, angles):
    """``g(cos t x + sin t rho W[d])`` for each direction d and angle ``angles[d, j]``.

    Layer-1 simple responses are linear in the input, so those of x and of each
    direction are computed once and combined for every angle; only the pooling and
    layer 2 run per angle.
    """
    D, K, M1, L = W.shape[0], angles.shape[1], F1.shape[0], F1.shape[1]
    G = L - P1 + 1
    hx = np.empty((M1, L, L))
    _layer1_simple(F1, x, hx)
    out = np.empty((D, K))
    for d in prange(D):
        hw = np.empty((M1, L, L))
        h = np.empty((M1, L, L))
        p1 = np.empty((M1, G, G))
        h2 = np.empty((F2.shape[0], F2.shape[0]))
        _layer1_simple(F1, W[d], hw)
        for j in range(K):
            c, s = np.cos(angles[d, j]), rho * np.sin(angles[d, j])
            for m in range(M1):
                for i in range(L):
                    for q in range(L):
                        h[m, i, q] = c * hx[m, i, q] + s * hw[m, i, q]
            out[d, j] = _layer2_from_simple(h, eps1, P1, F2, eps2, p1, h2)
    return out


@njit(cache=True, parallel=True)
def layer2_values_grads(F1, eps1, P1, F2, eps2, X, grads):
    """Activations (N,) of the fields ``X`` (N, c, s, s); gradients into ``grads`` if it
    has N entries (pass an empty (0, c, s, s) array for values only). Parallel over N."""
    N, M1, L = X.shape[0], F1.shape[0], F1.shape[1]
    G, P2 = L - P1 + 1, F2.shape[0]
    values = np.empty(N)
    want = grads.shape[0] == N
    for n in prange(N):
        h1 = np.empty((M1, L, L))
        p1 = np.empty((M1, G, G))
        h2 = np.empty((P2, P2))
        target = grads[n] if want else X[n]  # X[n] is never written when not wanted
        values[n] = _layer2_value_grad(F1, eps1, P1, F2, eps2, X[n], target, h1, p1, h2, want)
    return values


@njit(cache=True)
def layer2_values_grads_serial(F1, eps1, P1, F2, eps2, X, grads):
    """:func:`layer2_values_grads` in one thread: for small stacks, where waking threads
    costs more than it saves (an optimal-stimulus search sends a few points per call)."""
    N, M1, L = X.shape[0], F1.shape[0], F1.shape[1]
    G, P2 = L - P1 + 1, F2.shape[0]
    values = np.empty(N)
    want = grads.shape[0] == N
    h1 = np.empty((M1, L, L))
    p1 = np.empty((M1, G, G))
    h2 = np.empty((P2, P2))
    for n in range(N):
        target = grads[n] if want else X[n]
        values[n] = _layer2_value_grad(F1, eps1, P1, F2, eps2, X[n], target, h1, p1, h2, want)
    return values


@njit(cache=True, parallel=True)
def layer2_fd_hvp(F1, eps1, P1, F2, eps2, x, V, steps):
    """Central-difference Hessian-vector products (docs/method.md §5, §10).

    ``out[d] = (grad(x + steps[d] V[d]) - grad(x - steps[d] V[d])) / (2 steps[d])``;
    the 2 D gradients run in parallel.
    """
    D, M1, L = V.shape[0], F1.shape[0], F1.shape[1]
    G, P2 = L - P1 + 1, F2.shape[0]
    plus = np.empty(V.shape)
    minus = np.empty(V.shape)
    for job in prange(2 * D):
        d, sign = job // 2, 1.0 - 2.0 * (job % 2)
        h1 = np.empty((M1, L, L))
        p1 = np.empty((M1, G, G))
        h2 = np.empty((P2, P2))
        point = x + (sign * steps[d]) * V[d]
        target = plus[d] if sign > 0 else minus[d]
        _layer2_value_grad(F1, eps1, P1, F2, eps2, point, target, h1, p1, h2, True)
    for d in prange(D):
        plus[d] = (plus[d] - minus[d]) / (2.0 * steps[d])
    return plus


@njit(cache=True, parallel=True)
def layer2_hvp(F1, eps1, P1, F2, eps2, x, V):
    """Exact Hessian-vector products ``H v`` at ``x`` for the vectors ``V`` (D, c, s, s).

    Forward over reverse by hand: the directional derivative along v of every step of
    the gradient (:func:`_layer2_value_grad`). With dots for derivatives along v:
    ``h1' = F1 . v``; ``p1' = sum h1 h1' / p1`` over each pooling window;
    ``h2' = F2 . p1'``; ``g' = h2 . h2' / g``; the coefficients ``c2 = h2 / g`` give
    ``c2' = h2' / g - h2 g' / g^2``; ``dp = sum c2 F2``, ``dp' = sum c2' F2``;
    ``q = dp / p1``, ``q' = dp' / p1 - dp p1' / p1^2``; collected per simple unit,
    ``d h1 = Q h1`` gives ``(d h1)' = Q' h1 + Q h1'``; and ``H v = sum (d h1)' F1``.
    The pass at x runs once; the directions run in parallel. Zero products where
    g = 0, like the gradient's subgradient.
    """
    M1, L = F1.shape[0], F1.shape[1]
    P2 = F2.shape[0]
    G = L - P1 + 1
    out = np.zeros(V.shape)
    h1 = np.empty((M1, L, L))
    p1 = np.empty((M1, G, G))
    h2 = np.empty((P2, P2))
    _layer1_simple(F1, x, h1)
    g = _layer2_from_simple(h1, eps1, P1, F2, eps2, p1, h2)
    if g == 0:
        return out
    dp = np.empty((M1, G, G))
    _pooled_from_layer2(F2, h2, 1.0 / g, dp)
    q = np.zeros((M1, G, G))
    inverse = np.zeros((M1, G, G))  # 1 / p1, 0 where p1 = 0 (eps1 = 0)
    for m in range(M1):
        for i in range(G):
            for j in range(G):
                if p1[m, i, j] > 0:
                    inverse[m, i, j] = 1.0 / p1[m, i, j]
                    q[m, i, j] = dp[m, i, j] * inverse[m, i, j]
    collected = np.empty((M1, L, L))
    _collect(q, P1, collected)
    for d in prange(V.shape[0]):
        hd = np.empty((M1, L, L))
        _layer1_simple(F1, V[d], hd)
        pd = np.zeros((M1, G, G))
        for m in range(M1):
            for i in range(G):
                for j in range(G):
                    acc = 0.0
                    for u in range(P1):
                        for v in range(P1):
                            acc += h1[m, i + u, j + v] * hd[m, i + u, j + v]
                    pd[m, i, j] = acc * inverse[m, i, j]
        h2d = np.zeros((P2, P2))
        _layer2_simple(F2, pd, h2d)
        gd = np.sum(h2 * h2d) / g
        c2d = h2d / g - h2 * (gd / (g * g))
        dpd = np.empty((M1, G, G))
        _pooled_from_layer2(F2, c2d, 1.0, dpd)
        qd = dpd * inverse - dp * pd * inverse * inverse
        collected_d = np.empty((M1, L, L))
        _collect(qd, P1, collected_d)
        _input_from_simple(F1, collected_d * h1 + collected * hd, out[d])
    return out
