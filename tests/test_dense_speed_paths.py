"""The compiled and shortcut paths of the dense analysis against plain references.

video_ranges' Numba bookkeeping against the NumPy regula falsi it replaced, bit for bit;
the dense Newton polish against the one by conjugate gradients on products; the cheap
output checks against the errors the full checks give; the search's rule that stops
starts following a converged one.
"""

import numpy as np
import pytest

from tcnn_widgets import PoolingUnit, QuadraticUnit, TiledCNN, Unit, analyze
from tcnn_widgets._matrix_free import newton_polish
from tcnn_widgets._sphere import (
    FOLLOW,
    ascent_propose,
    evaluate,
    optimal_stimulus,
    retract,
    tangent,
)
from tcnn_widgets.analysis import Settings, dense_polish, hessian_at, product_source, video_ranges
from tcnn_widgets.results import video_level


def numpy_video_ranges(unit, x, directions, rho, angles, along, level, tolerance=1e-12):
    """The Anderson-Bjorck regula falsi of video_ranges written with NumPy (reference)."""
    zero = int(np.argmin(np.abs(angles)))
    sides = (np.arange(zero, -1, -1), np.arange(zero, len(angles)))
    shape = (len(directions), 2)
    inside, outside = np.empty(shape), np.empty(shape)
    f_in, f_out = np.zeros(shape), np.zeros(shape)
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
    last_moved = np.zeros(shape, dtype=np.int8)
    estimate, residual = outside.copy(), np.full(shape, np.inf)
    for _ in range(200):
        active = found & (np.abs(outside - inside) > tolerance)
        active &= residual > 1e-13 * abs(level)
        rows = np.flatnonzero(np.any(active, axis=1))
        if rows.size == 0:
            break
        a, b, fa, fb = inside[rows], outside[rows], f_in[rows], f_out[rows]
        slope = fb - fa
        secant = b - fb * (b - a) / np.where(slope != 0, slope, 1.0)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        usable = (slope != 0) & (secant > lo) & (secant < hi)
        trial = np.where(usable, secant, 0.5 * (a + b))
        f = unit.geodesic_values(x, directions[rows], rho, trial) - level
        move = active[rows]
        low, high = move & (f < 0), move & (f >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):  # rows where it is not used
            keep_in, keep_out = 1 - f / fb, 1 - f / fa  # Anderson-Bjorck, else Illinois
        keep_in, keep_out = (
            np.where(keep_in > 0, keep_in, 0.5),
            np.where(keep_out > 0, keep_out, 0.5),
        )
        f_in[rows] = np.where(low & (last_moved[rows] == 1), keep_in * fa, np.where(high, f, fa))
        f_out[rows] = np.where(high & (last_moved[rows] == -1), keep_out * fb, np.where(low, f, fb))
        inside[rows] = np.where(high, trial, a)
        outside[rows] = np.where(low, trial, b)
        last_moved[rows] = np.where(low, 1, np.where(high, -1, last_moved[rows]))
        estimate[rows] = np.where(move, trial, estimate[rows])
        residual[rows] = np.where(move, np.abs(f), residual[rows])
    return estimate


@pytest.mark.parametrize("threshold", [0.3, 0.7, 0.95, 0.9999])
@pytest.mark.parametrize("max_angle", [np.pi / 2, 0.4])
def test_video_ranges_kernels_equal_the_numpy_reference(threshold, max_angle):
    """Same brackets, same steps, same floats; also where a side never crosses."""
    units = TiledCNN.random(seed=4).unit_types()
    for unit in units[:3]:
        result = analyze(unit, seed=2, threshold=threshold, max_angle=max_angle, angles=33)
        args = (unit, result.stimulus, result.directions, result.radius)
        angles, along = result.geodesic_angles, result.geodesic_activations
        level = video_level(result.activation, threshold)
        expected = numpy_video_ranges(*args, angles, along, level)
        np.testing.assert_array_equal(video_ranges(*args, angles, along, level), expected)
        np.testing.assert_array_equal(result.video_ranges, expected)


