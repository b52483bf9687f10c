"""`analyze`: optimal stimulus, Hessian, invariances and geodesics of units.

docs/method.md §4-7 (dense: the n x n Hessian, all n - 1 directions) and §10
(matrix-free: Hessian-vector products, the k most and k least invariant directions).
The optimum is polished by Newton steps: in the dense path with the Hessian it forms
anyway (:func:`dense_polish`, a Cholesky solve; the last Hessian is the one the
directions come from), in the matrix-free path with products (conjugate gradients), so
no path forms curvature information it does not use.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from threadpoolctl import ThreadpoolController

from . import _validate
from ._geodesics import crossing_brackets, falsi_accept, falsi_propose
from ._matrix_free import (
    BLOCK_WIDTH,
    Products,
    TangentBasis,
    available_memory,
    check_products_match_gradient,
    dense_bytes,
    newton_polish,
    tangent_ends,
)
from ._sphere import evaluate, optimal_stimulus, retract
from .batch import StoredResults, analyze_batch
from .naming import describe_directions
from .results import Invariances, video_level
from .units import CallableUnit, Unit, checked_hessian, checked_products

AUTO_DENSE_MAX = 400
"""``method="auto"`` analyses units of at most this many entries densely (when
``directions=k`` is given). Measured by ``benchmarks/bench_matrix_free.py auto`` on a
two-layer tanh net, k = 10: dense is 1.4x faster at n = 256, matrix-free 1.5x faster
at n = 576 and 1.8x at n = 1024; the crossing lies near n = 400 (20 x 20)."""


SMALL_DENSE_BYTES = 64 * 2**20
"""Dense analyses needing at most this much memory (n up to about 1,300) run without
reading the memory available (which takes longer than some analyses of that size)."""


@dataclass(frozen=True)
class Settings:
    """Settings of one analysis (see :func:`analyze` for their meaning)."""

    radius: float = 1.0
    restarts: int = 8
    hessian: str | Callable = "auto"
    fd_step: float = 1e-5
    threshold: float = 0.7
    max_angle: float = np.pi / 2
    angles: int = 65
    max_iter: int = 1000
    degeneracy_tol: float = 1e-6
    directions: int | None = None
    method: str = "auto"

    def __post_init__(self) -> None:
        if self.directions is not None:
            _validate.integer(self.directions, "directions", minimum=1)
        _validate.choice(self.method, "method", ("auto", "dense", "matrix-free"))
        # Bounds that keep answers meaningful: radius**2 must not overflow, x + h must
        # differ from x in float64, and the angle grid must hold the angle 0 itself.
        _validate.real(self.radius, "radius", above=0, maximum=1e100)
        _validate.integer(self.restarts, "restarts", minimum=1)
        if not (callable(self.hessian) or self.hessian in ("auto", "fd", "exact")):
            raise ValueError(
                f"hessian must be 'auto', 'fd', 'exact' or a callable, got {self.hessian!r}"
            )
        _validate.real(self.fd_step, "fd_step", minimum=1e-10, below=1)
        _validate.real(self.threshold, "threshold", above=0, below=1)
        _validate.real(self.max_angle, "max_angle", above=0, maximum=np.pi)
        _validate.integer(self.angles, "angles", minimum=3)
        if self.angles % 2 == 0:
            raise ValueError(
                f"angles must be odd, so that the grid holds the angle 0 itself; got "
                f"{self.angles}, use {self.angles + 1}"
            )
        _validate.integer(self.max_iter, "max_iter", minimum=1)
        _validate.real(self.degeneracy_tol, "degeneracy_tol", minimum=0, below=1)


def analyze(
    unit: Unit | Sequence[Unit] | Callable,
    grad: Callable | None = None,
    *,
    shape: tuple[int, ...] | None = None,
    vectorized: bool = False,
    radius: float = 1.0,
    restarts: int = 8,
    seed: int | None = None,
    hessian: str | Callable = "auto",
    fd_step: float = 1e-5,
    threshold: float = 0.7,
    max_angle: float = np.pi / 2,
    angles: int = 65,
    max_iter: int = 1000,
    degeneracy_tol: float = 1e-6,
    directions: int | None = None,
    method: str = "auto",
    progress: bool = True,
    workers: int | None = None,
    executor=None,
    out: str | os.PathLike | None = None,
    precision: str = "float64",
) -> Invariances | list[Invariances] | StoredResults:
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
    hessian : {"auto", "fd", "exact"} or callable
        Where second derivatives come from: central differences of the gradient
        ("fd"), the unit's closed form (its ``hessian`` or ``hvp``; a user ``hvp``
        is first checked against differences of the gradient), or a callable
        ``hessian(x) -> (n, n)``. "auto" (default): the unit's automatic
        differentiation where it has one (PyTorch units: exact products, right
        across ReLU kinks where differences are not), else "fd".
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
    directions : int, optional
        None (default): all n - 1 tangent directions (n the number of stimulus
        entries), from the dense Hessian. k: only the k most and the k least
        invariant directions, 2k in all, most invariant first. When 2k > n - 1,
        all n - 1 are kept instead, with a warning.
    method : {"auto", "dense", "matrix-free"}
        "dense" forms the n x n Hessian and diagonalizes it (docs/method.md §5-6);
        "matrix-free" uses only Hessian-vector products and block Lanczos for the two
        ends (docs/method.md §10; needs ``directions=k``; memory O(k n)). "auto":
        dense for ``directions=None`` or n <= ``AUTO_DENSE_MAX`` (400), else
        matrix-free. Both give the same answer wherever both run.
    progress : bool
        Show a progress bar when analyzing a list of units.
    workers : int, optional
        For a list: worker processes; 1 analyzes in this process. None analyzes the
        first unit here, and starts one process per core this process may run on
        (``os.sched_getaffinity``) only when the remaining units are worth a pool's
        start-up (see :func:`tcnn_widgets.batch.analyze_batch`); results are the same
        either way. Units sent to processes must be picklable (a lambda is refused
        at once, before any work).
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        For a list: run there instead of on our own processes, e.g. a Dask client
        or ``client.get_executor()`` (the units then go to each Dask worker once).
    out : path-like, optional
        For a list: a `.npz` file that finished units are written to as they
        finish; it survives a crash or Ctrl-C, and the same call again resumes it
        (skipping stored units; the units, seed and settings must match). The
        call then returns a :class:`~tcnn_widgets.batch.StoredResults`.
    precision : {"float64", "float32"}
        For a list: ``"float32"`` sends results back from the workers and stores
        them with the bulky display arrays in single precision (about half the
        bytes; see :meth:`Invariances.to_arrays`), serial runs alike.

    Returns
    -------
    Invariances, list of Invariances (input order), or StoredResults with ``out``
        A matrix-free result has ``hessian=None``, ``method="matrix-free"``,
        ``complete=False`` and records ``hvp_count`` and ``ends_tied``.

    Raises
    ------
    ValueError
        For bad arguments (each named), ``directions < 1``, or
        ``method="matrix-free"`` without ``directions``.
    MemoryError
        Before any work, when a dense analysis would not fit comfortably in the
        memory available (use ``directions=k``).
    UserWarning
        When ``directions=k`` asks for more than n - 1 directions.
    tcnn_widgets.batch.BatchError
        For a list, after all other units finished, when some units failed; it
        holds each failure's traceback and the finished results.

    Example
    -------
    >>> net = TiledCNN.random(seed=0)  # doctest: +SKIP
    >>> result = analyze(net.unit(3, 0, 1), seed=1)  # doctest: +SKIP
    >>> big = analyze(f, grad, shape=(3, 64, 64), directions=10, seed=1)  # doctest: +SKIP
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
        directions=directions,
        method=method,
    )
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    is_list = isinstance(unit, Sequence) and not isinstance(unit, (str, bytes))
    if (is_list or isinstance(unit, Unit)) and (
        grad is not None or shape is not None or vectorized
    ):
        raise TypeError(
            "grad, shape and vectorized go with analyze(f, grad, shape=...) for plain "
            "callables; a Unit already knows its gradient and shape"
        )
    if is_list:
        seed = None if seed is None else int(seed)
        return analyze_batch(
            unit,
            settings,
            seed,
            workers=workers,
            executor=executor,
            out=out,
            precision=precision,
            progress=progress,
        )
    if workers is not None or executor is not None or out is not None or precision != "float64":
        raise TypeError("workers, executor, out and precision go with a list of units")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    # The matrices are small: threaded BLAS is slower on them, and much slower when
    # other work shares the cores.
    with _threadpools().limit(limits=1, user_api="blas"):
        return _dispatch(unit, grad, shape, vectorized, settings, int(seed))


@functools.cache
def _threadpools() -> ThreadpoolController:
    """The process's thread pools, found once (finding them takes about 1 ms)."""
    return ThreadpoolController()


