"""Units written independently of the package's kernels, for tests and benchmarks.

- :class:`TanhConvNet`: a small two-layer tanh convolutional net in plain NumPy with
  its analytic gradient (a generic, non-quadratic unit; grey or colour).
- :class:`FilterPoolingUnit`: ``sqrt(eps + sum_j (w_j . x)^2)`` with J filters as
  full-size stimuli, with exact products ``A v = W^T (W v)`` and a closed-form
  spectrum (docs/method.md §8) at any size, without an n x n matrix.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tcnn_widgets.units import Unit


class TanhConvNet(Unit):
    """``g(x) = sum_j c_j tanh(a_j . tanh(conv(x, F) + b))``, x of shape (c, h, w) or (h, w).

    Layer 1: M filters F (M, c, r, r), valid convolution, bias b (M,), tanh.
    Layer 2: J weight maps a_j (M, h - r + 1, w - r + 1), tanh, output weights c_j.
    """

    def __init__(self, shape, maps=3, field=5, outputs=2, scale=1.0, seed=0):
        rng = np.random.default_rng(seed)
        self.shape = tuple(shape)
        self.channels = 1 if len(shape) == 2 else shape[0]
        h, w = shape[-2:]
        self.field = field
        self.F = rng.standard_normal((maps, self.channels, field, field)) * scale
        self.b = 0.1 * rng.standard_normal(maps)
        out = (maps, h - field + 1, w - field + 1)
        self.A = rng.standard_normal((outputs, *out)) / np.sqrt(np.prod(out))
        self.c = rng.uniform(0.5, 1.5, outputs)

    def values_and_grads(self, X):
        X = np.asarray(X, dtype=np.float64)
        N = len(X)
        Xc = X.reshape(N, self.channels, *self.shape[-2:])
        r = self.field
        windows = sliding_window_view(Xc, (r, r), axis=(2, 3))  # (N, c, H1, W1, r, r)
        h1 = np.tanh(np.einsum("ncijab,mcab->nmij", windows, self.F) + self.b[None, :, None, None])
        z2 = np.einsum("nmij,omij->no", h1, self.A)
        t2 = np.tanh(z2)
        values = t2 @ self.c
        d_h1 = np.einsum("no,omij->nmij", self.c * (1 - t2**2), self.A)
        d_z1 = d_h1 * (1 - h1**2)
        grads = np.zeros_like(Xc)
        H1, W1 = d_z1.shape[2:]
        for a in range(r):
            for b in range(r):
                grads[:, :, a : a + H1, b : b + W1] += np.einsum(
                    "nmij,mc->ncij", d_z1, self.F[:, :, a, b]
                )
        return values, grads.reshape(X.shape)


class FilterPoolingUnit(Unit):
    """``g(x) = sqrt(eps + sum_j (w_j . x)^2) = sqrt(eps + x^T A x)``, ``A = W^T W``.

    Exact products ``H v = A v / g - (A x)(A x . v) / g^3`` cost O(J n).
    """

    def __init__(self, W, shape, eps=1e-4):
        self.W = np.asarray(W, dtype=np.float64).reshape(len(W), -1)
        self.shape = tuple(shape)
        self.eps = eps

    def values_and_grads(self, X):
        flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        R = flat @ self.W.T
        g = np.sqrt(self.eps + np.sum(R**2, axis=1))
        return g, ((R @ self.W) / g[:, None]).reshape(np.shape(X))

    def hvp(self, x, V):
        x = np.asarray(x, dtype=np.float64).ravel()
        flat = np.asarray(V, dtype=np.float64).reshape(len(V), -1)
        Ax = self.W.T @ (self.W @ x)
        g = np.sqrt(self.eps + x @ Ax)
        AV = (flat @ self.W.T) @ self.W
        return (AV / g - np.outer(flat @ Ax, Ax) / g**3).reshape(np.shape(V))

    def closed_form(self, radius=1.0):
        """Eigenvalues lambda (J,) of A (largest first), the optimum direction v_1,
        g* and the curvatures nu_j = (lambda_j - lambda_1) / g* of the J - 1 others
        (every other direction has -lambda_1 / g*)."""
        s, U = np.linalg.eigh(self.W @ self.W.T)
        s, U = s[::-1], U[:, ::-1]
        v1 = self.W.T @ U[:, 0] / np.sqrt(s[0])
        g_star = np.sqrt(self.eps + s[0] * radius**2)
        return s, v1, g_star, (s[1:] - s[0]) / g_star
