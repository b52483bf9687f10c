"""Matrix-free invariances (docs/method.md §10) against independent references:
the dense analysis, closed forms (docs/method.md §8) and finite differences."""

import numpy as np
import pytest
from reference_units import FilterPoolingUnit, TanhConvNet

from tcnn_widgets import QuadraticUnit, TiledCNN, analyze, load_results, save_results
from tcnn_widgets.units import CallableUnit, Unit


def unit_vectors(rng, count, shape):
    V = rng.standard_normal((count, *shape))
    return V / np.linalg.norm(V.reshape(count, -1), axis=1).reshape(count, *[1] * len(shape))


# ---- Hessian-vector products ---------------------------------------------------------


def test_pooling_unit_products_equal_differences_and_the_dense_hessian():
    unit = TiledCNN.random(seed=2).unit(5, 1, 0)
    rng = np.random.default_rng(0)
    x = unit_vectors(rng, 1, unit.shape)[0]
    V = rng.standard_normal((6, *unit.shape))
    dense = (V.reshape(6, -1) @ unit.hessian(x)).reshape(V.shape)  # H is symmetric
    closed = unit.hvp(x, V)
    differences = Unit.hvp(unit, x, V)  # the generic central differences
    scale = np.abs(dense).max()
    assert unit.has_exact_hvp
    np.testing.assert_allclose(closed, dense, atol=1e-13 * scale)
    np.testing.assert_allclose(differences, dense, atol=1e-8 * scale)


