"""Geometry of the sphere ``||x|| = rho`` and the search for a unit's optimal stimulus.

METHOD section 4. Points are flat float64 rows; ``evaluate`` adapts them to a unit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .units import Unit

TOLERANCE = 1e-6
"""A start stops once its tangent gradient is below this fraction of its gradient."""

FOLLOW = 1e-3
"""A start also stops once it is within this distance (relative to the radius) of a
start that has stopped by :data:`TOLERANCE` with a higher activation: it is climbing
to the maximum that start has found."""


def optimal_stimulus(
    unit: Unit, radius: float, restarts: int, max_iter: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Riemannian gradient ascent on the sphere from several random starts.

    All starts move together (one batched evaluation of the unit per step). Each
    start steps along its tangent gradient with a Barzilai-Borwein step, halved until
    the activation rises enough (Armijo), and is retracted to the sphere. A start
    stops once its tangent gradient is below 1e-6 of its gradient, or once it comes
    within 1e-3 rho of such a start with a higher activation (it is climbing to the
    maximum already found there, so the best start stays the same); the best start is
    then refined by Newton steps (``analysis.dense_polish`` or
    ``_matrix_free.newton_polish``).

    Parameters
    ----------
    unit : Unit
    radius : float
        Sphere radius rho.
    restarts : int
        Number of random starts.
    max_iter : int
        Iteration limit.
    rng : numpy.random.Generator
        Source of the starts.

    Returns
    -------
    best : ndarray, the unit's shape
        The best point found.
    activations : ndarray, shape (restarts,)
        The activation reached from each start.
    stop : str
        Empty when the best start converged, else why it stopped (the Newton polish
        that follows may still converge; the analysis warns only if it does not).
    """
    X = retract(rng.standard_normal((restarts, int(np.prod(unit.shape)))), radius)
    values, G = evaluate(unit, X)
    if np.all(norms(G) <= 1e-300):
        raise ValueError(
            f"the unit's gradient is zero at all {restarts} random starts: a constant "
            "unit has no optimal stimulus (check the unit or its gradient function)"
        )
    R = tangent(G, X, radius)
    step = 0.1 * radius / np.maximum(norms(R), 1e-300)
    trial = np.empty_like(X)
    active = np.empty(restarts, dtype=np.bool_)
    count = ascent_propose(X, values, G, R, step, radius, TOLERANCE, trial, active)
    for iteration in range(max_iter):  # noqa: B007 - reported below
        if count == 0:
            break
        trial_values, trial_G = evaluate(unit, trial, check_finite=False)
        count = ascent_step(
            X, values, G, R, step, trial, trial_values, trial_G, active, radius, TOLERANCE
        )
        if count < 0:  # a NaN or infinite output: the full checks raise the clear error
            stack = trial.reshape(len(trial), *unit.shape)
            unit.check_outputs(stack, trial_values, trial_G.reshape(stack.shape))
    best = int(np.argmax(values))
    ratio = norms(R[best : best + 1])[0] / max(norms(G[best : best + 1])[0], 1e-300)
    if ratio <= TOLERANCE:
        stop = ""
    elif iteration + 1 == max_iter and step[best] > 1e-12 * radius:
        stop = f"max_iter ({max_iter}) was reached"
    else:  # a kink: the step collapsed where the gradient jumps (ReLU, max-pool)
        stop = (
            "no step raised the activation any more: the optimum sits on a kink (ReLU or "
            "max-pool), where the gradient jumps, or the unit's rounding (float32) hides the rest"
        )
    return X[best].reshape(unit.shape), values.copy(), stop


@njit(cache=True)
def ascent_propose(X, values, G, R, step, rho, tolerance, trial, active):
    """Fill ``trial`` with the retracted step ``X + step R`` of each active start.

    A start is active while ``||R|| > tolerance ||G||`` and its step has not
    collapsed to the floor ``1e-12 rho`` (at a kink, where the gradient jumps, every
    larger step is refused), unless it follows a converged start (:data:`FOLLOW`);
    inactive rows of ``trial`` are copies of ``X``. Returns the number of active starts.
    """
    converged = np.empty(X.shape[0], dtype=np.bool_)
    for i in range(X.shape[0]):
        rr, gg = 0.0, 0.0
        for j in range(X.shape[1]):
            rr += R[i, j] ** 2
            gg += G[i, j] ** 2
        converged[i] = not np.sqrt(rr) > tolerance * max(np.sqrt(gg), 1e-300)
        active[i] = not converged[i] and step[i] > 1e-12 * rho
    count = 0
    for i in range(X.shape[0]):
        if active[i] and follows(X, values, converged, i, FOLLOW * rho):
            active[i] = False
        count += active[i]
        t = step[i] if active[i] else 0.0
        nn = 0.0
        for j in range(X.shape[1]):
            trial[i, j] = X[i, j] + t * R[i, j]
            nn += trial[i, j] ** 2
        scale = rho / np.sqrt(nn)
        for j in range(X.shape[1]):
            trial[i, j] *= scale
    return count


