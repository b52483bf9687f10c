"""Matrix-free invariances: Hessian-vector products, block Lanczos ends, Newton by CG.

docs/method.md §10. Nothing here forms an n x n matrix: the tangent basis is a
Householder reflector applied in O(n), the Hessian is only ever applied to vectors.
Points and vectors are flat float64 rows of n entries.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ._sphere import evaluate, retract
from .units import Unit


class Products:
    """Hessian-vector products ``H(x) V`` of a unit, counted.

    Parameters
    ----------
    function : callable
        ``function(x, V) -> HV`` with x (*shape), V (m, *shape) and HV (m, *shape).
    shape : tuple of int
        The unit's stimulus shape.

    Attributes
    ----------
    count : int
        Number of vectors multiplied so far.
    """

    def __init__(self, function: Callable, shape: tuple[int, ...]) -> None:
        self.function = function
        self.shape = tuple(shape)
        self.count = 0

    def __call__(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Products (m, n) of flat vectors V (m, n) at the flat point x (n,)."""
        V = np.atleast_2d(V)
        self.count += len(V)
        HV = self.function(x.reshape(self.shape), V.reshape(len(V), *self.shape))
        return np.asarray(HV, dtype=np.float64).reshape(len(V), -1)


def check_products_match_gradient(
    unit: Unit, x: np.ndarray, products: Products, step: float, rng: np.random.Generator
) -> None:
    """Compare one exact product with central differences of the gradient.

    Raises
    ------
    ValueError
        When ``H v`` and the differences of the gradient disagree by more than 1e-4
        of the scale of H (a wrong or inconsistent ``hvp``).
    """
    v = rng.standard_normal(x.size)
    v /= np.linalg.norm(v)
    exact = products(x, v[None])[0]
    products.count -= 1  # a check, not part of the analysis
    differences = unit.fd_hvp(x.reshape(unit.shape), v[None], step).ravel()
    gradient = evaluate(unit, x.reshape(1, -1))[1][0]
    scale = np.linalg.norm(differences) + np.linalg.norm(gradient) / np.linalg.norm(x)
    error = np.linalg.norm(exact - differences)
    if not error <= 1e-4 * scale:
        raise ValueError(
            f"the unit's hvp is inconsistent with its gradient: for a random unit vector v, "
            f"||hvp(x, v) - (grad(x + h v) - grad(x - h v)) / 2h|| = {error:.3g} "
            f"(scale {scale:.3g}); check hvp, or use hessian='fd'"
        )


# ---- the tangent plane (an implicit Householder basis) ---------------------------


class TangentBasis:
    """The orthonormal tangent basis B (n, n - 1) at x, applied in O(n) per vector.

    B is the last n - 1 columns of the Householder reflection Q that maps the first
    axis onto the direction of x (the same basis as ``_sphere.tangent_basis``).
    """

    def __init__(self, x: np.ndarray) -> None:
        u = x / np.linalg.norm(x)
        self.v = u.copy()
        self.v[0] += 1.0 if u[0] >= 0 else -1.0
        self.beta = 2.0 / float(self.v @ self.v)

    def reflect(self, Z: np.ndarray) -> np.ndarray:
        """``Q z`` for each row z of Z (m, n)."""
        return Z - self.beta * np.outer(Z @ self.v, self.v)

    def expand(self, Y: np.ndarray) -> np.ndarray:
        """``B y`` (m, n) for rows y (m, n - 1)."""
        Z = np.zeros((len(Y), Y.shape[1] + 1))
        Z[:, 1:] = Y
        return self.reflect(Z)

    def restrict(self, Z: np.ndarray) -> np.ndarray:
        """``B^T z`` (m, n - 1) for rows z (m, n)."""
        return self.reflect(Z)[:, 1:]

    def conjugate(self, H: np.ndarray) -> np.ndarray:
        """``B^T H B`` (n - 1, n - 1) of a symmetric H (n, n), in O(n^2), without B."""
        QH = self.reflect(H)  # rows of H reflected: (Q H)^T = H Q, H symmetric
        return self.reflect(QH.T)[1:, 1:]