def quadratic_with_linear_term(n=25, seed=0):
    """A generic smooth unit whose optimum has no closed form: 1/2 x^T H x + f^T x."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    return QuadraticUnit((M + M.T) / 2, rng.standard_normal(n), shape=(5, 5))


@pytest.mark.parametrize("hessian", ["fd", "exact"])
def test_dense_polish_reaches_the_point_the_products_polish_reaches(hessian):
    """Newton by Cholesky on the dense Hessian against Newton by CG on products."""
    units = [*TiledCNN.random(seed=0).unit_types()[:4], quadratic_with_linear_term()]
    settings = Settings(hessian=hessian)
    for unit in units:
        x0, _, _ = optimal_stimulus(unit, 1.0, 4, 1000, np.random.default_rng(7))
        by_cg = newton_polish(unit, x0, 1.0, product_source(unit, settings))
        x, H, _, source, formed = dense_polish(unit, x0, settings)
        np.testing.assert_allclose(x, by_cg, atol=1e-12)
        grad = unit.grad(x).ravel()
        mu = x.ravel() @ grad
        assert np.linalg.norm(grad - mu * x.ravel()) <= 1e-13 * np.linalg.norm(grad)
        # H belongs to the final point: equal to a fresh one within the differences' error
        fresh = hessian_at(unit, x, settings)[0]
        assert np.max(np.abs(H - fresh)) <= 1e-8 * np.max(np.abs(fresh))
        assert formed <= 3 and source == ("fd" if hessian == "fd" else "exact")


def test_dense_polish_refuses_to_step_away_from_a_minimum():
    """At a minimum the tangent system is not positive definite: x stays where it is."""
    unit = quadratic_with_linear_term(seed=3)
    x = -optimal_stimulus(unit, 1.0, 4, 1000, np.random.default_rng(0))[0]
    H0 = unit.hessian(x)
    w, V = np.linalg.eigh(H0)
    start = V[:, 0].reshape(unit.shape)  # near the minimum of the quadratic part
    start /= np.linalg.norm(start)
    polished, _, _, _, formed = dense_polish(unit, start, Settings())
    assert formed == 1
    np.testing.assert_array_equal(polished, start)


def test_dense_hvp_count_is_n_per_hessian_formed():
    unit = TiledCNN.random(seed=0).unit(1, 0, 0)
    result = analyze(unit, seed=1)
    n = unit.shape[0] * unit.shape[1]
    assert result.hvp_count % n == 0 and 1 <= result.hvp_count // n <= 3


class _Returns(Unit):
    """A user unit whose outputs are set by the test."""

    shape = (3, 3)

    def __init__(self, values, grads):
        self.out = values, grads

    def values_and_grads(self, X):
        values, grads = self.out
        return np.resize(values, len(X)), np.resize(grads, X.shape)


@pytest.mark.parametrize(
    "values, grads, message",
    [
        (np.nan, 1.0, "returned NaN or infinite activations"),
        (1.0, np.inf, "returned NaN or infinite gradients"),
        (1.0, np.array([np.inf, -np.inf]), "returned NaN or infinite gradients"),
        (np.float32(1.0), np.float32(np.nan), "returned NaN or infinite gradients"),
    ],
)
def test_user_units_returning_nan_or_inf_still_get_the_clear_error(values, grads, message):
    with pytest.raises(ValueError, match=message):
        _Returns(values, grads).checked_values_and_grads(np.ones((4, 3, 3)))


def test_huge_finite_outputs_pass_the_checks():
    """Entries whose sum would overflow are finite all the same."""
    values, grads = _Returns(1e308, 1e308).checked_values_and_grads(np.ones((4, 3, 3)))
    assert values.dtype == np.float64 and np.all(grads == 1e308)
    stack = np.full((4, 3, 3), 1e308)
    assert _Returns(1.0, 1.0).check_stack(stack) is stack
    with pytest.raises(ValueError, match="the images contain NaN"):
        _Returns(1.0, 1.0).check_stack(np.array([np.inf, -np.inf] * 9).reshape(2, 3, 3))


class _NanNearTheTop(Unit):
    """g(x) = x[0, 0], NaN (activation or gradient) once x[0, 0] > 0.9."""

    shape = (3, 3)

    def __init__(self, where):
        self.where = where

    def values_and_grads(self, X):
        values, grads = X[:, 0, 0].copy(), np.zeros_like(X)
        grads[:, 0, 0] = 1.0
        top = X[:, 0, 0] > 0.9
        if self.where == "values":
            values[top] = np.nan
        else:
            grads[top, 1, 1] = np.inf
        return values, grads


@pytest.mark.parametrize("where, name", [("values", "activations"), ("grads", "gradients")])
def test_nan_met_during_the_search_gets_the_clear_error(where, name):
    """The search scans trial outputs in its own loop; NaN there still names the unit."""
    message = f"_NanNearTheTop.values_and_grads returned NaN or infinite {name}"
    with pytest.raises(ValueError, match=message):
        optimal_stimulus(_NanNearTheTop(where), 1.0, 4, 1000, np.random.default_rng(0))
    with pytest.raises(ValueError, match=message):
        analyze(_NanNearTheTop(where), seed=0)


def test_a_start_near_a_better_converged_start_stops():
    """ascent_propose's follow rule: only near a converged start with a higher activation."""
    unit = TiledCNN.random(seed=0).unit(2, 0, 0)
    rho = 1.0
    X = retract(np.random.default_rng(0).standard_normal((5, 100)), rho)
    nudge = np.zeros(100)
    nudge[np.argmin(np.abs(X[0]))] = 0.4 * FOLLOW * rho  # well inside the distance
    X[1] = retract((X[0] + nudge)[None], rho)[0]  # near start 0, which has converged
    X[2] = retract((X[0] - nudge)[None], rho)[0]  # near it too, but higher
    X[3] = retract((X[0] + 3 * FOLLOW * nudge / np.linalg.norm(nudge))[None], rho)[0]  # too far
    X[4] = retract((X[1] + 2 * nudge)[None], rho)[0]  # near start 1 only, not converged
    values, G = evaluate(unit, X)
    values[:] = [1.0, 0.5, 2.0, 0.5, 0.5]
    R = tangent(G, X, rho)
    R[0] = 0.0
    trial, active = np.empty_like(X), np.empty(5, dtype=bool)
    count = ascent_propose(X, values, G, R, np.full(5, 0.1), rho, 1e-6, trial, active)
    assert count == 3 and active.tolist() == [False, False, True, True, True]
    np.testing.assert_array_equal(trial[:2], X[:2])  # stopped starts stay put


