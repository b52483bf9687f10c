"""Topographic ICA pretraining of a tiled CNN (METHOD section 3).

:func:`train_tica` minimizes the TICA objective (the summed pooling outputs over the
training images, divided here by the number of images) over filters ``V`` that are
orthonormal per tile position. The network it returns acts on pixels: its filters are
``W = V Z`` with ``Z`` the patch whitening of :func:`tcnn_widgets.training.whitening.patch_whitening`
(``Z = I`` with ``whiten=False``).

Two optimizers, both keeping ``V`` orthonormal to 1e-10 after every step through
:func:`tcnn_widgets.network.orthonormalize` (symmetric orthogonalization):

- ``"projected"``: the paper's projected gradient descent. Step ``V - alpha grad``,
  orthonormalize, accept if the objective went down, else halve ``alpha``
  (after an accepted step ``alpha`` grows by 1.5 so that it can recover).
- ``"lbfgs"``: L-BFGS on the manifold of such filters: the gradient is projected on
  the tangent space, the L-BFGS direction is built from the last 10 steps and
  gradient changes (projected to the current tangent space), the step is
  orthonormalized, and halved until the Armijo condition holds.

``scripts/training_evidence.py`` compares the two; see ``docs/training.md``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import _validate
from .._interrupt import deferred_interrupt
from .._storage import load_npz, save_npz_atomic
from ..network import TiledCNN, orthonormalize
from ._objective import tica_objective
from .whitening import patch_whitening

METHODS = ("projected", "lbfgs")
_COMPONENTS = 32  # whitened dimensions kept (at most half of field**2)
_MEMORY = 10  # L-BFGS pairs kept
_ARMIJO = 1e-4
_MAX_HALVINGS = 20  # per step; more means no progress is possible
_WINDOW = 10  # accepted steps over which `tolerance` is measured


@dataclasses.dataclass
class TrainingResult:
    """Outcome of :func:`train_tica`.

    Attributes
    ----------
    network : TiledCNN
        The trained network, acting on preprocessed pixels (filters ``V Z``).
    filters : ndarray, shape (M, k, k, r, r)
        ``V``, orthonormal per tile position (the optimization variable).
    whitening : ndarray, shape (r^2, r^2)
        ``Z``; the network's filter ``W[m, a, b]`` is ``V[m, a, b]`` (flattened) ``@ Z``.
    objective : ndarray
        Mean objective per image: entry 0 at the start, then after each accepted step.
    times : ndarray
        Seconds since the start (including earlier runs when resumed) of each entry.
    steps : int
        Accepted steps in total (including earlier runs when resumed).
    evaluations : int
        Objective-and-gradient evaluations in this run.
    seconds : float
        Wall time in total (including earlier runs when resumed).
    orthogonality_error : float
        Largest ``max |V V^T - I|`` over tile positions seen after any step.
    method : str
        ``"projected"`` or ``"lbfgs"``.
    seed : int
        Seed of the initial filters and of the whitening's patch sample.
    interrupted : bool
        True if Ctrl-C stopped the run (the weights are the last accepted ones).
    converged : bool
        True if the run stopped because it converged: the objective fell by less than
        ``tolerance`` (relative) over the last 10 steps, or no step size decreased it.
    """

    network: TiledCNN
    filters: np.ndarray
    whitening: np.ndarray
    objective: np.ndarray
    times: np.ndarray
    steps: int
    evaluations: int
    seconds: float
    orthogonality_error: float
    method: str
    seed: int
    interrupted: bool
    converged: bool


def train_tica(
    images: np.ndarray,
    *,
    maps: int = 16,
    tile: int = 2,
    field: int = 8,
    pool: int = 3,
    eps: float = 1e-4,
    steps: int = 200,
    method: str = "lbfgs",
    whiten: bool = True,
    seed: int = 0,
    tolerance: float = 1e-6,
    time_limit: float | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 10,
    resume: str | os.PathLike | None = None,
    progress: bool = True,
) -> TrainingResult:
    """Train a tiled CNN by topographic ICA.

    Parameters
    ----------
    images : ndarray, shape (N, S, S)
        Preprocessed training images (:func:`tcnn_widgets.training.data.preprocess`).
    maps, tile, field, pool : int
        Architecture: M maps, tile size k, field r, pooling P. Needs ``maps <= field**2``.
    eps : float
        Smoothing constant of the pooling square root.
    steps : int
        Accepted steps to take in total (a resumed run counts its earlier steps).
    method : {"lbfgs", "projected"}
        Optimizer (see the module docstring).
    whiten : bool
        Learn on whitened patches (``Z`` from :func:`~tcnn_widgets.training.whitening.patch_whitening`,
        keeping ``min(32, field**2 // 2)`` components); False uses ``Z = I``, i.e. TICA
        directly on pixels.
    seed : int
        Seed of the initial filters and of the whitening's patch sample.
    tolerance : float
        Stop when the objective fell by less than this fraction over the last 10
        accepted steps (0 disables).
    time_limit : float, optional
        Stop after this many seconds of this run.
    checkpoint : path-like, optional
        `.npz` file written (atomically) every ``checkpoint_every`` accepted steps, at
        the end and on Ctrl-C.
    checkpoint_every : int
        Steps between checkpoints.
    resume : path-like, optional
        Continue from a checkpoint written by an earlier run with the same architecture
        (the checkpoint's filters and whitening are used; ``seed`` and ``whiten`` are
        ignored). The L-BFGS memory restarts empty.
    progress : bool
        Show a tqdm progress bar with the objective.

    Returns
    -------
    TrainingResult
    """
    X = _check_images(images)
    _validate.choice(method, "method", METHODS)
    steps = _validate.integer(steps, "steps", minimum=0)
    checkpoint_every = _validate.integer(checkpoint_every, "checkpoint_every", minimum=1)
    tolerance = _validate.real(tolerance, "tolerance", minimum=0)
    _validate.real(eps, "eps", above=0)
    _validate.integer(seed, "seed", minimum=0)
    _validate.flag(whiten, "whiten")
    if time_limit is not None:
        time_limit = _validate.real(time_limit, "time_limit", above=0)
    if checkpoint is not None:  # checked now, not after the work at the first write
        checkpoint = _validate.output_path(checkpoint, "checkpoint", suffixes=(".npz",))
    if resume is not None:
        resume = _validate.input_path(resume, "resume")
    template = TiledCNN.random(maps, tile, field, pool, seed=seed, image_size=X.shape[1], eps=eps)
    components = min(_COMPONENTS, field * field // 2)
    if whiten and resume is None and maps > components:
        raise ValueError(
            f"{maps} maps cannot be orthonormal in the {components} whitened dimensions kept "
            f"for {field}x{field} fields; use at most {components} maps or whiten=False"
        )
    state = _State(seed=seed, method=method)
    if resume is not None:
        state = _load_checkpoint(resume, template, method)
    else:
        state.whitening = (
            patch_whitening(X, field, components=components, seed=seed)
            if whiten
            else np.eye(field**2)
        )
    objective = _Objective(X, state.whitening, template)
    if resume is None:
        state.filters = objective.retract(template.weights)
    return _optimize(
        objective,
        state,
        template,
        steps,
        tolerance,
        time_limit,
        checkpoint,
        checkpoint_every,
        progress,
    )


# ---- the objective in terms of V -------------------------------------------------------------


class _Objective:
    """Mean TICA objective per image as a function of ``V``, with its gradient."""

    def __init__(self, X: np.ndarray, whitening: np.ndarray, template: TiledCNN) -> None:
        self.X = X
        self.Z = whitening
        self.template = template
        self.evaluations = 0
        # projector on the span of Z: filters must stay there, or they could escape
        # into directions Z drops, where they cost nothing
        values, vectors = np.linalg.eigh(whitening)
        kept = vectors[:, np.abs(values) > 1e-9 * np.abs(values).max()]
        self.span = kept @ kept.T

    def retract(self, V: np.ndarray) -> np.ndarray:
        """Project the rows of ``V`` on the span of Z, then orthonormalize them."""
        M, k, _, r, _ = V.shape
        return orthonormalize((V.reshape(M, k, k, r * r) @ self.span).reshape(V.shape))

    def pixel_filters(self, V: np.ndarray) -> np.ndarray:
        M, k, _, r, _ = V.shape
        return (V.reshape(M, k, k, r * r) @ self.Z).reshape(V.shape)

    def __call__(self, V: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = tica_objective(
            self.X, self.pixel_filters(V), pool=self.template.pool, eps=self.template.eps
        )
        self.evaluations += 1
        M, k, _, r, _ = V.shape
        grad_v = (grad.reshape(M, k, k, r * r) @ self.Z.T).reshape(V.shape)
        n = self.X.shape[0]
        return total / n, grad_v / n


def _tangent(V: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Project ``G`` on the tangent space at ``V`` (orthonormal rows per tile position)."""
    M, k = V.shape[0], V.shape[1]
    A = V.reshape(M, k * k, -1).transpose(1, 0, 2)  # phases, M, r^2
    B = G.reshape(M, k * k, -1).transpose(1, 0, 2)
    S = B @ A.transpose(0, 2, 1)
    T = B - 0.5 * (S + S.transpose(0, 2, 1)) @ A
    return T.transpose(1, 0, 2).reshape(G.shape)


def orthogonality_error(V: np.ndarray) -> float:
    """``max |V V^T - I|`` over tile positions (V of shape (M, k, k, r, r))."""
    M, k = V.shape[0], V.shape[1]
    A = V.reshape(M, k * k, -1).transpose(1, 0, 2)
    return float(np.abs(A @ A.transpose(0, 2, 1) - np.eye(M)).max())


# ---- optimizer -----------------------------------------------------------------------------------


@dataclasses.dataclass
class _State:
    seed: int
    method: str
    filters: np.ndarray | None = None
    whitening: np.ndarray | None = None
    objective: list = dataclasses.field(default_factory=list)
    times: list = dataclasses.field(default_factory=list)
    steps: int = 0
    step_size: float = 0.0
    seconds_before: float = 0.0
    orthogonality_error: float = 0.0


def _optimize(
    F, state, template, steps, tolerance, time_limit, checkpoint, checkpoint_every, progress
):
    start = time.perf_counter()

    def elapsed() -> float:
        return state.seconds_before + time.perf_counter() - start

    V = state.filters
    f, g = F(V)
    if not state.objective:
        state.objective.append(f)
        state.times.append(elapsed())
    if state.step_size <= 0:
        state.step_size = 0.1 * np.linalg.norm(V) / max(np.linalg.norm(_tangent(V, g)), 1e-300)
    memory: list[tuple[np.ndarray, np.ndarray]] = []
    interrupted = converged = False
    bar = tqdm(
        total=steps,
        initial=min(state.steps, steps),
        disable=not progress,
        desc=f"TICA ({state.method})",
        unit="step",
    )
    bar.set_postfix(objective=f"{f:.6g}")
    # Ctrl-C is honoured between steps, never inside a compiled kernel (see _interrupt)
    with deferred_interrupt() as interrupt_requested:
        try:
            while state.steps < steps:
                if interrupt_requested():
                    interrupted = True
                    break
                if time_limit is not None and time.perf_counter() - start > time_limit:
                    break
                step = _projected_step if state.method == "projected" else _lbfgs_step
                accepted = step(F, V, f, g, state, memory)
                if accepted is None:
                    converged = True
                    break
                V, f, g = accepted
                state.filters = V
                state.orthogonality_error = max(state.orthogonality_error, orthogonality_error(V))
                state.steps += 1
                state.objective.append(f)
                state.times.append(elapsed())
                bar.update(1)
                bar.set_postfix(objective=f"{f:.6g}")
                if checkpoint is not None and state.steps % checkpoint_every == 0:
                    _save_checkpoint(checkpoint, state, template, elapsed())
                history = state.objective
                if tolerance > 0 and len(history) > _WINDOW:
                    if history[-1 - _WINDOW] - f < tolerance * abs(history[-1 - _WINDOW]):
                        converged = True
                        break
        except KeyboardInterrupt:  # a second Ctrl-C: stop now, keep the last whole step
            interrupted = True
        except SystemError as error:  # ... the same, raised inside a Numba call
            if not isinstance(error.__context__, KeyboardInterrupt):
                raise
            interrupted = True
        finally:
            bar.close()
        interrupted = interrupted or interrupt_requested()
        if checkpoint is not None:
            _save_checkpoint(checkpoint, state, template, elapsed())
    network = TiledCNN(
        F.pixel_filters(state.filters),
        pool=template.pool,
        image_size=template.image_size,
        eps=template.eps,
    )
    return TrainingResult(
        network=network,
        filters=state.filters,
        whitening=state.whitening,
        objective=np.asarray(state.objective),
        times=np.asarray(state.times),
        steps=state.steps,
        evaluations=F.evaluations,
        seconds=elapsed(),
        orthogonality_error=state.orthogonality_error,
        method=state.method,
        seed=state.seed,
        interrupted=interrupted,
        converged=converged,
    )


def _projected_step(F, V, f, g, state, memory):
    """The paper's step: orthonormalize ``V - alpha g``; halve alpha until f decreases."""
    for _ in range(_MAX_HALVINGS):
        trial = F.retract(V - state.step_size * g)
        f_new, g_new = F(trial)
        if f_new < f:
            state.step_size *= 1.5
            return trial, f_new, g_new
        state.step_size /= 2
    return None


def _lbfgs_step(F, V, f, g, state, memory):
    """One Riemannian L-BFGS step with Armijo backtracking by halving."""
    grad = _tangent(V, g)
    direction = _lbfgs_direction(grad, [(_tangent(V, s), _tangent(V, y)) for s, y in memory])
    slope = float(np.sum(direction * grad))
    if slope >= 0:  # not a descent direction: restart from the gradient
        memory.clear()
        direction, slope = -grad, -float(np.sum(grad * grad))
    alpha = 1.0 if memory else state.step_size
    for _ in range(_MAX_HALVINGS):
        trial = F.retract(V + alpha * direction)
        f_new, g_new = F(trial)
        if f_new <= f + _ARMIJO * alpha * slope:
            s = _tangent(trial, trial - V)
            y = _tangent(trial, g_new) - _tangent(trial, grad)
            if np.sum(s * y) > 1e-12 * np.linalg.norm(s) * np.linalg.norm(y):
                memory.append((s, y))
                del memory[:-_MEMORY]
            if not memory:
                state.step_size = alpha * 1.5
            return trial, f_new, g_new
        alpha /= 2
    return None


def _lbfgs_direction(grad: np.ndarray, pairs: list) -> np.ndarray:
    """``-H grad`` by the L-BFGS two-loop recursion over (s, y) pairs (oldest first)."""
    q = grad.copy()
    alphas = []
    for s, y in reversed(pairs):
        rho = 1.0 / np.sum(s * y)
        a = rho * np.sum(s * q)
        q -= a * y
        alphas.append((rho, a))
    if pairs:
        s, y = pairs[-1]
        q *= np.sum(s * y) / np.sum(y * y)
    for (s, y), (rho, a) in zip(pairs, reversed(alphas), strict=True):
        b = rho * np.sum(y * q)
        q += (a - b) * s
    return -q


# ---- checks and checkpoints --------------------------------------------------------------------


def _check_images(images: np.ndarray) -> np.ndarray:
    X = np.asarray(images)
    if X.dtype.kind not in "fiu":
        raise TypeError(f"images must be a real-valued array, got dtype {X.dtype}")
    if X.ndim != 3 or X.shape[1] != X.shape[2] or X.shape[0] < 1:
        raise ValueError(f"images must have shape (N, S, S) with N >= 1, got {X.shape}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not np.all(np.isfinite(X)):
        bad = int(np.count_nonzero(~np.isfinite(X).all(axis=(1, 2))))
        raise ValueError(
            f"images contain NaN or infinite values ({bad} of {X.shape[0]} images); "
            "remove or repair them before training"
        )
    return X


def _architecture(network: TiledCNN) -> np.ndarray:
    return np.array([network.maps, network.tile, network.field, network.pool, network.image_size])


def _save_checkpoint(path, state: _State, template: TiledCNN, seconds: float) -> None:
    save_npz_atomic(
        Path(path),
        {
            "filters": state.filters,
            "whitening": state.whitening,
            "objective": np.asarray(state.objective, dtype=np.float64),
            "times": np.asarray(state.times, dtype=np.float64),
            "steps": np.asarray(state.steps),
            "step_size": np.asarray(state.step_size),
            "seconds": np.asarray(seconds),
            "orthogonality_error": np.asarray(state.orthogonality_error),
            "architecture": _architecture(template),
            "eps": np.asarray(template.eps),
            "seed": np.asarray(state.seed),
        },
    )


def _load_checkpoint(path, template: TiledCNN, method: str) -> _State:
    kinds = {
        "filters": "f",
        "whitening": "f",
        "objective": "f",
        "times": "f",
        "steps": "i",
        "step_size": "f",
        "seconds": "f",
        "orthogonality_error": "f",
        "architecture": "i",
        "eps": "f",
        "seed": "i",
    }
    arrays = load_npz(path, kinds)
    names = "maps, tile, field, pool, image_size"
    found, wanted = arrays["architecture"].tolist(), _architecture(template).tolist()
    if found != wanted or float(arrays["eps"]) != template.eps:
        raise ValueError(
            f"checkpoint {str(path)!r} is for another network ({names} = {found}, "
            f"eps = {float(arrays['eps'])}); this run asks for {wanted}, eps = {template.eps}. "
            "Resume with the same architecture or start without resume="
        )
    if arrays["filters"].shape != template.weights.shape:
        raise ValueError(f"checkpoint {str(path)!r} has filters of the wrong shape")
    return _State(
        seed=int(arrays["seed"]),
        method=method,
        filters=arrays["filters"],
        whitening=arrays["whitening"],
        objective=list(arrays["objective"]),
        times=list(arrays["times"]),
        steps=int(arrays["steps"]),
        step_size=float(arrays["step_size"]),
        seconds_before=float(arrays["seconds"]),
        orthogonality_error=float(arrays["orthogonality_error"]),
    )
