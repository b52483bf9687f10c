"""analyze() against the exact cases of METHOD section 8."""

import numpy as np
import pytest

from tcnn_widgets import Invariances, QuadraticUnit, TiledCNN, analyze, load_results, save_results


def pooling_closed_form(unit, radius):
    """Eigenpairs of A, the optimum and the curvatures of sqrt(eps + x^T A x) (METHOD 8)."""
    lam, V = np.linalg.eigh(unit.quadratic_matrix())
    lam, V = lam[::-1], V[:, ::-1]  # largest first
    g_star = np.sqrt(unit.eps + lam[0] * radius**2)
    return lam, V, g_star, (lam[1:] - lam[0]) / g_star


def aligned(x, y):
    """x up to sign, to compare with y."""
    return x if np.dot(x.ravel(), y.ravel()) >= 0 else -x


@pytest.mark.parametrize(
    "architecture",
    [
        dict(maps=4, tile=1, field=4, pool=2, image_size=8),
        dict(maps=6, tile=2, field=5, pool=3, image_size=12),
        dict(maps=5, tile=3, field=4, pool=3, image_size=12),
    ],
    ids=["k1", "k2", "k3"],
)
@pytest.mark.parametrize("radius", [1.0, 2.5])
def test_pooling_units_match_closed_form(architecture, radius):
    a = dict(architecture)
    net = TiledCNN.random(a.pop("maps"), a.pop("tile"), a.pop("field"), a.pop("pool"), seed=11, **a)
    for unit in net.unit_types()[:3]:
        result = analyze(unit, radius=radius, seed=3)
        lam, V, g_star, nu = pooling_closed_form(unit, radius)
        assert abs(result.activation - g_star) <= 1e-10 * g_star
        assert np.isclose(np.linalg.norm(result.stimulus), radius, rtol=1e-14)
        if lam[0] - lam[1] > 1e-3 * lam[0]:  # the optimum is unique up to sign
            expected = radius * V[:, 0].reshape(unit.shape)
            np.testing.assert_allclose(aligned(result.stimulus, expected), expected, atol=1e-6)
        scale = np.max(np.abs(nu))
        np.testing.assert_allclose(result.curvatures, np.sort(nu)[::-1], atol=1e-6 * scale)
        assert result.is_maximum
        assert result.residual < 1e-10 * result.activation
        assert result.hessian_method == "fd"
        assert result.hessian_asymmetry < 1e-6


def test_pooling_unit_degenerate_group_is_reported():
    """Every direction outside the span of the pooled filters ties (METHOD section 6)."""
    net = TiledCNN.random(maps=4, tile=2, field=4, pool=2, image_size=8, seed=2)
    unit = net.unit(0, 0, 0)
    result = analyze(unit, seed=0)
    rank_A = np.linalg.matrix_rank(unit.quadratic_matrix())
    n = unit.shape[0] * unit.shape[1]
    least = result.n_directions - 1
    assert len(result.group_members(least)) == n - rank_A
    assert len(np.unique(result.groups)) == rank_A  # rank_A - 1 single ones and one big group
    lam, _, g_star, _ = pooling_closed_form(unit, 1.0)
    np.testing.assert_allclose(
        result.curvatures[result.group_members(least)], -lam[0] / g_star, rtol=1e-6
    )


def test_activation_along_geodesics_and_video_ranges_match_closed_form():
    net = TiledCNN.random(maps=6, tile=2, field=5, pool=3, image_size=12, seed=5)
    unit = net.unit(2, 1, 0)
    radius, c = 1.5, 0.7
    result = analyze(unit, radius=radius, seed=1, hessian="exact", threshold=c)
    lam, _, g_star, _ = pooling_closed_form(unit, radius)
    # each direction's eigenvalue lambda_j, recovered from its curvature
    lam_j = lam[0] + result.curvatures * g_star
    t = result.geodesic_angles
    exact = np.sqrt(
        unit.eps + radius**2 * (lam[0] * np.cos(t) ** 2 + lam_j[:, None] * np.sin(t) ** 2)
    )
    np.testing.assert_allclose(result.geodesic_activations, exact, rtol=1e-9)
    # first crossing of c g*: sin^2 t = (lam_1 rho^2 + eps - c^2 g*^2) / (rho^2 (lam_1 - lam_j))
    with np.errstate(divide="ignore"):
        sin2 = (lam[0] * radius**2 + unit.eps - (c * g_star) ** 2) / (radius**2 * (lam[0] - lam_j))
    crossing = np.where(sin2 <= 1, np.arcsin(np.sqrt(np.clip(sin2, 0, 1))), np.pi / 2)
    np.testing.assert_allclose(result.video_ranges[:, 1], crossing, atol=1e-9)
    np.testing.assert_allclose(result.video_ranges[:, 0], -crossing, atol=1e-9)
    # and the frames at the range ends really have activation c g*
    for rank in np.flatnonzero(sin2 < 0.99)[:5]:
        for angle in result.video_ranges[rank]:
            assert np.isclose(unit.value(result.frame(rank, angle)), c * g_star, rtol=1e-8)