@njit(cache=True)
def follows(X, values, converged, i, distance):
    """True when start i lies within ``distance`` of a converged start with a higher
    activation."""
    for k in range(X.shape[0]):
        if converged[k] and values[k] > values[i]:
            dd = 0.0
            for j in range(X.shape[1]):
                dd += (X[i, j] - X[k, j]) ** 2
            if dd <= distance**2:
                return True
    return False


@njit(cache=True)
def ascent_accept(X, values, G, R, step, trial, trial_values, trial_G, active, rho):
    """Accept or reject each active start's trial point, and choose its next step.

    Accept when the activation rose by at least ``1e-4 step ||R||^2`` (Armijo); the
    next step is then the Barzilai-Borwein ``s.s / -(s.y)`` (s the move, y the change
    of tangent gradient), or twice the step where the curvature is not negative.
    On rejection the step is halved. Updates X, values, G, R and step in place.
    """
    n = X.shape[1]
    trial_R = np.empty(n)
    for i in range(X.shape[0]):
        if not active[i]:
            continue
        xg, rr = 0.0, 0.0
        for j in range(n):
            xg += trial[i, j] * trial_G[i, j]
            rr += R[i, j] ** 2
        if trial_values[i] >= values[i] + 1e-4 * step[i] * rr:
            sy, ss = 0.0, 0.0
            for j in range(n):
                trial_R[j] = trial_G[i, j] - xg / rho**2 * trial[i, j]
                s = trial[i, j] - X[i, j]
                sy += s * (trial_R[j] - R[i, j])
                ss += s * s
            new_step = ss / -sy if sy < 0 else 2.0 * step[i]
            for j in range(n):
                X[i, j], G[i, j], R[i, j] = trial[i, j], trial_G[i, j], trial_R[j]
            values[i] = trial_values[i]
        else:
            new_step = 0.5 * step[i]
        step[i] = min(max(new_step, 1e-12 * rho), 1e6 * rho)


@njit(cache=True)
def ascent_step(X, values, G, R, step, trial, trial_values, trial_G, active, rho, tolerance):
    """:func:`ascent_accept` then :func:`ascent_propose` (one call from Python per
    iteration); returns the number of starts still active, or -1, changing nothing, when
    a trial output is NaN or infinite (:func:`all_finite`)."""
    if not all_finite(trial_values, trial_G):
        return -1
    ascent_accept(X, values, G, R, step, trial, trial_values, trial_G, active, rho)
    return ascent_propose(X, values, G, R, step, rho, tolerance, trial, active)


def evaluate(unit: Unit, X: np.ndarray, check_finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Activations (N,) and flat gradients (N, n) at flat points X (N, n).

    The outputs are checked (:meth:`Unit.check_outputs`); with ``check_finite=False``
    float64 arrays of the right shapes are passed on without the scan for NaN and
    infinite values, which the caller then does in its own loop (:func:`ascent_step`)
    and, where it fails, runs the full checks for their clear error.
    """
    stack = X.reshape(len(X), *unit.shape)
    values, grads = unit.values_and_grads(stack)
    if check_finite or not (_float64(values, (len(X),)) and _float64(grads, stack.shape)):
        values, grads = unit.check_outputs(stack, values, grads)
    return values, grads.reshape(len(X), -1)


def _float64(output, shape: tuple[int, ...]) -> bool:
    return type(output) is np.ndarray and output.dtype == np.float64 and output.shape == shape


@njit(cache=True)
def all_finite(values, G):
    """True when every activation (N,) and gradient entry (N, n) is finite."""
    for i in range(values.shape[0]):
        if not np.isfinite(values[i]):
            return False
        for j in range(G.shape[1]):
            if not np.isfinite(G[i, j]):
                return False
    return True


def norms(A: np.ndarray) -> np.ndarray:
    """Euclidean norm of each row."""
    return np.sqrt(np.einsum("ij,ij->i", A, A))


def tangent(G: np.ndarray, X: np.ndarray, rho: float) -> np.ndarray:
    """Tangent part ``G - (x . G / rho^2) x`` of each row's gradient."""
    return G - (np.einsum("ij,ij->i", X, G) / rho**2)[:, None] * X


def retract(X: np.ndarray, rho: float) -> np.ndarray:
    """Rows of X scaled back onto the sphere of radius rho."""
    return X * (rho / norms(X))[:, None]