def _dispatch(unit, grad, shape, vectorized, settings, seed):
    """Route the single-unit call forms of :func:`analyze` to :func:`analyze_unit`."""
    if isinstance(unit, Unit):
        return analyze_unit(unit, settings, seed)
    if callable(unit):
        if grad is None or shape is None:
            raise TypeError("analyze(f, grad, shape=(h, w)) needs both grad and shape")
        wrapped = CallableUnit(unit, grad, shape, vectorized=vectorized)
        return analyze_unit(wrapped, settings, seed)
    raise TypeError(
        f"analyze takes a Unit, a list of Units, or callables f and grad; got {type(unit).__name__}"
    )


def analyze_unit(unit: Unit, settings: Settings, seed: int) -> Invariances:
    """Analyze one unit with explicit settings and seed (the work behind :func:`analyze`)."""
    n = int(np.prod(unit.shape))
    method, k = plan(settings, n)
    if settings.hessian == "auto":
        settings = dataclasses.replace(settings, hessian="exact" if unit.hvp_by_autodiff else "fd")
    if settings.hessian == "exact" and not (unit.has_exact_hessian or unit.has_exact_hvp):
        raise ValueError(
            f"{type(unit).__name__} has no closed-form Hessian or hvp; use hessian='fd' or "
            "pass a callable"
        )
    rng = np.random.default_rng(seed)
    x, start_activations, stop = optimal_stimulus(
        unit, settings.radius, settings.restarts, settings.max_iter, rng
    )
    rho = settings.radius
    step = settings.fd_step * rho
    products = product_source(unit, settings)
    if settings.hessian == "exact" and unit.has_exact_hvp and not unit.hvp_by_autodiff:
        check_products_match_gradient(unit, x.ravel(), products, step, rng)
    if method == "dense" and hessian_is_cheap(unit, settings, n):
        x, H, asymmetry, source, formed = dense_polish(unit, x, settings)
        products.count += n * formed if source == "fd" else 0
    else:
        x = newton_polish(unit, x, rho, products)
        if method == "dense":
            H, asymmetry, source = hessian_at(unit, x, settings)
            products.count += n if source in ("fd", "hvp") else 0
    value, gradient = unit.checked_values_and_grads(x[None])
    activation, gradient = float(value[0]), gradient[0].ravel()
    mu = float(x.ravel() @ gradient) / rho**2
    residual = float(np.linalg.norm(gradient - mu * x.ravel()))
    if stop and residual > 1e-6 * max(float(np.linalg.norm(gradient)), 1e-300):
        warnings.warn(
            f"the search for the optimal stimulus did not converge: {stop}; x* is the best "
            f"point found (tangent gradient {residual:.2g}, result.residual)",
            UserWarning,
            stacklevel=3,
        )
    if method == "dense":
        curvatures, directions = tangent_eigen(H, x, mu)
        beyond = np.full(2, np.nan)
        if k is not None:
            if len(curvatures) > 2 * k:  # the values next to the kept ends
                beyond = curvatures[[k, -k - 1]]
            keep = np.r_[0:k, len(curvatures) - k : len(curvatures)]
            curvatures, directions = curvatures[keep], directions[keep]
    else:
        H, source = None, hessian_source(unit, settings)
        # a batched unit gets its products in blocks, one call each (tangent_ends widens
        # them where a tie may fill an end; docs/method.md §10)
        width = min(k + 1, BLOCK_WIDTH) if unit.batched else 1
        curvatures, flat, beyond = tangent_ends(products, x.ravel(), mu, k, rng, width)
        directions = flat.reshape(len(flat), *unit.shape)
        asymmetry = product_asymmetry(products, x.ravel(), rng)
    groups = degenerate_groups(curvatures, settings.degeneracy_tol)
    angles = np.linspace(-settings.max_angle, settings.max_angle, settings.angles)
    along = geodesic_activations(unit, x, directions, rho, angles)
    level = video_level(activation, settings.threshold)
    ranges = video_ranges(unit, x, directions, rho, angles, along, level)
    names = describe_directions(x, directions)
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
        hessian_method="exact" if source == "hvp" else source,
        seed=seed,
        is_maximum=bool(np.all(curvatures <= settings.degeneracy_tol * max_abs(curvatures))),
        name=getattr(unit, "name", "") or "",
        labels=names.labels,
        label_fractions=names.fractions,
        label_centres=names.centres,
        fd_step=settings.fd_step,
        degeneracy_tol=settings.degeneracy_tol,
        method=method,
        hvp_count=products.count,
        complete=len(curvatures) == n - 1,
        ends_tied=ends_tied(curvatures, beyond, k, settings.degeneracy_tol),
    )


