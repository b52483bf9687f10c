"""Two-layer and colour tiled CNNs: kernels against NumPy references (1e-10), gradients
against finite differences, Hessian-vector products against complex-step references and
closed forms, files, layer-wise training and the shipped two-layer network."""

import numpy as np
import pytest

import tcnn_widgets as tw
from tcnn_widgets import TiledCNN
from tcnn_widgets.network import FORMAT_VERSION
from tcnn_widgets.tiled_units import LayerTwoUnit
from tcnn_widgets.units import PoolingUnit

# ---- NumPy references (complex-safe, so that the complex step gives exact HVPs) ------------


def ref_simple(X, W):
    """H[n, m, i, j] = sum_cab W[m, i%k, j%k, c, a, b] X[n, c, i+a, j+b]."""
    k, r = W.shape[1], W.shape[-1]
    L = X.shape[-1] - r + 1
    patches = np.lib.stride_tricks.sliding_window_view(X, (r, r), axis=(2, 3))  # N,C,L,L,r,r
    tiled = W[:, np.arange(L)[:, None] % k, np.arange(L)[None, :] % k]  # M,L,L,C,r,r
    return np.einsum("ncijab,mijcab->nmij", patches, tiled)


def ref_pool(H, P, eps):
    windows = np.lib.stride_tricks.sliding_window_view(H**2, (P, P), axis=(2, 3))
    return np.sqrt(eps + windows.sum(axis=(-1, -2)))


def ref_forward(net, X, layer):
    """Pooled outputs of ``layer`` for images X of net.input_shape (stacked)."""
    W = net.weights if net.weights.ndim == 6 else net.weights[:, :, :, None]
    X = X.reshape(len(X), net.channels, net.image_size, net.image_size)
    p = ref_pool(ref_simple(X, W), net.pool, net.eps)
    if layer == 2:
        p = ref_pool(ref_simple(p, net.weights2), net.pool2, net.eps2)
    return p


def ref_unit_value_grad(unit, x):
    """Value and gradient of a LayerTwoUnit on x (c, s, s) by NumPy backpropagation."""
    F1, F2, P1 = unit.filters1, unit.filters2, unit.pool
    M1, L, _, C, r, _ = F1.shape
    P2, r2 = F2.shape[0], F2.shape[-1]
    G = L - P1 + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, (r, r), axis=(1, 2))  # C,L,L,r,r
    h1 = np.einsum("cijab,mijcab->mij", windows, F1)
    p1 = ref_pool(h1[None], P1, unit.eps1)[0]
    windows2 = np.lib.stride_tricks.sliding_window_view(p1, (r2, r2), axis=(1, 2))
    h2 = np.einsum("muvab,uvmab->uv", windows2, F2)
    g = np.sqrt(unit.eps2 + np.sum(h2**2))
    dp = np.zeros((M1, G, G), dtype=x.dtype)
    for u in range(P2):
        for v in range(P2):
            dp[:, u : u + r2, v : v + r2] += (h2[u, v] / g) * F2[u, v]
    collected = np.zeros((M1, L, L), dtype=x.dtype)
    for u in range(P1):
        for v in range(P1):
            collected[:, u : u + G, v : v + G] += dp / p1
    dh1 = collected * h1
    grad = np.zeros_like(x)
    for i in range(L):
        for j in range(L):
            grad[:, i : i + r, j : j + r] += np.einsum("m,mcab->cab", dh1[:, i, j], F1[:, i, j])
    return g, grad


def complex_step_hvp(unit, x, v, h=1e-30):
    """Exact (to rounding) H v = Im grad(x + i h v) / h."""
    return ref_unit_value_grad(unit, x + 1j * h * v)[1].imag / h


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


