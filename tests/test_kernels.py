"""Numba kernels against plain NumPy references, and gradients against finite differences."""

import numpy as np
import pytest

from tcnn_widgets import TiledCNN
from tcnn_widgets import _kernels as kernels
from tcnn_widgets.units import PoolingUnit, Unit


def reference_simple(X, W):
    """NumPy: H[n, m, i, j] = sum_ab W[m, i%k, j%k] * X[n, i:i+r, j:j+r]."""
    S, k, r = X.shape[1], W.shape[1], W.shape[3]
    L = S - r + 1
    patches = np.lib.stride_tricks.sliding_window_view(X, (r, r), axis=(1, 2))  # N,L,L,r,r
    tiled = W[:, np.arange(L)[:, None] % k, np.arange(L)[None, :] % k]  # M,L,L,r,r
    return np.einsum("nijab,mijab->nmij", patches, tiled)


def reference_pool(H, P, eps):
    windows = np.lib.stride_tricks.sliding_window_view(H**2, (P, P), axis=(2, 3))
    return np.sqrt(eps + windows.sum(axis=(-1, -2)))


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


NETWORKS = [
    dict(maps=3, tile=1, field=4, pool=2, image_size=9),
    dict(maps=4, tile=2, field=3, pool=3, image_size=10),
    dict(maps=5, tile=3, field=3, pool=2, image_size=11),
]


@pytest.fixture(params=NETWORKS, ids=lambda p: f"k{p['tile']}")
def net(request):
    p = dict(request.param)
    return TiledCNN.random(p.pop("maps"), p.pop("tile"), p.pop("field"), p.pop("pool"), seed=7, **p)


@pytest.fixture
def images(net):
    return np.random.default_rng(3).standard_normal((3, net.image_size, net.image_size))


def test_forward_matches_numpy(net, images):
    H = net.simple(images)
    assert relative_error(H, reference_simple(images, net.weights)) < 1e-12
    p = net.forward(images)
    assert p.shape == (3, net.maps, net.grid, net.grid)
    assert relative_error(p, reference_pool(H, net.pool, net.eps)) < 1e-12


def summed_output(net, images):
    return reference_pool(reference_simple(images, net.weights), net.pool, net.eps).sum()


def test_input_gradient_matches_finite_differences(net, images):
    grad = net.input_gradient(images)
    rng = np.random.default_rng(0)
    for _ in range(5):
        direction = rng.standard_normal(images.shape)
        h = 1e-6
        fd = (
            summed_output(net, images + h * direction) - summed_output(net, images - h * direction)
        ) / (2 * h)
        assert np.isclose(np.sum(grad * direction), fd, rtol=1e-7)


def test_weight_gradient_matches_finite_differences(net, images):
    grad = net.weight_gradient(images)
    assert grad.shape == net.weights.shape
    rng = np.random.default_rng(1)
    for _ in range(5):
        direction = rng.standard_normal(net.weights.shape)
        h = 1e-6
        plus = TiledCNN(
            net.weights + h * direction, pool=net.pool, image_size=net.image_size, eps=net.eps
        )
        minus = TiledCNN(
            net.weights - h * direction, pool=net.pool, image_size=net.image_size, eps=net.eps
        )
        fd = (summed_output(plus, images) - summed_output(minus, images)) / (2 * h)
        assert np.isclose(np.sum(grad * direction), fd, rtol=1e-7)


def test_unit_is_the_network_pooling_output_on_its_field(net, images):
    p = net.forward(images)
    side = net.field + net.pool - 1
    for m, i, j in [(0, 0, 0), (net.maps - 1, net.grid - 1, 1), (1, 1, net.grid - 1)]:
        unit = net.unit(m, i, j)
        assert unit.shape == (side, side)
        for n in range(len(images)):
            field = images[n, i : i + side, j : j + side]
            assert np.isclose(unit.value(field), p[n, m, i, j], rtol=1e-12)


def test_unit_types_are_translated_copies(net):
    """Units k apart are the same function of their fields."""
    k = net.tile
    assert len(net.unit_types()) == net.maps * k * k
    if net.grid > k:
        a, b = net.unit(1, 0, 0), net.unit(1, k, 0)
        np.testing.assert_array_equal(a.filters, b.filters)


def unit_reference(unit, x):
    """NumPy value, gradient and Hessian of sqrt(eps + x^T A x)."""
    A = unit.quadratic_matrix()
    x = x.ravel()
    g = np.sqrt(unit.eps + x @ A @ x)
    return g, A @ x / g, A / g - np.outer(A @ x, A @ x) / g**3