def plan(settings: Settings, n: int) -> tuple[str, int | None]:
    """The method to run and the directions to keep per end (None: all n - 1).

    Raises
    ------
    ValueError
        ``method="matrix-free"`` without ``directions``.
    MemoryError
        When the dense path would need more than half the available memory.
    """
    k = settings.directions
    if k is not None and 2 * k > n - 1:
        warnings.warn(
            f"directions={k} asks for 2k = {2 * k} directions, but a stimulus of {n} entries "
            f"has only n - 1 = {n - 1}: keeping all {n - 1} (dense, complete)",
            UserWarning,
            stacklevel=4,
        )
        k = None
    if k is None and settings.method == "matrix-free":
        raise ValueError(
            "method='matrix-free' finds only the ends of the spectrum: pass directions=k "
            "(the k most and k least invariant directions), or use method='dense'"
        )
    if k is None:
        method = "dense"
    elif settings.method == "auto":
        method = "dense" if n <= AUTO_DENSE_MAX else "matrix-free"
    else:
        method = settings.method
    need = dense_bytes(n)
    if method == "dense" and need > SMALL_DENSE_BYTES:
        free = available_memory()
        if need > free / 2:
            raise MemoryError(
                f"a dense analysis of a stimulus of {n} entries needs about "
                f"{need / 2**30:.1f} GiB (n x n matrices), more than half of the "
                f"{free / 2**30:.1f} GiB available; pass directions=k (e.g. directions=10) "
                "for the k most and k least invariant directions without forming the Hessian"
            )
    return method, k