NETWORKS = [
    dict(
        maps=3,
        tile=1,
        field=3,
        pool=2,
        image_size=12,
        channels=3,
        layer2=dict(maps=2, tile=1, field=2, pool=2),
    ),
    dict(
        maps=4,
        tile=2,
        field=3,
        pool=3,
        image_size=14,
        channels=3,
        layer2=dict(maps=3, tile=2, field=2, pool=2),
    ),
    dict(
        maps=4,
        tile=2,
        field=3,
        pool=2,
        image_size=15,
        channels=2,
        layer2=dict(maps=2, tile=3, field=3, pool=2),
    ),
    dict(
        maps=3,
        tile=2,
        field=3,
        pool=2,
        image_size=12,
        channels=None,
        layer2=dict(maps=2, tile=2, field=2, pool=2),
    ),
]


@pytest.fixture(
    params=NETWORKS, ids=lambda p: f"c{p['channels']}-k{p['tile']}-k{p['layer2']['tile']}"
)
def net(request):
    p = dict(request.param)
    return TiledCNN.random(
        p.pop("maps"), p.pop("tile"), p.pop("field"), p.pop("pool"), seed=5, eps=1e-3, **p
    )


@pytest.fixture
def images(net):
    return np.random.default_rng(3).standard_normal((3, *net.input_shape))


# ---- network kernels -----------------------------------------------------------------------


def test_forward_both_layers_match_numpy(net, images):
    for layer in (1, 2):
        p = net.forward(images, layer=layer)
        maps, grid = (net.maps, net.grid) if layer == 1 else (net.maps2, net.grid2)
        assert p.shape == (3, maps, grid, grid)
        assert relative_error(p, ref_forward(net, images, layer)) < 1e-10
    assert np.array_equal(net.forward(images), net.forward(images, layer=2))


def test_input_gradient_both_layers_match_numpy_and_finite_differences(net, images):
    rng = np.random.default_rng(0)
    for layer in (1, 2):
        grad = net.input_gradient(images, layer=layer)
        assert grad.shape == images.shape
        for _ in range(3):
            d = rng.standard_normal(images.shape)
            # the complex step gives the exact directional derivative of the NumPy reference
            exact = ref_forward(net, images + 1e-30j * d, layer).sum().imag / 1e-30
            assert np.isclose(np.sum(grad * d), exact, rtol=1e-10)
            h = 1e-5
            fd = (
                ref_forward(net, images + h * d, layer).sum()
                - ref_forward(net, images - h * d, layer).sum()
            ) / (2 * h)
            assert np.isclose(np.sum(grad * d), fd, rtol=1e-6)


def test_weight_gradient_of_a_colour_layer_matches_finite_differences():
    net = TiledCNN.random(4, 2, 3, 2, seed=1, image_size=9, channels=3)
    X = np.random.default_rng(2).standard_normal((2, 3, 9, 9))
    grad = net.weight_gradient(X)
    assert grad.shape == net.weights.shape
    d = np.random.default_rng(4).standard_normal(grad.shape)
    h = 1e-6
    plus = TiledCNN(net.weights + h * d, pool=2, image_size=9, eps=net.eps)
    minus = TiledCNN(net.weights - h * d, pool=2, image_size=9, eps=net.eps)
    fd = (ref_forward(plus, X, 1).sum() - ref_forward(minus, X, 1).sum()) / (2 * h)
    assert np.isclose(np.sum(grad * d), fd, rtol=1e-7)


# ---- units ---------------------------------------------------------------------------------


def test_units_are_the_network_outputs_on_their_fields(net, images):
    for layer in (1, 2):
        p = ref_forward(net, images, layer)
        s = net.field_size(layer)
        grid = net.grid if layer == 1 else net.grid2
        for m, row, col in [(0, 0, 0), (1, grid - 1, 1), (1, 2, grid - 2)]:
            unit = net.unit(m, row, col, layer=layer)
            fields = images[..., row : row + s, col : col + s]
            assert unit.shape == fields.shape[1:]
            assert np.allclose(unit.values(fields), p[:, m, row, col], rtol=1e-12, atol=0)


def test_unit_classes_and_shapes(net):
    first, second = net.unit(0, 0, 0), net.unit(0, 0, 0, layer=2)
    assert isinstance(second, LayerTwoUnit) and not second.has_exact_hessian
    if net.weights.ndim == 5:
        assert isinstance(first, PoolingUnit) and first.shape == (net.field_size(1),) * 2
        assert second.shape == (net.field_size(2),) * 2
    else:
        assert isinstance(first, PoolingUnit) and first.has_exact_hessian
        assert first.shape == (net.channels, net.field_size(1), net.field_size(1))
        assert second.shape == (net.channels, net.field_size(2), net.field_size(2))