@pytest.mark.parametrize("seed", range(6))
def test_the_search_with_followers_stopped_finds_the_exact_optimum(seed):
    """A generic quadratic unit (unique optimum, known by bisection): the analysis lands
    on it, with the follow rule stopping starts early."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((36, 36))
    unit = QuadraticUnit((M + M.T) / 2, 0.3 * rng.standard_normal(36), shape=(6, 6))
    result = analyze(unit, seed=seed, restarts=12)
    np.testing.assert_allclose(result.stimulus, unit.optimum(), atol=1e-9)


def test_memory_is_read_only_for_dense_analyses_above_64_mib(monkeypatch):
    """Small analyses skip reading /proc/meminfo; larger ones are still refused early."""
    import tcnn_widgets.analysis as analysis

    monkeypatch.setattr(analysis, "available_memory", lambda: 100 * 2**20)  # 100 MiB
    small = analysis.Settings()
    assert analysis.plan(small, 1295) == ("dense", None)  # 5 * 8 * 1295^2 bytes < 64 MiB
    with pytest.raises(MemoryError, match="pass directions=k"):
        analysis.plan(small, 37 * 37)  # 72 MiB, more than half of 100 MiB


def big_pooling_unit():
    filters = np.random.default_rng(0).standard_normal((3, 3, 19, 19)) / 19
    return PoolingUnit(filters, eps=1e-4)


@pytest.mark.parametrize(
    "make, hessian, cheap",
    [
        (lambda: TiledCNN.random(seed=0).unit(0, 0, 0), "fd", True),  # its own FD kernel
        (lambda: quadratic_with_linear_term(), "exact", True),  # a closed form
        (lambda: quadratic_with_linear_term(), "fd", False),  # column by column
        (lambda: big_pooling_unit(), "fd", False),  # n = 441, above AUTO_DENSE_MAX
    ],
)
def test_the_dense_path_polishes_with_hessians_only_where_they_are_cheap(
    make, hessian, cheap, monkeypatch
):
    import tcnn_widgets.analysis as analysis

    unit, calls = make(), []
    n = int(np.prod(unit.shape))
    real = analysis.dense_polish
    monkeypatch.setattr(analysis, "dense_polish", lambda *a: calls.append(1) or real(*a))
    result = analyze(unit, hessian=hessian, seed=0)
    assert analysis.hessian_is_cheap(unit, Settings(hessian=hessian), n) is cheap
    assert len(calls) == int(cheap)
    assert result.residual <= 1e-12 * abs(result.activation)


class _Float32Counting(Unit):
    """g(x) = sum x^2 / 2 in float32, counting its calls."""

    shape = (2, 3)

    def __init__(self):
        self.calls = 0

    def values_and_grads(self, X):
        self.calls += 1
        return (0.5 * np.sum(X**2, axis=(1, 2))).astype(np.float32), X.astype(np.float32)


@pytest.mark.parametrize("check_finite", [False, True])
def test_outputs_of_other_dtypes_are_checked_and_converted_without_a_second_call(check_finite):
    unit = _Float32Counting()
    values, grads = evaluate(unit, np.ones((4, 6)), check_finite=check_finite)
    assert unit.calls == 1 and values.dtype == grads.dtype == np.float64
    assert grads.shape == (4, 6)