def hessian_source(unit: Unit, settings: Settings) -> str:
    """``"fd"``, ``"callable"``, or for ``"exact"``: ``"exact"`` (closed-form Hessian)
    or ``"hvp"`` (only closed-form products)."""
    if callable(settings.hessian):
        return "callable"
    if settings.hessian == "fd":
        return "fd"
    return "exact" if unit.has_exact_hessian else "hvp"


def product_source(unit: Unit, settings: Settings) -> Products:
    """Hessian-vector products as the settings ask: differences of the gradient, the
    unit's ``hvp``, or the products of an exact or callable Hessian matrix."""
    if settings.hessian == "fd":
        step = settings.fd_step * settings.radius
        return Products(lambda x, V: unit.fd_hvp(x, V, step), unit.shape)
    if settings.hessian == "exact" and unit.has_exact_hvp:
        source = f"{type(unit).__name__}.hvp"
        return Products(lambda x, V: checked_products(unit.hvp(x, V), V.shape, source), unit.shape)
    cache: dict[bytes, np.ndarray] = {}

    def matrix_products(x: np.ndarray, V: np.ndarray) -> np.ndarray:
        key = x.tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = hessian_at(unit, x, settings)[0]
        return V.reshape(len(V), -1) @ cache[key]

    return Products(matrix_products, unit.shape)


def product_asymmetry(products: Products, x: np.ndarray, rng: np.random.Generator) -> float:
    """``|a.Hb - b.Ha| / (||Ha|| ||b||)`` for two random unit vectors: the asymmetry
    of the products, an estimate of ``||H - H^T|| / ||H||`` without forming H."""
    a, b = rng.standard_normal((2, x.size))
    a /= np.linalg.norm(a)
    b /= np.linalg.norm(b)
    Ha, Hb = products(x, np.stack([a, b]))
    size = np.linalg.norm(Ha) * np.linalg.norm(b)
    return float(abs(a @ Hb - b @ Ha) / size) if size > 0 else 0.0