@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 5)])
def test_quadratic_unit_products_equal_differences_and_h_times_v(shape):
    rng = np.random.default_rng(1)
    n = int(np.prod(shape))
    A = rng.standard_normal((n, n))
    unit = QuadraticUnit((A + A.T) / 2, rng.standard_normal(n), shape=shape)
    x = rng.standard_normal(shape)
    V = rng.standard_normal((5, *shape))
    reference = (V.reshape(5, -1) @ unit.H).reshape(V.shape)
    np.testing.assert_allclose(unit.hvp(x, V), reference, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(unit.fd_hvp(x, V, 1e-5), reference, atol=1e-7)


def test_difference_products_of_a_vectorized_callable_come_in_one_batch():
    unit = TanhConvNet((3, 8, 8), seed=4)
    calls = []

    def values(X):
        calls.append(len(X))
        return unit.values_and_grads(X)[0]

    def grads(X):
        return unit.values_and_grads(X)[1]

    wrapped = CallableUnit(values, grads, (3, 8, 8), vectorized=True)
    rng = np.random.default_rng(2)
    x, V = rng.standard_normal((3, 8, 8)), rng.standard_normal((7, 3, 8, 8))
    HV = wrapped.hvp(x, V)
    assert calls == [14]
    # against differences of the gradient along each vector, taken one at a time
    for v, hv in zip(V, HV, strict=True):
        h = 1e-5 * np.linalg.norm(x) / np.linalg.norm(v)
        g = unit.values_and_grads(np.stack([x + h * v, x - h * v]))[1]
        np.testing.assert_allclose(hv, (g[0] - g[1]) / (2 * h), rtol=1e-7, atol=1e-8)


# ---- matrix-free against dense on a generic unit -------------------------------------


@pytest.mark.parametrize(
    "shape, radius", [((12, 12), 1.0), ((12, 12), 3.0), ((2, 9, 9), 1.0)], ids=str
)
def test_matrix_free_ends_agree_with_dense_on_a_two_layer_tanh_net(shape, radius):
    unit = TanhConvNet(shape, seed=1)
    k = 4
    dense = analyze(unit, seed=0, radius=radius)
    free = analyze(unit, seed=0, radius=radius, directions=k, method="matrix-free")
    assert free.method == "matrix-free" and free.hessian is None and not free.complete
    assert free.hvp_count > 0 and free.n_directions == 2 * k
    ends = np.r_[0:k, dense.n_directions - k : dense.n_directions]
    scale = np.abs(dense.curvatures).max()
    np.testing.assert_allclose(free.curvatures, dense.curvatures[ends], rtol=0, atol=1e-8 * scale)
    assert np.isclose(free.activation, dense.activation, rtol=1e-13)
    # non-degenerate directions agree up to sign
    gaps = np.abs(np.diff(dense.curvatures)) / scale
    isolated = np.r_[gaps[0], np.minimum(gaps[:-1], gaps[1:]), gaps[-1]] > 1e-4
    W_free = free.directions.reshape(2 * k, -1)
    W_dense = dense.directions[ends].reshape(2 * k, -1)
    cosines = np.abs(np.einsum("ij,ij->i", W_free, W_dense))
    assert np.sum(isolated[ends]) >= k
    assert np.all(cosines[isolated[ends]] > 0.9999)
    # geodesics of the kept directions: the real activation along them
    index = 2 * k - 1
    for j in (0, 20, 40):
        frame = free.frame(index, free.geodesic_angles[j])
        assert np.isclose(free.geodesic_activations[index, j], unit.value(frame), rtol=1e-12)
    assert not free.ends_tied.any()


def test_dense_with_directions_keeps_the_same_ends_as_matrix_free():
    unit = TanhConvNet((10, 10), seed=3)
    dense_k = analyze(unit, seed=5, directions=3, method="dense")
    free = analyze(unit, seed=5, directions=3, method="matrix-free")
    assert dense_k.method == "dense" and dense_k.hessian is not None and not dense_k.complete
    scale = np.abs(dense_k.curvatures).max()
    np.testing.assert_allclose(free.curvatures, dense_k.curvatures, atol=1e-8 * scale)
    np.testing.assert_allclose(free.video_ranges, dense_k.video_ranges, atol=1e-6)


def test_method_auto_picks_dense_for_small_and_matrix_free_for_large_units():
    from tcnn_widgets.analysis import AUTO_DENSE_MAX

    small = analyze(TanhConvNet((8, 8), seed=0), seed=0, directions=2)
    assert small.method == "dense"
    side = int(np.ceil(np.sqrt(AUTO_DENSE_MAX + 1)))
    large = analyze(TanhConvNet((side, side), seed=0), seed=0, directions=2)
    assert large.method == "matrix-free"
    assert analyze(TanhConvNet((6, 6), seed=0), seed=0).complete


# ---- closed forms at n >= 10,000, with no dense matrix -------------------------------


def test_large_pooling_unit_matches_closed_form_and_reports_its_tied_end():
    shape = (100, 100)
    rng = np.random.default_rng(7)
    unit = FilterPoolingUnit(rng.standard_normal((9, 10_000)), shape)
    lam, v1, g_star, nu = unit.closed_form()
    k = 4
    result = analyze(unit, seed=1, directions=k, hessian="exact", restarts=2)
    assert result.hessian is None and result.method == "matrix-free"
    assert abs(result.stimulus.ravel() @ v1) > 1 - 1e-12
    assert np.isclose(result.activation, g_star, rtol=1e-13)
    assert result.residual < 1e-12 * g_star  # polished by Newton-CG with products
    scale = lam[0] / g_star
    np.testing.assert_allclose(result.curvatures[:k], nu[:k], atol=1e-10 * scale)
    np.testing.assert_allclose(result.curvatures[k:], -lam[0] / g_star, atol=1e-10 * scale)
    # the least invariant end is one cluster of n - 9 directions: tied, one group
    assert result.ends_tied.tolist() == [False, True]
    assert len(set(result.groups[k:])) == 1
    # the same from differences of the gradient (two gradients per product)
    fd = analyze(unit, seed=1, directions=k, restarts=2)
    np.testing.assert_allclose(fd.curvatures, result.curvatures, atol=1e-7 * scale)


def test_large_quadratic_with_known_spectrum_through_a_user_hvp():
    n = 10_000
    rng = np.random.default_rng(3)
    d = rng.permutation(np.linspace(-2.0, 3.0, n) + 1e-3 * rng.standard_normal(n))
    calls = []

    def hvp(x, V):
        calls.append(len(V))
        return V * d.reshape(100, 100)

    unit = CallableUnit(
        lambda x: 0.5 * float(np.sum(d.reshape(100, 100) * x * x)),
        lambda x: d.reshape(100, 100) * x,
        (100, 100),
        hvp=hvp,
    )
    k = 3
    result = analyze(unit, seed=0, directions=k, hessian="exact", restarts=2)
    top = np.sort(d)[::-1]
    expected = np.r_[top[1 : k + 1] - top[0], top[-k:] - top[0]]
    np.testing.assert_allclose(result.curvatures, expected, atol=1e-10)
    assert abs(result.stimulus.ravel()[np.argmax(d)]) > 1 - 1e-10
    assert calls  # the user's products were used
    assert result.hessian_method == "exact"


# ---- results ---------------------------------------------------------------------------


def test_matrix_free_result_saves_and_loads(tmp_path):
    result = analyze(TanhConvNet((12, 12), seed=2), seed=0, directions=3, method="matrix-free")
    save_results(tmp_path / "r.npz", [result])
    (loaded,) = load_results(tmp_path / "r.npz")
    assert loaded.hessian is None and loaded.method == "matrix-free"
    assert loaded.hvp_count == result.hvp_count and not loaded.complete
    np.testing.assert_array_equal(loaded.curvatures, result.curvatures)
    np.testing.assert_array_equal(loaded.ends_tied, result.ends_tied)


# ---- bad input -------------------------------------------------------------------------


def quadratic_callable(shape, hvp):
    n = int(np.prod(shape))
    D = np.linspace(1.0, 2.0, n).reshape(shape)
    return CallableUnit(lambda x: 0.5 * float(np.sum(D * x * x)), lambda x: D * x, shape, hvp=hvp)


@pytest.mark.parametrize("k", [0, -2])
def test_directions_below_one_are_refused(k):
    with pytest.raises(ValueError, match="directions must be >= 1"):
        analyze(TanhConvNet((6, 6)), directions=k)


def test_directions_that_are_not_ints_are_refused():
    with pytest.raises(TypeError, match="directions must be an int"):
        analyze(TanhConvNet((6, 6)), directions=2.0)
    with pytest.raises(ValueError, match="method must be one of"):
        analyze(TanhConvNet((6, 6)), directions=2, method="lanczos")


def test_more_directions_than_the_tangent_plane_has_fall_back_to_all():
    unit = TanhConvNet((4, 4), field=3, seed=0)
    with pytest.warns(UserWarning, match="keeping all 15"):
        result = analyze(unit, seed=0, directions=8)
    assert result.complete and result.n_directions == 15 and result.method == "dense"


def test_matrix_free_needs_directions():
    with pytest.raises(ValueError, match="pass directions=k"):
        analyze(TanhConvNet((6, 6)), method="matrix-free")


def test_a_dense_request_too_large_for_memory_is_refused_before_any_work():
    calls = []

    def f(x):
        calls.append(1)
        return 0.0

    with pytest.raises(MemoryError, match="pass directions=k"):
        analyze(f, lambda x: x, shape=(3, 224, 224))
    assert calls == []


@pytest.mark.parametrize(
    "hvp, message",
    [
        (lambda x, V: V[:, :2], "hvp returned shape"),
        (lambda x, V: np.full(V.shape, np.nan), "hvp returned NaN or infinite"),
        (lambda x, V: 2.0 * V, "inconsistent with its gradient"),
    ],
    ids=["shape", "nan", "inconsistent"],
)
def test_bad_user_hvp_is_refused(hvp, message):
    unit = quadratic_callable((40, 30), hvp)
    with pytest.raises(ValueError, match=message):
        analyze(unit, seed=0, directions=2, hessian="exact", method="matrix-free")


def test_a_unit_subclass_whose_hvp_returns_nan_is_refused():
    class Bad(TanhConvNet):
        def hvp(self, x, V):
            return np.full(V.shape, np.inf)

    with pytest.raises(ValueError, match="Bad.hvp returned NaN or infinite"):
        analyze(Bad((8, 8)), seed=0, directions=2, hessian="exact")


def test_exact_without_a_closed_form_is_refused():
    with pytest.raises(ValueError, match="no closed-form Hessian or hvp"):
        analyze(TanhConvNet((6, 6)), hessian="exact", directions=2)


@pytest.mark.parametrize("method", ["dense", "matrix-free"])
def test_exactly_all_directions_by_k_is_complete_and_agrees_with_directions_none(method):
    rng = np.random.default_rng(8)
    A = rng.standard_normal((9, 9))
    unit = QuadraticUnit((A + A.T) / 2, rng.standard_normal(9), shape=(3, 3))
    everything = analyze(unit, seed=0)
    by_k = analyze(unit, seed=0, directions=4, method=method)  # 2k = n - 1
    assert by_k.complete and by_k.n_directions == 8 and not by_k.ends_tied.any()
    np.testing.assert_allclose(by_k.curvatures, everything.curvatures, atol=1e-8)


def test_hvp_refuses_a_stack_of_the_wrong_shape():
    user = quadratic_callable((3, 4, 4), lambda x, V: V)
    with pytest.raises(ValueError, match=r"expected a stack of images of shape \(N, 3, 4, 4\)"):
        user.hvp(np.ones((3, 4, 4)), np.ones((2, 4, 4, 3)))
    differences = TanhConvNet((3, 8, 8))
    with pytest.raises(ValueError, match=r"expected a stack of images of shape \(N, 3, 8, 8\)"):
        differences.hvp(np.ones((3, 8, 8)), np.ones((2, 8, 8, 3)))


# ---- the block Lanczos solver of the ends against numpy.linalg.eigh ----------------


@pytest.mark.parametrize("width", [1, 5, 12])
@pytest.mark.parametrize(
    "case", ["spread", "tied low end", "low rank plus identity", "all wanted"], ids=str
)
def test_block_ends_equal_eigh_at_both_ends(width, case):
    from tcnn_widgets._matrix_free import block_ends

    rng = np.random.default_rng(7)
    size, want = 300, 6
    values = np.sort(rng.standard_normal(size))
    if case == "tied low end":
        values[:40] = values[0]  # a cluster far wider than a block
    if case == "low rank plus identity":  # Krylov spaces become invariant early
        values[:-5] = 1.0
    if case == "all wanted":
        size, want, values = 10, 5, np.sort(rng.standard_normal(10))
    Q = np.linalg.qr(rng.standard_normal((size, size)))[0]
    A = (Q * values) @ Q.T
    calls = []

    def apply(Y):
        calls.append(len(Y))
        return Y @ A

    found, vectors = block_ends(apply, size, want, np.random.default_rng(0), width=width)
    expected = values if 2 * want >= size else np.r_[values[:want], values[-want:]]
    np.testing.assert_allclose(found, expected, rtol=0, atol=1e-9 * np.abs(values).max())
    np.testing.assert_allclose(vectors @ vectors.T, np.eye(len(found)), atol=1e-12)
    residuals = np.linalg.norm(vectors @ A - found[:, None] * vectors, axis=1)
    assert residuals.max() <= 1e-9 * np.abs(values).max() * 1.0001
    assert max(calls) <= max(width, 1) and len(calls) < 400


def test_tangent_ends_widen_their_blocks_where_a_tie_fills_a_narrow_block():
    # a 5-fold tie at the least invariant end, k = 6: in exact arithmetic a Krylov space
    # holds only as many copies of a value as its block is wide (rounding lets more in,
    # slowly), so blocks of 4 that see 4 or more copies are widened to k + 1
    from tcnn_widgets._matrix_free import Products, tangent_ends

    rng = np.random.default_rng(3)
    size, k = 300, 6
    values = np.sort(rng.uniform(-1.0, 1.0, size))
    values[:5] = -2.0
    Q = np.linalg.qr(rng.standard_normal((size, size)))[0]
    A = (Q * values) @ Q.T
    H = np.zeros((size + 1, size + 1))
    H[1:, 1:] = A  # x = e_0: the tangent plane is the span of the other axes, mu = 0
    x = np.zeros(size + 1)
    x[0] = 1.0
    widths = []

    def products(_x, V):
        widths.append(len(V))
        return V @ H

    def ends():
        widths.clear()
        rng = np.random.default_rng(0)
        return tangent_ends(Products(products, (size + 1,)), x, 0.0, k, rng, width=4)

    values[:5] = np.linspace(-2.5, -2.0, 5)  # no tie: the blocks stay narrow
    H[1:, 1:] = (Q * values) @ Q.T
    np.testing.assert_allclose(ends()[0][k:], values[:k][::-1], rtol=0, atol=1e-9)
    assert max(widths) == 4
    values[:5] = -2.0
    H[1:, 1:] = A
    curvatures, directions, beyond = ends()
    assert max(widths) == k + 1
    np.testing.assert_allclose(curvatures[:k], values[::-1][:k], rtol=0, atol=1e-9)
    np.testing.assert_allclose(curvatures[k:], values[:k][::-1], rtol=0, atol=1e-9)
    assert np.isclose(beyond[1], values[k], rtol=0, atol=1e-9)
    np.testing.assert_allclose(directions[:, 0], 0.0, atol=1e-12)  # tangent to the sphere


def test_batched_units_get_products_in_blocks_and_per_image_callables_one_by_one():
    unit = TanhConvNet((12, 12), seed=2)
    gradient_stacks = []

    def grads(X):
        gradient_stacks.append(len(X))
        return unit.values_and_grads(X)[1]

    stacked = CallableUnit(lambda X: unit.values_and_grads(X)[0], grads, (12, 12), vectorized=True)
    blocks = analyze(stacked, seed=0, directions=3, method="matrix-free", restarts=2)
    assert stacked.batched
    assert gradient_stacks.count(2 * (3 + 1)) >= 3  # x +- h v for blocks of min(k + 1, 4)

    single = CallableUnit(unit.value, unit.grad, (12, 12), vectorized=False)
    one_by_one = analyze(single, seed=0, directions=3, method="matrix-free", restarts=2)
    assert not single.batched
    scale = np.abs(blocks.curvatures).max()
    np.testing.assert_allclose(one_by_one.curvatures, blocks.curvatures, atol=1e-8 * scale)


def test_block_ends_stop_at_the_noise_of_inexact_products():
    # products with relative noise 1e-5 (like differences of a gradient of a unit with
    # large third derivatives): the residuals cannot fall below it, so the ends stop
    # there, soon, instead of failing after the whole budget
    from tcnn_widgets._matrix_free import block_ends

    rng = np.random.default_rng(3)
    values = np.sort(rng.standard_normal(200))
    Q = np.linalg.qr(rng.standard_normal((200, 200)))[0]
    A = (Q * values) @ Q.T
    noise = np.random.default_rng(4)

    calls = []

    def apply(Y):
        calls.append(len(Y))
        return Y @ A + 1e-5 * noise.standard_normal(Y.shape) * np.linalg.norm(Y, axis=1)[:, None]

    found, _ = block_ends(apply, 200, 4, np.random.default_rng(0), width=4)
    expected = np.r_[values[:4], values[-4:]]
    np.testing.assert_allclose(found, expected, atol=1e-3)
    assert sum(calls) < 1000