def test_layer2_unit_types_are_translated_copies(net):
    K = int(np.lcm(net.tile, net.tile2))
    types = net.unit_types(layer=2)
    assert len(types) == net.maps2 * K * K
    x = np.random.default_rng(1).standard_normal((2, *types[0].shape))
    for m in range(net.maps2):
        for a in range(min(K, net.grid2 - K)):
            moved = net.unit(m, a + K, a, layer=2)
            assert np.allclose(moved.values(x), types[(m * K + a) * K + a].values(x), rtol=1e-13)
    assert len(net.unit_types()) == net.maps * net.tile**2


def test_layer2_unit_gradient_matches_numpy_and_finite_differences(net):
    unit = net.unit(1, 1, 0, layer=2)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((4, *unit.shape))
    values, grads = unit.values_and_grads(X)
    assert np.allclose(unit.values(X), values, rtol=0, atol=0)
    for x, value, grad in zip(X, values, grads, strict=True):
        ref_value, ref_grad = ref_unit_value_grad(unit, x.reshape(unit._field_shape))
        assert abs(value - ref_value) < 1e-10 * abs(ref_value)
        assert relative_error(grad.ravel(), ref_grad.ravel()) < 1e-10
        d = rng.standard_normal(x.shape)
        h = 1e-6
        fd = (unit.value(x + h * d) - unit.value(x - h * d)) / (2 * h)
        assert np.isclose(np.sum(grad * d), fd, rtol=1e-7)


def test_layer2_parallel_and_serial_kernels_agree(net):
    unit = net.unit(1, 0, 0, layer=2)
    X = np.random.default_rng(12).standard_normal((40, *unit.shape))  # parallel kernel
    values, grads = unit.values_and_grads(X)
    for i in (0, 17, 39):  # one at a time: the serial kernel
        value, grad = unit.values_and_grads(X[i : i + 1])
        assert value[0] == values[i] and np.array_equal(grad[0], grads[i])
    assert np.array_equal(unit.values(X), values)


def test_layer2_hvp_matches_complex_step_reference(net):
    """Exact products (forward over reverse in Numba) to 1e-10, central differences to
    1e-6, both against the complex step of the NumPy gradient."""
    unit = net.unit(0, 1, 1, layer=2)
    rng = np.random.default_rng(7)
    x = rng.standard_normal(unit.shape)
    x /= np.linalg.norm(x)
    V = rng.standard_normal((5, *unit.shape))
    V[1] *= 1e3  # difference steps are relative to each vector's norm
    products = unit.hvp(x, V)
    differences = unit.fd_hvp(x, V, 1e-5)
    assert products.shape == differences.shape == V.shape
    field = x.reshape(unit._field_shape)
    for v, product, difference in zip(V, products, differences, strict=True):
        exact = complex_step_hvp(unit, field, v.reshape(unit._field_shape))
        assert relative_error(product.ravel(), exact.ravel()) < 1e-10
        assert relative_error(difference.ravel(), exact.ravel()) < 1e-6
    zero = np.zeros((1, *unit.shape))
    assert np.array_equal(unit.hvp(x, zero), zero) and np.array_equal(
        unit.fd_hvp(x, zero, 1e-5), zero
    )
    one = unit.hvp(x, V[0])  # one vector of the unit's shape: a stack of one product
    assert one.shape == (1, *unit.shape) and np.array_equal(one[0], products[0])


