"""Numba kernels of the tiled CNN: forward pass, gradients, and single pooling units.

All kernels are plain loops over float64 arrays; ``tests/test_kernels.py`` checks
each one against a NumPy reference. Callers validate shapes and values first: the
kernels assume well-formed, finite input.

Notation (docs/method.md §2, §11): weights ``W`` of shape (M, k, k, c, r, r) (c input
channels; a grayscale network passes c = 1); images ``X`` of shape (N, c, S, S); simple
responses ``H`` of shape (N, M, S - r + 1, S - r + 1); pooling outputs ``p`` of shape
(N, M, G, G) with ``G = S - r - P + 2``. A second layer runs the same kernels on the
pooled maps ``p`` as its c = M input channels.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def simple_forward(X, W):
    """Simple responses ``H[n, m, i, j] = sum_cab W[m, i%k, j%k, c, a, b] X[n, c, i+a, j+b]``."""
    N, C, S = X.shape[0], X.shape[1], X.shape[2]
    M, k, r = W.shape[0], W.shape[1], W.shape[4]
    L = S - r + 1
    H = np.zeros((N, M, L, L))
    for n in prange(N):
        for m in range(M):
            for i in range(L):
                for j in range(L):
                    acc = 0.0
                    for c in range(C):
                        for a in range(r):
                            for b in range(r):
                                acc += W[m, i % k, j % k, c, a, b] * X[n, c, i + a, j + b]
                    H[n, m, i, j] = acc
    return H


@njit(cache=True, parallel=True)
def pool_forward(H, P, eps):
    """Pooling outputs ``p[n, m, i, j] = sqrt(eps + sum_{u,v<P} H[n, m, i+u, j+v]^2)``."""
    N, M, L = H.shape[0], H.shape[1], H.shape[2]
    G = L - P + 1
    p = np.zeros((N, M, G, G))
    for n in prange(N):
        for m in range(M):
            for i in range(G):
                for j in range(G):
                    acc = eps
                    for u in range(P):
                        for v in range(P):
                            acc += H[n, m, i + u, j + v] ** 2
                    p[n, m, i, j] = np.sqrt(acc)
    return p


@njit(cache=True, parallel=True)
def simple_backward(H, p, P):
    """Gradient of ``sum p`` with respect to the simple responses ``H``."""
    N, M = H.shape[0], H.shape[1]
    G = p.shape[2]
    dH = np.zeros_like(H)
    for n in prange(N):
        for m in range(M):
            for i in range(G):
                for j in range(G):
                    inv = 1.0 / p[n, m, i, j] if p[n, m, i, j] > 0 else 0.0  # eps = 0 at 0
                    for u in range(P):
                        for v in range(P):
                            dH[n, m, i + u, j + v] += H[n, m, i + u, j + v] * inv
    return dH


@njit(cache=True, parallel=True)
def pool_backward(H, p, P, dp):
    """Gradient with respect to ``H`` of ``sum dp * p``: each simple unit collects
    ``dp[i, j] H / p[i, j]`` from every pooling unit (i, j) that holds it."""
    N, M = H.shape[0], H.shape[1]
    G = p.shape[2]
    dH = np.zeros_like(H)
    for n in prange(N):
        for m in range(M):
            for i in range(G):
                for j in range(G):
                    c = dp[n, m, i, j] / p[n, m, i, j] if p[n, m, i, j] > 0 else 0.0
                    for u in range(P):
                        for v in range(P):
                            dH[n, m, i + u, j + v] += H[n, m, i + u, j + v] * c
    return dH


@njit(cache=True, parallel=True)
def input_backward(dH, W, S):
    """Gradient with respect to the images, given the gradient ``dH`` of the simple responses."""
    N, M, L = dH.shape[0], dH.shape[1], dH.shape[2]
    k, C, r = W.shape[1], W.shape[3], W.shape[4]
    dX = np.zeros((N, C, S, S))
    for n in prange(N):
        for m in range(M):
            for i in range(L):
                for j in range(L):
                    d = dH[n, m, i, j]
                    for c in range(C):
                        for a in range(r):
                            for b in range(r):
                                dX[n, c, i + a, j + b] += d * W[m, i % k, j % k, c, a, b]
    return dX


@njit(cache=True, parallel=True)
def weight_backward(dH, X, k, r):
    """Gradient with respect to the weights, given the gradient ``dH`` of the simple responses."""
    N, M, L = dH.shape[0], dH.shape[1], dH.shape[2]
    C = X.shape[1]
    dW = np.zeros((M, k, k, C, r, r))
    for m in prange(M):
        for n in range(N):
            for i in range(L):
                for j in range(L):
                    d = dH[n, m, i, j]
                    for c in range(C):
                        for a in range(r):
                            for b in range(r):
                                dW[m, i % k, j % k, c, a, b] += d * X[n, c, i + a, j + b]
    return dW


# ---- one pooling unit on its own field (docs/method.md §8) ------------------------------
# A pooling unit is described by its P x P filters F of shape (P, P, c, r, r): filter
# F[u, v] acts on the patch x[:, u:u+r, v:v+r] of the unit's (c, s, s) field,
# s = r + P - 1; g(x) = sqrt(eps + sum_uv h_uv^2) with the responses h_uv = F[u, v] . x.
# A grayscale unit passes its (P, P, r, r) filters as c = 1.


@njit(cache=True)
def _unit_responses(F, x, out):
    """Responses ``out[u, v] = F[u, v] . x[:, u:u+r, v:v+r]`` (P, P) of one field x."""
    P, C, r = F.shape[0], F.shape[2], F.shape[3]
    for u in range(P):
        for v in range(P):
            acc = 0.0
            for c in range(C):
                for a in range(r):
                    for b in range(r):
                        acc += F[u, v, c, a, b] * x[c, u + a, v + b]
            out[u, v] = acc


@njit(cache=True)
def _unit_combine(F, coefficients, scale, out):
    """``out = scale sum_uv coefficients[u, v] F[u, v]``, filters embedded in the field."""
    P, C, r = F.shape[0], F.shape[2], F.shape[3]
    out[:] = 0.0
    for u in range(P):
        for v in range(P):
            w = scale * coefficients[u, v]
            for c in range(C):
                for a in range(r):
                    for b in range(r):
                        out[c, u + a, v + b] += w * F[u, v, c, a, b]


@njit(cache=True)
def _unit_value_grad(F, eps, x, grad, h, want):
    """Activation of one field ``x``; its gradient ``sum_uv (h_uv / g) F[u, v]`` into
    ``grad`` when ``want``. ``h`` (P, P) is a work buffer."""
    _unit_responses(F, x, h)
    g = np.sqrt(eps + np.sum(h * h))
    if want:
        if g > 0:
            _unit_combine(F, h, 1.0 / g, grad)
        else:  # eps = 0 and all responses 0: the subgradient 0
            grad[:] = 0.0
    return g


@njit(cache=True, parallel=True)
def unit_values_grads(F, eps, X, grads):
    """Activations (N,) of the fields ``X`` (N, c, s, s); gradients into ``grads`` if it
    has N entries (pass an empty (0, c, s, s) array for values only). Parallel over N."""
    N, P = X.shape[0], F.shape[0]
    values = np.empty(N)
    want = grads.shape[0] == N
    for n in prange(N):
        h = np.empty((P, P))
        target = grads[n] if want else X[n]  # X[n] is never written when not wanted
        values[n] = _unit_value_grad(F, eps, X[n], target, h, want)
    return values


@njit(cache=True)
def unit_values_grads_serial(F, eps, X, grads):
    """:func:`unit_values_grads` in one thread, for small stacks (an optimal-stimulus
    search sends a few points per call; waking threads costs more than it saves)."""
    N, P = X.shape[0], F.shape[0]
    values = np.empty(N)
    want = grads.shape[0] == N
    h = np.empty((P, P))
    for n in range(N):
        target = grads[n] if want else X[n]
        values[n] = _unit_value_grad(F, eps, X[n], target, h, want)
    return values


@njit(cache=True)
def unit_hvp(F, eps, x, V):
    """Exact Hessian-vector products ``H v`` of the unit at ``x`` for the vectors ``V``.

    With ``A = sum_uv w_uv w_uv^T`` (docs/method.md §8), ``H = A / g - (A x)(A x)^T / g^3``,
    so ``H v = sum_uv (h_v - h_x (h_x . h_v) / g^2) / g  w_uv`` with the responses
    ``h_x``, ``h_v`` of x and v. Zero products where g = 0 (eps = 0 at x = 0), like the
    gradient's subgradient.
    """
    P = F.shape[0]
    hx = np.empty((P, P))
    hv = np.empty((P, P))
    _unit_responses(F, x, hx)
    g = np.sqrt(eps + np.sum(hx * hx))
    out = np.zeros(V.shape)
    if g == 0:
        return out
    for d in range(V.shape[0]):
        _unit_responses(F, V[d], hv)
        along = np.sum(hx * hv) / (g * g)
        for u in range(P):
            for v in range(P):
                hv[u, v] -= along * hx[u, v]
        _unit_combine(F, hv, 1.0 / g, out[d])
    return out


@njit(cache=True)
def unit_fd_hessian(F, eps, x, step):
    """Central-difference Hessian ``H[:, i] = (grad(x + step e_i) - grad(x - step e_i)) / (2 step)``.

    Not symmetrized; pixels in the order of ``x.ravel()`` (channel, row, column). A pixel
    enters at most P^2 responses, so the responses at ``x +- step e_i`` are updated from
    those at ``x``; and since the gradient is ``sum_uv (h_uv / g) F[u, v]``, the
    difference of the two gradients is formed from the difference of those
    coefficients. Both are exact up to rounding.
    """
    C, s, P, r = x.shape[0], x.shape[1], F.shape[0], F.shape[3]
    n = C * s * s
    h0 = np.empty((P, P))
    _unit_responses(F, x, h0)
    rows = np.zeros((n, C, s, s))  # rows[i] = column i of the Hessian, as a field
    hp = np.empty((P, P))
    hm = np.empty((P, P))
    dc = np.empty((P, P))
    for ch in range(C):
        for row in range(s):
            for col in range(s):
                hp[:, :] = h0
                hm[:, :] = h0
                for u in range(max(0, row - r + 1), min(P, row + 1)):
                    for v in range(max(0, col - r + 1), min(P, col + 1)):
                        hp[u, v] += step * F[u, v, ch, row - u, col - v]
                        hm[u, v] -= step * F[u, v, ch, row - u, col - v]
                gp = np.sqrt(eps + np.sum(hp * hp))
                gm = np.sqrt(eps + np.sum(hm * hm))
                for u in range(P):
                    for v in range(P):
                        cp = hp[u, v] / gp if gp > 0 else 0.0
                        cm = hm[u, v] / gm if gm > 0 else 0.0
                        dc[u, v] = cp - cm
                _unit_combine(F, dc, 1.0 / (2.0 * step), rows[(ch * s + row) * s + col])
    return rows.reshape(n, n).T.copy()


@njit(cache=True)
def unit_geodesic_values(F, eps, x, W, rho, angles):
    """``g(cos t x + sin t rho W[d])`` for each direction d and each angle ``angles[d, j]``.

    The responses are linear in the input, so those of x and of each direction are
    computed once and combined for every angle.
    """
    D, K, P = W.shape[0], angles.shape[1], F.shape[0]
    hx = np.empty((P, P))
    hw = np.empty((P, P))
    _unit_responses(F, x, hx)
    out = np.empty((D, K))
    for d in range(D):
        _unit_responses(F, W[d], hw)
        for j in range(K):
            c, s = np.cos(angles[d, j]), rho * np.sin(angles[d, j])
            acc = eps
            for u in range(P):
                for v in range(P):
                    acc += (c * hx[u, v] + s * hw[u, v]) ** 2
            out[d, j] = np.sqrt(acc)
    return out