def random_symmetric(n, rng):
    M = rng.standard_normal((n, n))
    return (M + M.T) / 2


def quadratic_value(unit, x):
    x = x.ravel()
    return 0.5 * x @ unit.H @ x + unit.f @ x + unit.c


@pytest.mark.parametrize("case", ["generic", "f=0", "hard", "near-hard"])
@pytest.mark.parametrize("hessian", ["fd", "exact"])
def test_quadratic_units_match_closed_form(case, hessian):
    rng = np.random.default_rng(42)
    n, radius = 36, 1.3
    H = random_symmetric(n, rng)
    lam, Q = np.linalg.eigh(H)
    if case == "generic":
        f = rng.standard_normal(n)
    elif case == "f=0":
        f = np.zeros(n)
    else:  # f orthogonal to the top eigenvector, small: the "hard case"
        f = 0.01 * (Q[:, :-1] @ rng.standard_normal(n - 1))
        if case == "near-hard":  # ... or almost: lambda - lambda_max is then tiny
            f += 1e-12 * Q[:, -1]
    unit = QuadraticUnit(H, f, c=0.5)
    x_exact = unit.optimum(radius)
    # the closed form is a constrained maximum: tangent gradient zero, value above random points
    grad = H @ x_exact.ravel() + f
    mu = x_exact.ravel() @ grad / radius**2
    assert np.linalg.norm(grad - mu * x_exact.ravel()) < 1e-9
    assert np.isclose(np.linalg.norm(x_exact), radius, rtol=1e-14, atol=0)
    samples = rng.standard_normal((2000, n))
    samples *= radius / np.linalg.norm(samples, axis=1, keepdims=True)
    assert quadratic_value(unit, x_exact) >= max(quadratic_value(unit, s) for s in samples)

    result = analyze(unit, radius=radius, seed=9, hessian=hessian, restarts=8)
    g_exact = quadratic_value(unit, x_exact)
    assert abs(result.activation - g_exact) <= 1e-10 * abs(g_exact)
    if case in ("hard", "near-hard"):  # two (near-)maxima: x(lambda_max) +- a top eigenvector
        top = Q[:, -1].reshape(unit.shape)
        mirror = x_exact - 2 * np.sum(top * x_exact) * top
        if np.linalg.norm(result.stimulus - mirror) < np.linalg.norm(result.stimulus - x_exact):
            x_exact = mirror
    np.testing.assert_allclose(aligned(result.stimulus, x_exact), x_exact, atol=1e-6)
    nu = unit.curvatures(radius)
    np.testing.assert_allclose(result.curvatures, nu, atol=1e-6 * np.max(np.abs(nu)))
    # the activation along a geodesic is the quadratic form evaluated on the geodesic
    for rank in (0, n // 2, n - 2):
        for k, angle in enumerate(result.geodesic_angles[::8]):
            expected = quadratic_value(unit, result.frame(rank, angle))
            assert np.isclose(result.geodesic_activations[rank, 8 * k], expected, rtol=1e-12)


def test_plain_callables_give_the_same_result_as_the_unit():
    rng = np.random.default_rng(1)
    H = random_symmetric(20, rng)
    f = rng.standard_normal(20)
    unit = QuadraticUnit(H, f, shape=(4, 5))
    reference = analyze(unit, seed=4)

    def value(x):
        x = x.ravel()
        return 0.5 * x @ H @ x + f @ x

    def gradient(x):
        return (H @ x.ravel() + f).reshape(4, 5)

    def values(X):
        flat = X.reshape(len(X), -1)
        return 0.5 * np.einsum("ni,ij,nj->n", flat, H, flat) + flat @ f

    def gradients(X):
        return (X.reshape(len(X), -1) @ H + f).reshape(X.shape)

    one_by_one = analyze(value, gradient, shape=(4, 5), seed=4)
    batched = analyze(values, gradients, shape=(4, 5), vectorized=True, seed=4)
    with_hessian = analyze(value, gradient, shape=(4, 5), seed=4, hessian=lambda x: H)
    for result in (one_by_one, batched, with_hessian):
        assert np.isclose(result.activation, reference.activation, rtol=1e-12)
        np.testing.assert_allclose(result.curvatures, reference.curvatures, atol=1e-6)
    assert with_hessian.hessian_method == "callable"
    np.testing.assert_array_equal(with_hessian.hessian, H)


def test_positive_curvature_is_flagged():
    """A Hessian that curves upward in the tangent plane means x* is no maximum."""
    rng = np.random.default_rng(0)
    unit = QuadraticUnit(random_symmetric(9, rng), rng.standard_normal(9))
    result = analyze(unit, seed=0, hessian=lambda x: 100.0 * np.eye(9))
    assert np.all(result.curvatures > 0)
    assert not result.is_maximum


def test_same_seed_same_result_and_recorded_seed_reproduces():
    net = TiledCNN.random(maps=3, tile=2, field=3, pool=2, image_size=6, seed=0)
    first = analyze(net.unit_types(), seed=123, progress=False)
    second = analyze(net.unit_types(), seed=123, progress=False)
    for a, b in zip(first, second, strict=True):
        for key, value in a.to_arrays().items():
            np.testing.assert_array_equal(value, b.to_arrays()[key])
    alone = analyze(net.unit_types()[5], seed=first[5].seed)
    np.testing.assert_array_equal(alone.start_activations, first[5].start_activations)
    np.testing.assert_array_equal(alone.stimulus, first[5].stimulus)
    unseeded = analyze(net.unit(0, 0, 0))
    again = analyze(net.unit(0, 0, 0), seed=unseeded.seed)
    np.testing.assert_array_equal(again.start_activations, unseeded.start_activations)


def test_directions_are_orthonormal_tangent_vectors_and_frames_stay_on_sphere():
    net = TiledCNN.random(maps=4, tile=2, field=3, pool=2, image_size=6, seed=1)
    result = analyze(net.unit(1, 0, 1), radius=2.0, seed=0)
    W = result.directions.reshape(result.n_directions, -1)
    np.testing.assert_allclose(W @ W.T, np.eye(len(W)), atol=1e-12)
    np.testing.assert_allclose(W @ result.stimulus.ravel(), 0, atol=1e-12)
    for angle in (-1.0, 0.3, 2.0):
        assert np.isclose(np.linalg.norm(result.frame(3, angle)), 2.0, rtol=1e-12)
    assert result.index(0, "least") == result.n_directions - 1


def test_gray_limit_is_the_largest_pixel_of_the_whole_video():
    net = TiledCNN.random(maps=4, tile=2, field=3, pool=2, image_size=6, seed=1)
    result = analyze(net.unit(1, 0, 1), seed=0)
    for rank in (0, result.n_directions - 1):
        _, frames = result.frames(rank, count=20001)
        dense_max = np.max(np.abs(frames))
        assert dense_max <= result.gray_limit(rank) <= dense_max * (1 + 1e-6)
    all_at_once = result.gray_limits()
    one_by_one = [result.gray_limit(rank) for rank in range(result.n_directions)]
    np.testing.assert_array_equal(all_at_once, one_by_one)


def test_save_and_load_round_trip(tmp_path):
    net = TiledCNN.random(maps=3, tile=2, field=3, pool=2, image_size=6, seed=0)
    results = analyze(net.unit_types()[:3], seed=1, progress=False)
    results[0].save(tmp_path / "one.npz")
    loaded = Invariances.load(tmp_path / "one.npz")
    assert loaded.name == results[0].name and loaded.seed == results[0].seed
    np.testing.assert_array_equal(loaded.directions, results[0].directions)
    np.testing.assert_array_equal(loaded.labels, results[0].labels)
    np.testing.assert_array_equal(loaded.label_fractions, results[0].label_fractions)
    assert (loaded.fd_step, loaded.degeneracy_tol) == (1e-5, 1e-6)
    save_results(tmp_path / "all.npz", results)
    again = load_results(tmp_path / "all.npz")
    assert [r.name for r in again] == [r.name for r in results]
    np.testing.assert_array_equal(again[2].hessian, results[2].hessian)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.npz", "one.npz"]  # no temp files
    assert (tmp_path / "all.npz").stat().st_mode & 0o777 == 0o644  # readable, like open()


def test_results_files_stack_shared_fields_and_load_every_layout_exactly(tmp_path):
    """Fields every unit has with one shape are stored once (stacked); the others per
    unit; files written per unit (before stacking) still load; values come back exactly."""
    small = TiledCNN.random(maps=3, tile=2, field=3, pool=2, image_size=6, seed=0)
    large = TiledCNN.random(maps=2, tile=2, field=4, pool=2, image_size=8, seed=0)
    results = analyze([*small.unit_types()[:2], large.unit_types()[0]], seed=1, progress=False)
    path = tmp_path / "mixed.npz"
    save_results(path, results, precision="float32")
    with np.load(path) as stored:
        keys = set(stored.files)
        per_unit = {key: stored[key] for key in stored.files}
    assert {"stack.name", "stack.activation", "stack.seed"} <= keys  # same shape everywhere
    assert {"unit0.directions", "unit2.directions"} <= keys  # 4 x 4 against 5 x 5 units
    assert not any(key.startswith("unit") and key.endswith(".seed") for key in keys)
    for key in [key for key in per_unit if key.startswith("stack.")]:  # the old layout
        for i, row in enumerate(per_unit.pop(key)):
            per_unit[f"unit{i}.{key[6:]}"] = row
    np.savez_compressed(tmp_path / "old.npz", **per_unit)
    for loaded in (load_results(path), load_results(tmp_path / "old.npz")):
        for again, result in zip(loaded, results, strict=True):
            assert (again.name, again.seed, again.activation) == (
                result.name,
                result.seed,
                result.activation,
            )
            np.testing.assert_array_equal(again.stimulus, result.stimulus)
            np.testing.assert_array_equal(again.curvatures, result.curvatures)
            np.testing.assert_array_equal(again.directions, result.directions.astype(np.float32))
            np.testing.assert_array_equal(again.labels, result.labels)
            again.check()


def test_network_save_and_load_round_trip(tmp_path):
    net = TiledCNN.random(maps=5, tile=3, field=4, pool=2, image_size=10, seed=0, eps=1e-3)
    net.save(tmp_path / "net.npz")
    loaded = TiledCNN.load(tmp_path / "net.npz")
    np.testing.assert_array_equal(loaded.weights, net.weights)
    assert (loaded.pool, loaded.image_size, loaded.eps) == (2, 10, 1e-3)


def test_random_filters_are_orthonormal_per_tile_position():
    net = TiledCNN.random(maps=16, tile=2, field=8, pool=3, seed=0)
    for a in range(2):
        for b in range(2):
            F = net.weights[:, a, b].reshape(16, 64)
            np.testing.assert_allclose(F @ F.T, np.eye(16), atol=1e-12)


def test_vectorized_callables_get_the_hessian_points_in_one_batch():
    from tcnn_widgets import CallableUnit

    rng = np.random.default_rng(3)
    H = random_symmetric(20, rng)
    calls = []

    def values(X):
        flat = X.reshape(len(X), -1)
        return 0.5 * np.einsum("ni,ij,nj->n", flat, H, flat)

    def gradients(X):
        calls.append(len(X))
        return (X.reshape(len(X), -1) @ H).reshape(X.shape)

    unit = CallableUnit(values, gradients, (4, 5), vectorized=True)
    x = rng.standard_normal((4, 5))
    fd = unit.fd_hessian(x, 1e-5)
    assert calls == [40]  # all 2n points at once
    np.testing.assert_allclose(fd, H, atol=1e-8)


def test_video_ranges_of_a_unit_whose_optimum_is_negative():
    """With g* < 0 a video ends where g has fallen by (1 - c)|g*| (below g*, not above)."""
    unit = QuadraticUnit(-np.diag([1.0, 2.0, 3.0, 5.0]))  # g* = -1/2 at x = e_0
    result = analyze(unit, seed=0, hessian="exact", threshold=0.7)
    assert np.isclose(result.activation, -0.5, rtol=1e-12)
    assert np.isclose(result.video_level, -0.65, rtol=1e-12)
    lam_j = 1 - result.curvatures  # nu_j = eig_j(B^T H B) - mu = -lambda_j + 1
    # -1/2 (cos^2 t + lambda_j sin^2 t) = -0.65  <=>  sin^2 t = 0.3 / (lambda_j - 1)
    expected = np.arcsin(np.sqrt(np.minimum(0.3 / (lam_j - 1), 1)))
    np.testing.assert_allclose(result.video_ranges[:, 1], expected, atol=1e-9)


# ---- channels: stimuli of shape (c, h, w) ------------------------------------------


def test_colour_units_take_channel_first_stacks_and_find_the_exact_optimum():
    """A (3, 4, 5) quadratic unit: stacks, geodesics, Hessians and the sphere search work
    on channel-first stimuli and find the closed-form optimum (METHOD section 8)."""
    from tcnn_widgets._sphere import optimal_stimulus
    from tcnn_widgets.units import CallableUnit

    rng = np.random.default_rng(3)
    shape = (3, 4, 5)
    H = random_symmetric(60, rng)
    f = rng.standard_normal(60)
    unit = QuadraticUnit(H, f, shape=shape)
    plain = CallableUnit(
        lambda x: 0.5 * x.ravel() @ H @ x.ravel() + f @ x.ravel(),
        lambda x: H @ x.ravel() + f,  # flat gradients are accepted
        shape,
    )
    X = rng.standard_normal((7, *shape))
    values, grads = plain.values_and_grads(X)
    assert grads.shape == (7, *shape)
    np.testing.assert_allclose(grads, unit.values_and_grads(X)[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values, unit.values(X), rtol=1e-12)
    x = X[0] / np.linalg.norm(X[0])
    W = rng.standard_normal((2, *shape))
    angles = np.array([[0.0, 0.3], [-0.2, 1.0]])
    along = plain.geodesic_values(x, W, 1.0, angles)
    for d in range(2):
        for j in range(2):
            point = np.cos(angles[d, j]) * x + np.sin(angles[d, j]) * W[d]
            assert np.isclose(along[d, j], quadratic_value(unit, point), rtol=1e-12)
    np.testing.assert_allclose(plain.fd_hessian(x, 1e-5), H, atol=1e-8)
    best, _, _ = optimal_stimulus(unit, 1.0, 4, 2000, np.random.default_rng(0))
    assert best.shape == shape
    assert abs(np.dot(best.ravel(), unit.optimum().ravel())) > 1 - 1e-6


@pytest.mark.parametrize(
    "shape, message",
    [
        ((2, 3, 4, 5), "must be \\(h, w\\) or \\(c, h, w\\)"),
        ((0, 4, 4), "shape\\[0\\] must be >= 1"),
        ((1, 1), "at least 2 entries"),
    ],
)
def test_bad_stimulus_shapes_are_refused(shape, message):
    from tcnn_widgets.units import CallableUnit

    with pytest.raises(ValueError, match=message):
        CallableUnit(lambda x: 0.0, lambda x: x, shape)
    with pytest.raises(ValueError, match=message):
        analyze(lambda x: 0.0, lambda x: x, shape=shape)
    with pytest.raises(ValueError, match=message):
        QuadraticUnit(np.eye(int(np.prod(shape)) or 1), shape=shape)


def test_a_colour_stack_of_the_wrong_shape_is_refused():
    from tcnn_widgets.units import CallableUnit

    unit = CallableUnit(lambda x: 0.0, lambda x: x, (3, 4, 4))
    with pytest.raises(ValueError, match=r"expected a stack of images of shape \(N, 3, 4, 4\)"):
        unit.check_stack(np.zeros((2, 4, 4)))


def test_hessian_auto_is_differences_for_units_without_autodiff():
    from reference_units import TanhConvNet

    unit = TanhConvNet((6, 6), seed=0)
    auto, fd = analyze(unit, seed=0), analyze(unit, seed=0, hessian="fd")
    assert auto.hessian_method == fd.hessian_method == "fd"
    np.testing.assert_array_equal(auto.curvatures, fd.curvatures)