def test_unit_value_grad_hessian_match_numpy(net):
    unit = net.unit(1, 0, 1)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, *unit.shape))
    values, grads = unit.values_and_grads(X)
    for x, v, g in zip(X, values, grads, strict=True):
        ref_v, ref_g, ref_H = unit_reference(unit, x)
        assert np.isclose(v, ref_v, rtol=1e-13)
        assert relative_error(g.ravel(), ref_g) < 1e-12
        assert relative_error(unit.hessian(x), ref_H) < 1e-12
    np.testing.assert_allclose(unit.values(X), values, rtol=1e-14)


def test_unit_gradient_matches_finite_differences(net):
    unit = net.unit(0, 1, 0)
    x = np.random.default_rng(2).standard_normal(unit.shape)
    grad = unit.grad(x)
    for direction in np.random.default_rng(3).standard_normal((4, *unit.shape)):
        h = 1e-6
        fd = (unit.value(x + h * direction) - unit.value(x - h * direction)) / (2 * h)
        assert np.isclose(np.sum(grad * direction), fd, rtol=1e-8)


def test_fd_hessian_kernel_matches_column_loop_and_closed_form(net):
    unit = net.unit(2, 1, 1)
    x = np.random.default_rng(4).standard_normal(unit.shape)
    x /= np.linalg.norm(x)
    fast = unit.fd_hessian(x, 1e-5)
    slow = Unit.fd_hessian(unit, x, 1e-5)  # the generic column-by-column loop
    assert relative_error(fast, slow) < 1e-9
    assert relative_error((fast + fast.T) / 2, unit_reference(unit, x)[2]) < 1e-6


def test_geodesic_values_kernel_matches_generic_evaluation(net):
    unit = net.unit(0, 0, 0)
    rng = np.random.default_rng(6)
    x = rng.standard_normal(unit.shape)
    W = rng.standard_normal((5, *unit.shape))
    angles = rng.uniform(-3, 3, (5, 7))
    fast = unit.geodesic_values(x, W, 0.7, angles)
    slow = Unit.geodesic_values(unit, x, W, 0.7, angles)
    np.testing.assert_allclose(fast, slow, rtol=1e-13)


def test_kernels_accept_a_single_pooling_unit_built_by_hand():
    filters = np.random.default_rng(0).standard_normal((2, 2, 3, 3))
    unit = PoolingUnit(filters, eps=0.0)
    x = np.random.default_rng(1).standard_normal((4, 4))
    values = kernels.unit_values(unit.filters, 0.0, x[None])
    assert np.isclose(values[0], unit_reference(unit, x)[0])


def test_ascent_kernels_match_numpy_reference():
    """One step of the batched sphere ascent, against the same step written in NumPy."""
    from tcnn_widgets._sphere import ascent_accept, ascent_propose, evaluate, retract, tangent

    net = TiledCNN.random(maps=4, tile=2, field=3, pool=2, image_size=6, seed=0)
    unit = net.unit(1, 0, 0)
    rng = np.random.default_rng(0)
    rho = 1.3
    X = retract(rng.standard_normal((6, 16)), rho)
    values, G = evaluate(unit, X)
    R = tangent(G, X, rho)
    R[5] = 0.0  # a converged start stays put
    step = rng.uniform(0.01, 3.0, 6)
    values[0] = 1e9  # no trial can beat this: start 0 takes the rejection branch

    # NumPy reference
    active = np.linalg.norm(R, axis=1) > 1e-6 * np.linalg.norm(G, axis=1)
    trial = retract(X + (step * active)[:, None] * R, rho)
    trial_values, trial_G = evaluate(unit, trial)
    trial_R = tangent(trial_G, trial, rho)
    accept = active & (trial_values >= values + 1e-4 * step * np.sum(R**2, axis=1))
    s, y = trial - X, trial_R - R
    sy, ss = np.sum(s * y, axis=1), np.sum(s * s, axis=1)
    bb = np.where(sy < 0, ss / np.where(sy < 0, -sy, 1.0), 2 * step)
    new_step = np.where(accept, bb, np.where(active, 0.5 * step, step))
    new_step = np.clip(new_step, 1e-12 * rho, 1e6 * rho)
    new_X = np.where(accept[:, None], trial, X)

    got_trial, got_active = np.empty_like(X), np.empty(6, dtype=bool)
    assert ascent_propose(X, values, G, R, step, rho, 1e-6, got_trial, got_active) == active.sum()
    np.testing.assert_array_equal(got_active, active)
    np.testing.assert_allclose(got_trial, trial, rtol=1e-14, atol=1e-15)
    assert accept.any() and (active & ~accept).any()  # both branches are exercised
    ascent_accept(X, values, G, R, step, got_trial, trial_values, trial_G, got_active, rho)
    np.testing.assert_allclose(X, new_X, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(step, np.where(active, new_step, step), rtol=1e-12)
    np.testing.assert_allclose(R[accept], trial_R[accept], rtol=1e-12, atol=1e-15)