def test_hvp_kinds_and_the_analysis_of_both_layers():
    net = TiledCNN.random(
        4, 2, 3, 2, seed=4, image_size=12, channels=3, layer2=dict(maps=2, field=2, pool=2)
    )
    first, second = net.unit(0, 0, 0), net.unit(1, 0, 0, layer=2)
    assert first.has_exact_hvp and first.has_exact_hessian
    assert second.has_exact_hvp and not second.has_exact_hessian
    dense = tw.analyze(second, restarts=2, seed=0, method="dense", progress=False)
    free = tw.analyze(
        second, restarts=2, seed=0, method="matrix-free", directions=3, progress=False
    )
    assert dense.stimulus.shape == (3, 6, 6) and free.n_directions == 6
    kept = np.r_[dense.curvatures[:3], dense.curvatures[-3:]]
    np.testing.assert_allclose(free.curvatures, kept, rtol=1e-6, atol=1e-8)
    # exact products (checked against differences by the analysis) give the same answer
    scale = np.abs(dense.curvatures).max()
    for method, options, expected in (
        ("dense", {}, dense),
        ("matrix-free", {"directions": 3}, free),
    ):
        exact = tw.analyze(
            second, restarts=2, seed=0, method=method, hessian="exact", progress=False, **options
        )
        assert np.abs(exact.curvatures - expected.curvatures).max() < 1e-6 * scale
    exact = tw.analyze(first, restarts=2, seed=0, hessian="exact", progress=False)
    fd = tw.analyze(first, restarts=2, seed=0, progress=False)
    np.testing.assert_allclose(fd.curvatures, exact.curvatures, atol=1e-6)


def test_layer2_fd_hessian_is_symmetric_and_matches_hvp(net):
    unit = net.unit(1, 0, 1, layer=2)
    x = np.random.default_rng(8).standard_normal(unit.shape)
    H = unit.fd_hessian(x, 1e-5)
    n = x.size
    assert H.shape == (n, n)
    assert np.linalg.norm(H - H.T) < 1e-6 * np.linalg.norm(H)
    V = np.random.default_rng(9).standard_normal((3, n))
    products = unit.hvp(x, V.reshape(3, *unit.shape)).reshape(3, n)
    assert relative_error(products, V @ H.T) < 1e-6


@pytest.mark.parametrize("channels", [1, 3])
def test_channel_unit_hessian_and_hvp_are_exact(channels):
    net = TiledCNN.random(4, 2, 3, 2, seed=3, image_size=9, channels=channels, eps=1e-3)
    unit = net.unit(1, 1, 0)
    assert isinstance(unit, PoolingUnit) and unit.shape == (channels, 4, 4)
    rng = np.random.default_rng(10)
    x = rng.standard_normal(unit.shape)
    H = unit.hessian(x)
    # closed form against central differences of the NumPy gradient A x / g
    A = unit.quadratic_matrix()
    grad = lambda y: A @ y / np.sqrt(unit.eps + y @ A @ y)  # noqa: E731
    h, n = 1e-6, x.size
    fd = np.stack(
        [(grad(x.ravel() + h * e) - grad(x.ravel() - h * e)) / (2 * h) for e in np.eye(n)]
    )
    assert relative_error(H, fd) < 1e-7
    V = rng.standard_normal((4, *unit.shape))
    assert relative_error(unit.hvp(x, V).reshape(4, n), V.reshape(4, n) @ H) < 1e-12
    values, grads = unit.values_and_grads(x[None])
    assert np.isclose(values[0], np.sqrt(unit.eps + x.ravel() @ A @ x.ravel()), rtol=1e-12)
    assert relative_error(grads[0].ravel(), grad(x.ravel())) < 1e-12
    angles = rng.uniform(-1, 1, (4, 3))
    W = rng.standard_normal((4, *unit.shape))
    points = np.cos(angles)[..., None] * x.ravel() + 2.0 * np.sin(angles)[..., None] * W.reshape(
        4, 1, n
    )
    expected = unit.values(points.reshape(12, *unit.shape)).reshape(4, 3)
    assert np.allclose(unit.geodesic_values(x, W, 2.0, angles), expected, rtol=1e-12)


def test_layer2_geodesic_values_follow_the_sphere(net):
    unit = net.unit(0, 0, 0, layer=2)
    rng = np.random.default_rng(11)
    x, W = rng.standard_normal(unit.shape), rng.standard_normal((2, *unit.shape))
    angles = np.array([[0.0, 0.3], [-0.2, 1.0]])
    got = unit.geodesic_values(x, W, 1.5, angles)
    for d in range(2):
        for j in range(2):
            t = angles[d, j]
            assert np.isclose(got[d, j], unit.value(np.cos(t) * x + 1.5 * np.sin(t) * W[d]))