def ends_tied(
    curvatures: np.ndarray, beyond: np.ndarray, k: int | None, tolerance: float
) -> np.ndarray:
    """[most, least]: all k kept at that end and the next value beyond them are one
    degenerate cluster (gaps within ``tolerance`` relative to the largest |curvature|),
    so the cluster may extend beyond what was kept. Always False for complete sets."""
    if k is None:
        return np.zeros(2, dtype=bool)
    scale = tolerance * max_abs(curvatures)
    most = np.r_[curvatures[:k], beyond[0]]
    least = np.r_[beyond[1], curvatures[-k:]]
    return np.array([bool(np.all(np.abs(np.diff(end)) <= scale)) for end in (most, least)])


def hessian_at(unit: Unit, x: np.ndarray, settings: Settings) -> tuple[np.ndarray, float, str]:
    """Symmetrized Hessian at x, its asymmetry ``||H - H^T|| / ||H||``, and its source.

    The source is ``"fd"``, ``"callable"``, ``"exact"`` (closed-form Hessian) or
    ``"hvp"`` (the unit's exact products applied to the n axes).
    """
    source = hessian_source(unit, settings)
    if source == "callable":
        raw = checked_hessian(settings.hessian(x), x.shape, "the hessian callable")
    elif source == "exact":  # analyze_unit checked that it exists
        raw = unit.hessian(x)
    elif source == "hvp":
        n = x.size
        raw = checked_products(unit.hvp(x, np.eye(n).reshape(n, *x.shape)), (n, *x.shape), "hvp")
        raw = raw.reshape(n, n).T
    else:
        raw = unit.fd_hessian(x, settings.fd_step * settings.radius)
    if not np.all(np.isfinite(raw)):
        raise ValueError(f"the {source} Hessian has NaN or infinite entries at the optimum")
    size = np.linalg.norm(raw)
    asymmetry = float(np.linalg.norm(raw - raw.T) / size) if size > 0 else 0.0
    if source != "fd" and asymmetry > 1e-6:  # only differences may be a little asymmetric
        raise ValueError(
            f"the {source} Hessian is not symmetric (||H - H^T|| / ||H|| = {asymmetry:.2g}); "
            "a Hessian is symmetric: check the code that computes it"
        )
    raw += raw.T
    raw *= 0.5
    return raw, asymmetry, source


def hessian_is_cheap(unit: Unit, settings: Settings, n: int) -> bool:
    """Whether the dense path polishes with Hessians (:func:`dense_polish`) rather than
    with products (``_matrix_free.newton_polish``, conjugate gradients).

    The dense polish usually forms one Hessian more than the dense path needs (n
    products) where conjugate gradients take some tens of products, so it pays only
    where a Hessian costs little next to that many separate product calls: for
    n <= ``AUTO_DENSE_MAX`` with a closed-form Hessian or the unit's own
    finite-difference kernel (on the shipped network's units, n = 100, the polish
    takes a third of the time it takes by conjugate gradients). Units that get their
    Hessian column by column from the gradient keep the products.
    """
    source = hessian_source(unit, settings)
    own_kernel = source == "fd" and type(unit).fd_hessian is not Unit.fd_hessian
    return n <= AUTO_DENSE_MAX and (source == "exact" or own_kernel)


