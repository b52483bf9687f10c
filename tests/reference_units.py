"""Units written independently of the package's kernels, for tests and benchmarks.

- :class:`TanhConvNet`: a small two-layer tanh convolutional net in plain NumPy with
  its analytic gradient (a generic, non-quadratic unit; grey or colour).
- :class:`FilterPoolingUnit`: ``sqrt(eps + sum_j (w_j . x)^2)`` with J filters as
  full-size stimuli, with exact products ``A v = W^T (W v)`` and a closed-form
  spectrum (docs/method.md §8) at any size, without an n x n matrix.
"""

from __future__ import annotations

import numpy as np

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

    def _forward(self, X):
        """Layer-1 activations h1 (N, M, H1, W1) and layer-2 tanh t2 (N, J)."""
        X = np.asarray(X, dtype=np.float64)
        N, r = len(X), self.field
        Xc = X.reshape(N, self.channels, *self.shape[-2:])
        H1, W1 = Xc.shape[2] - r + 1, Xc.shape[3] - r + 1
        z1 = np.empty((N, len(self.F), H1, W1))
        for m in range(len(self.F)):  # valid correlation, one shifted copy at a time
            z1[:, m] = self.b[m]
            for c, a, b in np.ndindex(self.channels, r, r):
                z1[:, m] += self.F[m, c, a, b] * Xc[:, c, a : a + H1, b : b + W1]
        h1 = np.tanh(z1)
        t2 = np.tanh(h1.reshape(N, -1) @ self.A.reshape(len(self.A), -1).T)
        return h1, t2

    def values(self, X):
        return self._forward(X)[1] @ self.c

    def values_and_grads(self, X):
        X = np.asarray(X, dtype=np.float64)
        N, r = len(X), self.field
        h1, t2 = self._forward(X)
        d_h1 = ((self.c * (1 - t2**2)) @ self.A.reshape(len(self.A), -1)).reshape(h1.shape)
        d_z1 = d_h1 * (1 - h1**2)  # (N, M, H1, W1)
        H1, W1 = h1.shape[2:]
        grads = np.zeros((N, self.channels, *self.shape[-2:]))
        for m in range(len(self.F)):
            for c, a, b in np.ndindex(self.channels, r, r):
                grads[:, c, a : a + H1, b : b + W1] += self.F[m, c, a, b] * d_z1[:, m]
        return t2 @ self.c, grads.reshape(X.shape)


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
