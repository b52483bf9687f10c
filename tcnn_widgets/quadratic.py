"""Quadratic units (Berkes & Wiskott 2006), with their exact optimum and invariances."""

from __future__ import annotations

import numpy as np

from ._validate import image_shape
from .units import Unit


class QuadraticUnit(Unit):
    """The unit ``g(x) = 1/2 x^T H x + f^T x + c`` (METHOD section 8).

    Parameters
    ----------
    H : ndarray, shape (n, n)
        Symmetric matrix.
    f : ndarray, shape (n,) or image shape, optional
        Linear term (zero when omitted).
    c : float
        Constant term.
    shape : (int, int) or (int, int, int), optional
        Stimulus shape (h, w) or (c, h, w), channels first; defaults to a square
        image when n is a perfect square.
    name : str
        Shown in results and figures.
    """

    has_exact_hessian = True

    def __init__(
        self,
        H: np.ndarray,
        f: np.ndarray | None = None,
        c: float = 0.0,
        *,
        shape: tuple[int, ...] | None = None,
        name: str = "quadratic unit",
    ) -> None:
        H = np.asarray(H, dtype=np.float64)
        if H.ndim != 2 or H.shape[0] != H.shape[1]:
            raise ValueError(f"H must be a square matrix, got shape {H.shape}")
        n = H.shape[0]
        if not np.all(np.isfinite(H)):
            raise ValueError("H contains NaN or infinite values")
        if not np.allclose(H, H.T, rtol=1e-10, atol=1e-12 * np.abs(H).max()):
            raise ValueError("H must be symmetric; pass (H + H.T) / 2")
        f = np.zeros(n) if f is None else np.asarray(f, dtype=np.float64).ravel()
        if f.shape != (n,):
            raise ValueError(f"f must have {n} entries to match H, got {f.size}")
        if not np.all(np.isfinite(f)) or not np.isfinite(c):
            raise ValueError("f and c must be finite")
        if shape is None:
            side = int(round(np.sqrt(n)))
            if side * side != n:
                raise ValueError(f"n = {n} is not a square number; pass shape=(h, w)")
            shape = (side, side)
        self.shape = image_shape(shape)
        if int(np.prod(self.shape)) != n:
            raise ValueError(f"shape {shape} has {int(np.prod(self.shape))} entries, H has {n}")
        self.H, self.f, self.c = (H + H.T) / 2, f, float(c)
        self.name = name

    def values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        Hx = x @ self.H
        values = 0.5 * np.sum(x * Hx, axis=1) + x @ self.f + self.c
        return values, (Hx + self.f).reshape(np.shape(X))

    def hessian(self, x: np.ndarray) -> np.ndarray:
        self.check_input(x)
        return self.H.copy()

    def hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Exact products ``H v`` (m, *shape) of the stack ``V`` (m, *shape)."""
        self.check_input(x)
        V = self.check_stack(V)
        return (V.reshape(len(V), -1) @ self.H).reshape(V.shape)

    def optimum(self, radius: float = 1.0) -> np.ndarray:
        """The exact maximizer of g on ``||x|| = radius``, as an image.

        Bisection on the Lagrange multiplier: ``x(lam) = (lam I - H)^(-1) f`` with
        ``lam > lambda_max(H)`` chosen so that ``||x(lam)|| = radius``. In the
        "hard case" (f has no component along the top eigenvectors and
        ``||x(lambda_max)|| < radius``, which includes f = 0) the optimum is
        ``x(lambda_max)`` plus a multiple of a top eigenvector.
        """
        if not np.isfinite(radius) or radius <= 0:
            raise ValueError(f"radius must be a positive number, got {radius!r}")
        lam, Q = np.linalg.eigh(self.H)
        ft = Q.T @ self.f
        top = lam[-1]
        scale = max(np.abs(lam).max(), 1e-300)
        is_top = lam >= top - 1e-12 * scale
        if np.all(np.abs(ft[is_top]) <= 1e-14 * max(np.linalg.norm(ft), 1e-300)):
            # hard case candidate: norm of x(lambda_max) restricted to the other eigenvectors
            rest = np.where(is_top, 0.0, ft / np.where(is_top, 1.0, top - lam))
            norm_rest = np.linalg.norm(rest)
            if norm_rest <= radius:
                coefficients = rest
                coefficients[np.flatnonzero(is_top)[-1]] = np.sqrt(radius**2 - norm_rest**2)
                return (Q @ coefficients).reshape(self.shape)
        # Bisect on the shift d = lam - lambda_max > 0, geometrically while the bracket
        # spans orders of magnitude: ||x|| is then exact even when d is tiny (the
        # "near-hard" case, f almost orthogonal to the top eigenvectors).
        gaps = top - lam  # >= 0, exact
        low, high = 1e-300, np.linalg.norm(ft) / radius
        for _ in range(400):
            mid = np.sqrt(low * high) if high > 4 * low else 0.5 * (low + high)
            if mid <= low or mid >= high:
                break
            if np.linalg.norm(ft / (mid + gaps)) > radius:
                low = mid
            else:
                high = mid
        return (Q @ (ft / (high + gaps))).reshape(self.shape)

    def curvatures(self, radius: float = 1.0) -> np.ndarray:
        """Exact curvatures ``eig(B^T H B) - (x*^T H x* + f^T x*) / radius^2``, descending."""
        x = self.optimum(radius).ravel()
        Q, _ = np.linalg.qr(np.column_stack([x, np.eye(x.size)]))
        B = Q[:, 1:]
        mu = (x @ self.H @ x + self.f @ x) / radius**2
        return np.sort(np.linalg.eigvalsh(B.T @ self.H @ B))[::-1] - mu
