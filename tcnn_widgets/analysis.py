"""`analyze`: optimal stimulus, Hessian, invariances and geodesics of units (METHOD 4-7)."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from ._sphere import evaluate, optimal_stimulus, retract, tangent_basis
from .naming import name_directions
from .results import Invariances, video_level
from .units import CallableUnit, Unit, checked_hessian


@dataclass(frozen=True)
class Settings:
    """Settings of one analysis (see :func:`analyze` for their meaning)."""

    radius: float = 1.0
    restarts: int = 8
    hessian: str | Callable = "fd"
    fd_step: float = 1e-5
    threshold: float = 0.7
    max_angle: float = np.pi / 2
    angles: int = 65
    max_iter: int = 1000
    degeneracy_tol: float = 1e-6

    def __post_init__(self) -> None:
        for name in ("radius", "fd_step", "threshold", "max_angle", "degeneracy_tol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a real number, got {value!r}")
        for name in ("restarts", "angles", "max_iter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an int, got {value!r}")
        if not np.isfinite(self.radius) or self.radius <= 0:
            raise ValueError(f"radius must be a positive number, got {self.radius!r}")
        if self.restarts < 1:
            raise ValueError(f"restarts must be an int >= 1, got {self.restarts!r}")
        if not (callable(self.hessian) or self.hessian in ("fd", "exact")):
            raise ValueError(f"hessian must be 'fd', 'exact' or a callable, got {self.hessian!r}")
        if not 0 < self.fd_step < 1:
            raise ValueError(
                f"fd_step must be in (0, 1) (relative to radius), got {self.fd_step!r}"
            )
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold!r}")
        if not 0 < self.max_angle <= np.pi:
            raise ValueError(f"max_angle must be in (0, pi], got {self.max_angle!r}")
        if self.angles < 3:
            raise ValueError(f"angles must be an int >= 3, got {self.angles!r}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be an int >= 1, got {self.max_iter!r}")
        if not 0 <= self.degeneracy_tol < 1:
            raise ValueError(f"degeneracy_tol must be in [0, 1), got {self.degeneracy_tol!r}")


def analyze(
    unit: Unit | Sequence[Unit] | Callable,
    grad: Callable | None = None,
    *,
    shape: tuple[int, ...] | None = None,
    vectorized: bool = False,
    radius: float = 1.0,
    restarts: int = 8,
    seed: int | None = None,
    hessian: str | Callable = "fd",
    fd_step: float = 1e-5,
    threshold: float = 0.7,
    max_angle: float = np.pi / 2,
    angles: int = 65,
    max_iter: int = 1000,
    degeneracy_tol: float = 1e-6,
    progress: bool = True,
) -> Invariances | list[Invariances]:
    """Find a unit's optimal stimulus and its invariances.

    Call as ``analyze(unit, ...)`` with a :class:`~tcnn_widgets.units.Unit` (for
    example ``net.unit(3, 0, 1)`` or a :class:`~tcnn_widgets.QuadraticUnit`), as
    ``analyze(units, ...)`` with a list of units (returns a list, with a progress
    bar), or as ``analyze(f, grad, shape=(h, w), ...)`` (or ``shape=(c, h, w)``)
    with plain callables.

    Parameters
    ----------
    unit : Unit, sequence of Unit, or callable
        What to analyze; a callable is the activation ``f(x) -> float``.
    grad : callable, optional
        The gradient ``grad(x)``, of x's shape, when ``unit`` is a callable.
    shape : (int, int) or (int, int, int), optional
        Stimulus shape (h, w) or (c, h, w) (channels first), when ``unit`` is a
        callable.
    vectorized : bool
        The callables accept stacks (N, *shape) and return (N,) and (N, *shape).
    radius : float
        Norm of the stimuli, ``||x|| = radius``.
    restarts : int
        Number of random starts of the search for the optimal stimulus.
    seed : int, optional
        Seed of the random starts; the result records the seed that reproduces it.
    hessian : {"fd", "exact"} or callable
        Central differences of the gradient (default), the unit's closed form, or a
        callable ``hessian(x) -> (n, n)``.
    fd_step : float
        Finite-difference step, relative to ``radius``.
    threshold : float
        The fraction c of the optimal activation that ends an invariance video
        (the video ends where g falls by ``(1 - c) |g*|``: at ``c g*`` when g* > 0).
    max_angle : float
        Geodesics are followed over ``[-max_angle, max_angle]``.
    angles : int
        Number of angles in the grid on which activations along geodesics are kept.
    max_iter : int
        Iteration limit of the search from each start.
    degeneracy_tol : float
        Sorted curvatures whose gap is below this (relative to the largest
        |curvature|) join one degenerate group; gaps chain, so a group may span
        more than the tolerance.
    progress : bool
        Show a progress bar when analyzing a list of units.

    Returns
    -------
    Invariances or list of Invariances
    """
    settings = Settings(
        radius=radius,
        restarts=restarts,
        hessian=hessian,
        fd_step=fd_step,
        threshold=threshold,
        max_angle=max_angle,
        angles=angles,
        max_iter=max_iter,
        degeneracy_tol=degeneracy_tol,
    )
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    # The matrices are small: threaded BLAS is slower on them, and much slower when
    # other work shares the cores.
    with threadpool_limits(limits=1, user_api="blas"):
        return _dispatch(unit, grad, shape, vectorized, settings, int(seed), progress)


def _dispatch(unit, grad, shape, vectorized, settings, seed, progress):
    """Route the call forms of :func:`analyze` to :func:`analyze_unit`."""
    if isinstance(unit, Unit) or isinstance(unit, Sequence):
        if grad is not None or shape is not None or vectorized:
            raise TypeError(
                "grad, shape and vectorized go with analyze(f, grad, shape=...) for plain "
                "callables; a Unit already knows its gradient and shape"
            )
    if isinstance(unit, Unit):
        return analyze_unit(unit, settings, seed)
    if isinstance(unit, Sequence) and not isinstance(unit, (str, bytes)):
        for i, item in enumerate(unit):
            if not isinstance(item, Unit):
                raise TypeError(f"units[{i}] is a {type(item).__name__}, not a Unit")
        seeds = unit_seeds(seed, len(unit))
        items = zip(unit, seeds, strict=True)
        return [
            analyze_unit(u, settings, s)
            for u, s in tqdm(items, total=len(unit), desc="units", disable=not progress)
        ]
    if callable(unit):
        if grad is None or shape is None:
            raise TypeError("analyze(f, grad, shape=(h, w)) needs both grad and shape")
        wrapped = CallableUnit(unit, grad, shape, vectorized=vectorized)
        return analyze_unit(wrapped, settings, seed)
    raise TypeError(
        f"analyze takes a Unit, a list of Units, or callables f and grad; got {type(unit).__name__}"
    )


def unit_seeds(seed: int, count: int) -> list[int]:
    """Independent per-unit seeds derived from one seed (each reproduces its unit alone)."""
    children = np.random.SeedSequence(seed).spawn(count)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children]


def analyze_unit(unit: Unit, settings: Settings, seed: int) -> Invariances:
    """Analyze one unit with explicit settings and seed (the work behind :func:`analyze`)."""
    if settings.hessian == "exact" and not unit.has_exact_hessian:
        raise ValueError(
            f"{type(unit).__name__} has no closed-form Hessian; use hessian='fd' or pass a callable"
        )
    rng = np.random.default_rng(seed)
    x, start_activations = optimal_stimulus(
        unit, settings.radius, settings.restarts, settings.max_iter, rng
    )
    x, H, asymmetry, method = polish(unit, x, settings)
    value, gradient = unit.values_and_grads(x[None])
    activation, gradient = float(value[0]), gradient[0].ravel()
    rho = settings.radius
    mu = float(x.ravel() @ gradient) / rho**2
    residual = float(np.linalg.norm(gradient - mu * x.ravel()))
    curvatures, directions = tangent_eigen(H, x, mu)
    groups = degenerate_groups(curvatures, settings.degeneracy_tol)
    angles = np.linspace(-settings.max_angle, settings.max_angle, settings.angles)
    along = geodesic_activations(unit, x, directions, rho, angles)
    level = video_level(activation, settings.threshold)
    ranges = video_ranges(unit, x, directions, rho, angles, along, level)
    labels, fractions = name_directions(x, directions)
    return Invariances(
        stimulus=x,
        activation=activation,
        mu=mu,
        radius=rho,
        curvatures=curvatures,
        directions=directions,
        groups=groups,
        video_ranges=ranges,
        threshold=settings.threshold,
        geodesic_angles=angles,
        geodesic_activations=along,
        hessian=H,
        residual=residual,
        start_activations=start_activations,
        hessian_asymmetry=asymmetry,
        hessian_method=method,
        seed=seed,
        is_maximum=bool(np.all(curvatures <= settings.degeneracy_tol * max_abs(curvatures))),
        name=getattr(unit, "name", "") or "",
        labels=labels,
        label_fractions=fractions,
        fd_step=settings.fd_step,
        degeneracy_tol=settings.degeneracy_tol,
    )


# ---- optimal stimulus (METHOD section 4) -------------------------------------------


def polish(
    unit: Unit, x: np.ndarray, settings: Settings, steps: int = 5
) -> tuple[np.ndarray, np.ndarray, float, str]:
    """Riemannian Newton steps on the sphere, then the Hessian at the final point.

    A Newton step solves ``(B^T H B - mu I) v = -B^T r`` in the tangent plane, with
    the Hessian of the starting point (x hardly moves, and a Hessian costs 2n
    gradients). It is taken only while that matrix is negative definite (near a
    maximum) and the activation does not fall.

    Parameters
    ----------
    unit : Unit
    x : ndarray (*shape)
        A point on the sphere near a maximum.
    settings : Settings
    steps : int
        At most this many Newton steps.

    Returns
    -------
    x : ndarray (*shape)
    H : ndarray (n, n), symmetrized Hessian at x
    asymmetry : float
    method : str
    """
    rho = settings.radius
    value, G = evaluate(unit, x.reshape(1, -1))
    H, asymmetry, method = hessian_at(unit, x, settings)
    moved = False
    for _ in range(steps):
        xf = x.ravel()
        mu = float(xf @ G[0]) / rho**2
        r = G[0] - mu * xf
        if np.linalg.norm(r) <= 1e-14 * max(np.linalg.norm(G[0]), 1e-300):
            break
        B = tangent_basis(xf)
        K = B.T @ H @ B - mu * np.eye(xf.size - 1)
        try:
            L = np.linalg.cholesky(-K)
        except np.linalg.LinAlgError:
            break  # not near a maximum: Newton would not ascend
        v = np.linalg.solve(L.T, np.linalg.solve(L, B.T @ r))
        trial = retract((xf + B @ v)[None], rho)
        trial_value, trial_G = evaluate(unit, trial)
        if trial_value[0] < value[0] - 1e-15 * abs(value[0]):
            break
        x, value, G, moved = trial[0].reshape(unit.shape), trial_value, trial_G, True
    if moved:
        H, asymmetry, method = hessian_at(unit, x, settings)
    return x, H, asymmetry, method


def hessian_at(unit: Unit, x: np.ndarray, settings: Settings) -> tuple[np.ndarray, float, str]:
    """Symmetrized Hessian at x, its asymmetry ``||H - H^T|| / ||H||``, and the method used."""
    if callable(settings.hessian):
        raw = checked_hessian(settings.hessian(x), x.shape, "the hessian callable")
        method = "callable"
    elif settings.hessian == "exact":  # analyze_unit checked that it exists
        raw, method = unit.hessian(x), "exact"
    else:
        raw, method = unit.fd_hessian(x, settings.fd_step * settings.radius), "fd"
    if not np.all(np.isfinite(raw)):
        raise ValueError(f"the {method} Hessian has NaN or infinite entries at the optimum")
    size = np.linalg.norm(raw)
    asymmetry = float(np.linalg.norm(raw - raw.T) / size) if size > 0 else 0.0
    return (raw + raw.T) / 2, asymmetry, method


# ---- invariances (METHOD section 6) ------------------------------------------------


def tangent_eigen(H: np.ndarray, x: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """Curvatures ``eig(B^T H B) - mu`` (descending) and their directions as images.

    Each direction's sign is fixed so that its largest-magnitude pixel is positive.
    """
    B = tangent_basis(x.ravel())
    eigenvalues, V = np.linalg.eigh(B.T @ H @ B)
    order = np.argsort(eigenvalues)[::-1]
    W = (B @ V[:, order]).T
    pivots = W[np.arange(len(W)), np.argmax(np.abs(W), axis=1)]
    W *= np.where(pivots < 0, -1.0, 1.0)[:, None]
    return eigenvalues[order] - mu, W.reshape(len(W), *x.shape)


def degenerate_groups(curvatures: np.ndarray, tolerance: float) -> np.ndarray:
    """Group ids of sorted curvatures: a new group starts where a gap exceeds the tolerance."""
    gaps = np.abs(np.diff(curvatures)) > tolerance * max_abs(curvatures)
    return np.concatenate([[0], np.cumsum(gaps)]).astype(np.int64)


# ---- geodesics (METHOD section 7) --------------------------------------------------


def geodesic_activations(
    unit: Unit,
    x: np.ndarray,
    directions: np.ndarray,
    rho: float,
    angles: np.ndarray,
    chunk_values: int = 1 << 22,
) -> np.ndarray:
    """The activation ``g(cos t x* + sin t rho w_i)`` for every direction and angle."""
    n_dir = len(directions)
    out = np.empty((n_dir, len(angles)))
    per_chunk = max(1, chunk_values // (len(angles) * x.size))
    for start in range(0, n_dir, per_chunk):
        block = directions[start : start + per_chunk]
        grid = np.broadcast_to(angles, (len(block), len(angles)))
        out[start : start + per_chunk] = unit.geodesic_values(x, block, rho, grid)
    return out


def video_ranges(
    unit: Unit,
    x: np.ndarray,
    directions: np.ndarray,
    rho: float,
    angles: np.ndarray,
    along: np.ndarray,
    level: float,
    tolerance: float = 1e-12,
    max_iter: int = 200,
) -> np.ndarray:
    """The first angles either side of 0 where the activation falls below ``level``.

    Brackets come from the activations ``along`` the angle grid; both ends of every
    direction are then narrowed together by the Illinois variant of regula falsi
    (which converges superlinearly and keeps a bracket) until the bracket is narrower
    than ``tolerance`` radians or the activation at the estimate equals ``level`` to
    1e-13 relative.
    Where the activation never falls below ``level`` on a side, the range ends at
    the grid's end on that side.
    """
    zero = int(np.argmin(np.abs(angles)))
    sides = (np.arange(zero, -1, -1), np.arange(zero, len(angles)))  # [a] side, [b] side
    shape = (len(directions), 2)
    inside, outside = np.empty(shape), np.empty(shape)  # activation >= level / < level
    f_in, f_out = np.zeros(shape), np.zeros(shape)  # activation - level there
    found = np.zeros(shape, dtype=bool)
    for column, idx in enumerate(sides):
        below = along[:, idx] < level
        first = np.argmax(below, axis=1)
        found[:, column] = np.any(below, axis=1) & (first > 0)
        before = np.maximum(first - 1, 0)
        outside[:, column] = np.where(found[:, column], angles[idx[first]], angles[idx[-1]])
        inside[:, column] = angles[idx[before]]
        f_out[:, column] = along[np.arange(len(along)), idx[first]] - level
        f_in[:, column] = along[np.arange(len(along)), idx[before]] - level
    last_moved = np.zeros(shape, dtype=np.int8)  # +1: outside end moved last, -1: inside
    estimate, residual = outside.copy(), np.full(shape, np.inf)
    for _ in range(max_iter):
        active = found & (np.abs(outside - inside) > tolerance)
        active &= residual > 1e-13 * abs(level)
        rows = np.flatnonzero(np.any(active, axis=1))
        if rows.size == 0:
            break
        a, b, fa, fb = inside[rows], outside[rows], f_in[rows], f_out[rows]
        slope = fb - fa  # zero on finished ends, whose trial is ignored below
        secant = b - fb * (b - a) / np.where(slope != 0, slope, 1.0)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        usable = (slope != 0) & (secant > lo) & (secant < hi)
        trial = np.where(usable, secant, 0.5 * (a + b))
        f = unit.geodesic_values(x, directions[rows], rho, trial) - level
        move = active[rows]
        low = move & (f < 0)
        high = move & (f >= 0)
        # Illinois: when the same end moves twice in a row, halve the other end's value
        f_in[rows] = np.where(low & (last_moved[rows] == 1), 0.5 * fa, np.where(high, f, fa))
        f_out[rows] = np.where(high & (last_moved[rows] == -1), 0.5 * fb, np.where(low, f, fb))
        inside[rows] = np.where(high, trial, a)
        outside[rows] = np.where(low, trial, b)
        last_moved[rows] = np.where(low, 1, np.where(high, -1, last_moved[rows]))
        estimate[rows] = np.where(move, trial, estimate[rows])
        residual[rows] = np.where(move, np.abs(f), residual[rows])
    return estimate


# ---- small helpers -----------------------------------------------------------------


def max_abs(values: np.ndarray) -> float:
    """Largest absolute value (1e-300 for an all-zero array)."""
    return max(float(np.max(np.abs(values))), 1e-300)