# ---- architecture, errors and files --------------------------------------------------------


def test_bad_arguments_name_what_is_wrong(net):
    with pytest.raises(ValueError, match="layer"):
        net.unit(0, 0, 0, layer=3)
    with pytest.raises(TypeError, match="layer"):
        net.forward(np.zeros((1, *net.input_shape)), layer=True)
    with pytest.raises(ValueError, match="map"):
        net.unit(net.maps2, 0, 0, layer=2)
    with pytest.raises(ValueError, match="images must have"):
        net.forward(np.zeros((1, 5, net.image_size, net.image_size)))
    with pytest.raises(ValueError, match="weights2"):
        TiledCNN(
            net.weights,
            pool=net.pool,
            image_size=net.image_size,
            weights2=np.ones((2, 1, 1, net.maps + 1, 2, 2)),
        )
    with pytest.raises(ValueError, match="layer-1 grid"):
        TiledCNN.random(4, 1, 3, 2, image_size=6, channels=3, layer2=dict(maps=2, field=4))
    with pytest.raises(ValueError, match="layer2 takes"):
        TiledCNN.random(4, 1, 3, 2, image_size=12, layer2=dict(map=2))
    one = TiledCNN.random(4, 1, 3, 2, image_size=9)
    assert one.layers == 1
    with pytest.raises(ValueError, match=r"layer must be an int in 1\.\.1"):
        one.unit(0, 0, 0, layer=2)
    with pytest.raises(ValueError, match=r"layer must be an int in 1\.\.1"):
        one.unit_types(layer=2)


def test_two_layer_colour_network_round_trips_through_a_file(tmp_path):
    net = TiledCNN.random(
        4,
        2,
        3,
        2,
        seed=2,
        image_size=12,
        channels=3,
        eps=1e-3,
        layer2=dict(maps=3, field=2, pool=2, eps=1e-2),
    )
    net.save(tmp_path / "two.npz")
    back = TiledCNN.load(tmp_path / "two.npz")
    assert back.layers == 2 and back.channels == 3 and back.eps2 == 1e-2 and back.pool2 == 2
    assert np.array_equal(back.weights2, net.weights2) and np.array_equal(back.weights, net.weights)
    with np.load(tmp_path / "two.npz") as data:
        assert int(data["version"]) == FORMAT_VERSION
    assert repr(back) == repr(net)


def test_version_1_files_load_as_before(tmp_path):
    net = TiledCNN.random(4, 2, 3, 2, seed=2, image_size=9)
    np.savez(
        tmp_path / "old.npz",
        weights=net.weights,
        pool=np.asarray(2),
        image_size=np.asarray(9),
        eps=np.asarray(net.eps),
    )
    old = TiledCNN.load(tmp_path / "old.npz")
    assert (
        old.layers == 1 and old.input_shape == (9, 9) and isinstance(old.unit(0, 0, 0), PoolingUnit)
    )
    assert np.array_equal(old.weights, net.weights)
    net.save(tmp_path / "new.npz")
    assert TiledCNN.load(tmp_path / "new.npz").input_shape == (9, 9)
    np.savez(
        tmp_path / "future.npz",
        version=np.asarray(FORMAT_VERSION + 1),
        weights=net.weights,
        pool=np.asarray(2),
        image_size=np.asarray(9),
        eps=np.asarray(net.eps),
    )
    with pytest.raises(ValueError, match="upgrade tcnn_widgets"):
        TiledCNN.load(tmp_path / "future.npz")
    np.savez(
        tmp_path / "half.npz",
        version=np.asarray(2),
        weights=net.weights,
        pool=np.asarray(2),
        image_size=np.asarray(9),
        eps=np.asarray(net.eps),
        weights2=np.ones((2, 1, 1, 4, 2, 2)),
    )
    with pytest.raises(ValueError, match="lacks"):
        TiledCNN.load(tmp_path / "half.npz")