def dense_polish(
    unit: Unit, x: np.ndarray, settings: Settings, steps: int = 5
) -> tuple[np.ndarray, np.ndarray, float, str, int]:
    """Riemannian Newton steps with the dense Hessian, which the dense path forms anyway.

    Each step solves ``(mu I - B^T H B) z = B^T r`` (B the tangent basis, r the tangent
    gradient) by a Cholesky factorization, which also tells whether x is near a
    maximum (the matrix is positive definite there; otherwise polishing stops), and
    retracts ``x + B z`` to the sphere. A step is kept only while the activation does
    not fall; polishing stops when the tangent gradient is below 1e-14 of the
    gradient. The Hessian is formed at most once per point, and a finite-difference
    Hessian is kept across a step shorter than ``fd_step**2 * radius`` (its change
    there is below its own truncation error), so a converged search usually forms
    two: one for the first step and one for the eigen-decomposition.

    Returns
    -------
    x : ndarray (*shape)
        The polished point.
    H, asymmetry, source
        The Hessian (symmetrized) at x, as :func:`hessian_at` returns them.
    formed : int
        How many Hessians were formed.
    """
    rho = settings.radius
    keep_within = settings.fd_step**2 * rho if hessian_source(unit, settings) == "fd" else 0.0
    xf = x.ravel()
    value, G = evaluate(unit, xf[None])
    H, formed = None, 0
    for _ in range(steps):
        mu = float(xf @ G[0]) / rho**2
        r = G[0] - mu * xf
        if np.linalg.norm(r) <= 1e-14 * max(np.linalg.norm(G[0]), 1e-300):
            break
        if H is None:
            H, asymmetry, source = hessian_at(unit, xf.reshape(unit.shape), settings)
            formed += 1
        basis = TangentBasis(xf)
        system = mu * np.eye(xf.size - 1) - basis.conjugate(H)
        try:
            factor = scipy.linalg.cho_factor(system, check_finite=False)
        except np.linalg.LinAlgError:
            break  # not near a maximum: Newton would not ascend
        z = scipy.linalg.cho_solve(factor, basis.restrict(r[None])[0], check_finite=False)
        trial = retract((xf + basis.expand(z[None])[0])[None], rho)
        trial_value, trial_G = evaluate(unit, trial)
        if not trial_value[0] >= value[0] - 1e-15 * abs(value[0]):
            break
        if np.linalg.norm(trial[0] - xf) > keep_within:
            H = None
        xf, value, G = trial[0], trial_value, trial_G
    if H is None:
        H, asymmetry, source = hessian_at(unit, xf.reshape(unit.shape), settings)
        formed += 1
    return xf.reshape(unit.shape), H, asymmetry, source, formed


# ---- invariances (METHOD section 6) ------------------------------------------------


def tangent_eigen(H: np.ndarray, x: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """Curvatures ``eig(B^T H B) - mu`` (descending) and their directions as images.

    The Householder basis B is applied implicitly (O(n^2), no n x n products).
    Each direction's sign is fixed so that its largest-magnitude pixel is positive.
    """
    basis = TangentBasis(x.ravel())
    eigenvalues, V = np.linalg.eigh(basis.conjugate(H))
    order = np.argsort(eigenvalues)[::-1]
    W = basis.expand(V[:, order].T)
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
    direction are then narrowed together by the Anderson-Bjorck variant of regula falsi
    (which converges superlinearly and keeps a bracket) until the bracket is narrower
    than ``tolerance`` radians or the activation at the estimate equals ``level`` to
    1e-13 relative.
    Where the activation never falls below ``level`` on a side, the range ends at
    the grid's end on that side.
    """
    zero = int(np.argmin(np.abs(angles)))
    shape = (len(directions), 2)
    inside, outside, f_in, f_out = (np.empty(shape) for _ in range(4))
    found, active = np.empty(shape, dtype=bool), np.empty(shape, dtype=bool)
    angles = np.ascontiguousarray(angles, dtype=np.float64)
    along = np.ascontiguousarray(along, dtype=np.float64)
    crossing_brackets(along, angles, zero, level, inside, outside, f_in, f_out, found)
    last_moved = np.zeros(shape, dtype=np.int8)  # +1: outside end moved last, -1: inside
    estimate, residual = outside.copy(), np.full(shape, np.inf)
    rows, trial = np.empty(len(directions), dtype=np.int64), np.empty(shape)
    for _ in range(max_iter):
        count = falsi_propose(
            inside, outside, f_in, f_out, found, residual, tolerance, 1e-13 * abs(level),
            active, rows, trial,
        )  # fmt: skip
        if count == 0:
            break
        values = unit.geodesic_values(x, directions[rows[:count]], rho, trial[:count])
        falsi_accept(
            rows[:count], trial[:count], np.asarray(values, dtype=np.float64), level, active,
            inside, outside, f_in, f_out, last_moved, estimate, residual,
        )  # fmt: skip
    return estimate


# ---- small helpers -----------------------------------------------------------------


def max_abs(values: np.ndarray) -> float:
    """Largest absolute value (1e-300 for an all-zero array)."""
    return max(float(np.max(np.abs(values))), 1e-300)