def tangent_ends(
    products: Products,
    x: np.ndarray,
    mu: float,
    k: int,
    rng: np.random.Generator,
    width: int = 1,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k largest and k smallest curvatures and their directions, matrix-free.

    The tangent operator ``K y = B^T H B y - mu y`` (docs/method.md §10) is
    diagonalized at both ends by :func:`block_ends`, asking for k + 1 at each end: the
    extra value tells whether the cluster at the k-th value goes on beyond the kept
    ones. Products come in blocks, one call of the unit per block; blocks of more than
    one product widen to k + 1 where a tie at an end fills them (see
    :func:`block_ends`), so that a tie that fills an end is seen whole.

    Parameters
    ----------
    products : Products
    x : ndarray (n,)
        The optimal stimulus, flat.
    mu : float
        The Lagrange multiplier.
    k : int
        Directions kept at each end.
    rng : numpy.random.Generator
        Source of the start block (for reproducible results).
    width : int
        Products per call (see :func:`block_ends`).
    tol : float
        Relative residual at which a curvature has converged; a curvature is then
        within ``tol`` of the largest |curvature| of the exact one (in practice far
        closer: the error falls with the square of the residual).

    Returns
    -------
    curvatures : ndarray (2k,)
        Descending: the k largest, then the k smallest.
    directions : ndarray (2k, n)
        Unit tangent directions, each signed so that its largest-magnitude entry is
        positive.
    beyond : ndarray (2,)
        The (k + 1)-th curvature from the most and from the least invariant end
        (NaN where there is none).

    Raises
    ------
    RuntimeError
        When the ends do not converge within the product budget.
    """
    basis = TangentBasis(x)

    def apply(Y: np.ndarray) -> np.ndarray:
        return basis.restrict(products(x, basis.expand(Y))) - mu * Y

    widest = k + 1 if width > 1 else 1  # one product per call: each call costs its own
    values, Y = block_ends(apply, x.size - 1, k + 1, rng, width=width, tol=tol, widest=widest)
    values, Y = values[::-1], Y[::-1]  # descending
    keep = np.r_[0:k, len(values) - k : len(values)]
    W = basis.expand(Y[keep])
    W /= np.sqrt(np.einsum("ij,ij->i", W, W))[:, None]
    pivots = W[np.arange(len(W)), np.argmax(np.abs(W), axis=1)]
    W *= np.where(pivots < 0, -1.0, 1.0)[:, None]
    has_more = len(values) > 2 * k
    beyond = np.array([values[k], values[-k - 1]]) if has_more else np.full(2, np.nan)
    return values[keep], W, beyond


def _largest_tie(values: np.ndarray, want: int, tolerance: float = 1e-6) -> int:
    """Most copies of one value (equal to ``tolerance`` of the largest |value|) among
    the ``want`` values at either end of ``values`` (ascending, as block_ends gives)."""
    scale = max(float(np.abs(values).max()), 1e-300)
    largest = 1
    for end in (values[:want], values[::-1][:want]):
        run = 1
        for a, b in zip(end[:-1], end[1:], strict=True):
            run = run + 1 if abs(b - a) <= tolerance * scale else 1
            largest = max(largest, run)
    return largest


BLOCK_WIDTH = 4
"""Products per call for a unit that computes stacks. Wider blocks need fewer calls
but more products in all (measured on a small CNN unit, n = 1024, k = 10: blocks of
4 took 200-240 products, blocks of 11 320-470, and half the time)."""

RESTART_DROP = 4
"""A thick restart drops a 1/RESTART_DROP part of the full search space (at least a
block) and keeps the Ritz vectors nearest the two ends: dropping only a block restarts
at every block, dropping half slows the ends of a tied spectrum 3-4 fold."""

CHECK_GROWTH = 4
"""Between two Rayleigh-Ritz checks the search space grows by a 1/CHECK_GROWTH part
(at least one block): a check costs an eigendecomposition of the projected matrix,
which at this size costs more than the products it could save."""

BASIS_BYTES = 1 << 28
"""Bytes the search space of :func:`block_ends` and its images may take before it
restarts (it keeps at least 4 want + 2 width vectors, whatever this allows)."""


def block_ends(
    apply: Callable[[np.ndarray], np.ndarray],
    size: int,
    want: int,
    rng: np.random.Generator,
    width: int = 1,
    tol: float = 1e-10,
    max_products: int | None = None,
    widest: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``want`` smallest and ``want`` largest eigenpairs of a symmetric operator.

    Block Lanczos with thick restarts, written as a Rayleigh-Ritz loop: the search
    space grows by ``width`` vectors at a time, one call of ``apply`` each, by the
    next block of the block Krylov space (the image of the last block, orthogonalized;
    with ``width=1`` this is plain Lanczos). The Ritz pairs are checked only after the
    space grew by a quarter (:data:`CHECK_GROWTH`), since each check diagonalizes the
    projected matrix; after a check the space grows by the residuals of the wanted
    pairs that have not converged, which span the same block. When the space is full
    it restarts from three quarters as many Ritz vectors (:data:`RESTART_DROP`), those
    nearest the two ends, whose images are known without new products (Krylov-Schur). A pair has converged
    when its residual is at most ``tol`` times the largest |Ritz value|, or ten times
    the noise of the products where that is larger (finite differences: the largest
    asymmetry ``|v_i . A v_j - v_j . A v_i|`` seen between basis vectors).

    Parameters
    ----------
    apply : callable
        ``apply(Y) -> A Y`` for rows Y (m, size); A symmetric.
    size : int
        Dimension of the space.
    want : int
        Eigenpairs wanted at each end.
    rng : numpy.random.Generator
        Source of the start block.
    width : int
        Vectors per call of ``apply``: wider blocks need more products in all but
        fewer calls, which pays when a call of m products costs much less than m
        calls of one.
    tol : float
        Relative residual at which a pair has converged.
    max_products : int, optional
        Product budget (default ``max(100 want, 20 size)``, bounded by 200,000).
    widest : int, optional
        Blocks widen to this many vectors when the pairs have converged with as many
        copies of one value at an end as a block is wide: in exact arithmetic a Krylov
        space holds only as many copies of a value as its block is wide, so there may
        be more. The search then goes on with wider blocks (default ``width``: never).

    Returns
    -------
    values : ndarray (2 want,) or (size,)
        Ascending: the smallest ``want``, then the largest ``want`` (all eigenvalues
        when ``2 want >= size``).
    vectors : ndarray (len(values), size)
        Orthonormal eigenvectors as rows.

    Raises
    ------
    RuntimeError
        When the residuals are still above 1e-6 of the scale after the budget.

    Example
    -------
    >>> A = np.diag(np.arange(100.0))
    >>> values, _ = block_ends(lambda Y: Y @ A, 100, 2, np.random.default_rng(0))
    >>> values.round(8).tolist()
    [0.0, 1.0, 98.0, 99.0]
    """
    width = max(1, min(width, size))
    widest = max(width, min(widest or width, size))
    memory = BASIS_BYTES // (16 * size)  # vectors that V and AV may hold
    limit = min(size, max(4 * want + 2 * widest, 40, min(2 * want + 24 * width, memory)))
    budget = max_products or min(max(100 * want, 20 * size), 200_000)
    # the search space V and its image AV, as the first m rows of two buffers
    V_rows, AV_rows = np.empty((limit, size)), np.empty((limit, size))
    block = _orthonormal_rows(rng.standard_normal((width, size)), np.empty((0, size)), width)
    A_block = apply(block)
    m = len(block)
    V_rows[:m], AV_rows[:m] = block, A_block
    V, AV = V_rows[:m], AV_rows[:m]
    T = block @ A_block.T
    noise = _asymmetry(T)  # products that are not exactly symmetric
    T = _symmetric(T)
    used, check_at = width, 0
    while True:
        step = min(width, size - m)
        if m >= check_at or m + step > limit or step == 0 or used >= budget:
            theta, S = np.linalg.eigh(T)
            ends = np.arange(len(theta))
            if len(theta) > 2 * want:
                ends = np.r_[0:want, len(theta) - want : len(theta)]
            Y, AY = S[:, ends].T @ V, S[:, ends].T @ AV
            R = AY - theta[ends, None] * Y
            residuals = np.sqrt(np.einsum("ij,ij->i", R, R))
            scale = max(float(np.abs(theta).max()), 1e-300)
            reach = max(tol * scale, 10 * noise)  # residuals below the noise mean nothing
            open_ = residuals > reach
            enough = len(theta) >= min(size, 2 * want)
            if (enough and not open_.any()) or step == 0 or used >= budget:
                if step == 0 or used >= budget or width == widest:
                    break
                if _largest_tie(theta[ends], want) < width:
                    break
                width = widest  # a tie fills the block: wider blocks see it whole
                step = min(width, size - m)
            check_at = m + max(step, m // CHECK_GROWTH)
            if m + step > limit:  # thick restart from the Ritz vectors at the ends
                side = max(want, (limit - max(step, limit // RESTART_DROP)) // 2)
                kept = np.r_[0:side, len(theta) - side : len(theta)]
                m = len(kept)
                V_rows[:m], AV_rows[:m] = S[:, kept].T @ V, S[:, kept].T @ AV
                V, AV, T = V_rows[:m], AV_rows[:m], np.diag(theta[kept])
            block = _orthonormal_rows(R[open_], V, step)
        else:  # between checks the block Krylov space grows by the last block's image
            block = _orthonormal_rows(A_block, V, step)
        if len(block) < step:  # what spans the next block is less: fill with random vectors
            fill = rng.standard_normal((step - len(block), size))
            block = np.vstack([block, _orthonormal_rows(fill, np.vstack([V, block]), step)])
        A_block = apply(block)
        used += len(block)
        cross, inner = V @ A_block.T, block @ A_block.T
        noise = max(noise, float(np.abs(cross - AV @ block.T).max()), _asymmetry(inner))
        T = np.block([[T, cross], [cross.T, _symmetric(inner)]])
        V_rows[m : m + len(block)], AV_rows[m : m + len(block)] = block, A_block
        m += len(block)
        V, AV = V_rows[:m], AV_rows[:m]
    worst = float(residuals.max()) / scale
    if worst > max(1e-6, 100 * noise / scale):
        raise RuntimeError(
            f"the matrix-free ends did not converge within {used} Hessian-vector products "
            f"(relative residual {worst:.1e}); try a smaller directions=k or method='dense'"
        )
    return theta[ends], Y


def _orthonormal_rows(W: np.ndarray, V: np.ndarray, count: int) -> np.ndarray:
    """At most ``count`` orthonormal rows spanning the main part of W's rows
    orthogonal to V's rows (V orthonormal rows).

    Each row of W is normalized and projected off V; the principal directions of what
    remains are kept (at most ``count``, and only those above rounding), then
    projected off V once more (Gram-Schmidt twice is enough).
    """
    W = W / np.maximum(np.sqrt(np.einsum("ij,ij->i", W, W)), 1e-300)[:, None]
    W = W - (W @ V.T) @ V
    _, sigma, Ut = np.linalg.svd(W, full_matrices=False)
    Q = Ut[: min(count, int(np.sum(sigma > 1e-8)))]
    Q = Q - (Q @ V.T) @ V  # orthogonal to V to rounding, then orthonormal within
    return np.linalg.qr(Q.T)[0].T


def _asymmetry(K: np.ndarray) -> float:
    return float(np.abs(K - K.T).max())


def _symmetric(K: np.ndarray) -> np.ndarray:
    return (K + K.T) / 2


# ---- Newton polish on the sphere with products -----------------------------------


def newton_polish(
    unit: Unit,
    x: np.ndarray,
    rho: float,
    products: Products,
    steps: int = 5,
    rtol: float = 1e-10,
) -> np.ndarray:
    """Riemannian Newton steps on the sphere, each solved by conjugate gradients.

    A step solves ``(mu I - P H P) y = r`` in the tangent plane (P the projector
    on it, r the tangent gradient; the matrix is positive definite near a maximum)
    by :func:`tangent_cg`, then retracts ``x + y`` to the sphere. It is kept only
    while the activation does not fall; polishing stops when the tangent gradient is
    below 1e-14 of the gradient.

    Parameters
    ----------
    unit : Unit
    x : ndarray (*shape)
        A point on the sphere near a maximum.
    rho : float
    products : Products
    steps : int
        At most this many Newton steps.
    rtol : float
        Relative residual at which conjugate gradients stop.

    Returns
    -------
    ndarray (*shape)
        The polished point.
    """
    xf = x.ravel()
    value, G = evaluate(unit, xf[None])
    for _ in range(steps):
        mu = float(xf @ G[0]) / rho**2
        r = G[0] - mu * xf
        if np.linalg.norm(r) <= 1e-14 * max(np.linalg.norm(G[0]), 1e-300):
            break
        y = tangent_cg(products, xf, mu, r, rtol, max_iter=min(xf.size, 500))
        if y is None:
            break  # not near a maximum: Newton would not ascend
        trial = retract((xf + y)[None], rho)
        trial_value, trial_G = evaluate(unit, trial)
        if not trial_value[0] >= value[0] - 1e-15 * abs(value[0]):
            break
        xf, value, G = trial[0], trial_value, trial_G
    return xf.reshape(unit.shape)


def tangent_cg(
    products: Products, x: np.ndarray, mu: float, r: np.ndarray, rtol: float, max_iter: int
) -> np.ndarray | None:
    """Conjugate gradients for ``(mu I - P H P) y = r`` on the tangent plane at x.

    One product per iteration. Returns None when the matrix shows a direction of
    non-positive curvature before any progress (x is not near a maximum); stops early
    (keeping the progress) when it shows one later.
    """
    u = x / np.linalg.norm(x)
    y = np.zeros_like(r)
    residual = r - (u @ r) * u
    p = residual.copy()
    rr = float(residual @ residual)
    goal = (rtol * np.sqrt(rr)) ** 2
    for iteration in range(max_iter):
        Hp = products(x, p[None])[0]
        Ap = mu * p - (Hp - (u @ Hp) * u)
        curvature = float(p @ Ap)
        if not curvature > 0:
            return None if iteration == 0 else y
        alpha = rr / curvature
        y += alpha * p
        residual -= alpha * Ap
        rr_next = float(residual @ residual)
        if rr_next <= goal:
            break
        p = residual + (rr_next / rr) * p
        rr = rr_next
    return y


# ---- memory ----------------------------------------------------------------------

DENSE_MATRICES = 4
"""n x n float64 arrays the dense path holds at its peak (H, B^T H B, eigh's work and
eigenvectors); the directions add another (n - 1) x n."""


def dense_bytes(n: int) -> int:
    """Bytes the dense analysis of a unit with n entries needs at its peak."""
    return (DENSE_MATRICES + 1) * 8 * n * n


def available_memory() -> int:
    """Bytes of memory available to this process without swapping (Linux
    ``MemAvailable``; the free physical pages elsewhere)."""
    try:
        with open("/proc/meminfo") as lines:
            for line in lines:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse
