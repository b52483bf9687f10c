"""Bad input gets a clear error that names what was wrong."""

import numpy as np
import pytest

from tcnn_widgets import Invariances, QuadraticUnit, TiledCNN, analyze, load_results


@pytest.fixture
def net():
    return TiledCNN.random(maps=4, tile=2, field=3, pool=2, image_size=6, seed=0)


def test_weights_of_wrong_shape_or_dtype():
    with pytest.raises(ValueError, match="weights must have shape"):
        TiledCNN(np.zeros((4, 2, 3, 3, 3)))
    with pytest.raises(TypeError, match="weights must be a float array"):
        TiledCNN(np.zeros((4, 2, 2, 3, 3), dtype=int))
    with pytest.raises(ValueError, match="weights contain NaN"):
        TiledCNN(np.full((4, 2, 2, 3, 3), np.nan))


def test_bad_architecture():
    with pytest.raises(ValueError, match="maps must be >= 1"):
        TiledCNN.random(maps=0)
    with pytest.raises(ValueError, match="tile must be >= 1"):
        TiledCNN.random(tile=0)
    with pytest.raises(TypeError, match="pool must be an int"):
        TiledCNN.random(pool=2.5)
    with pytest.raises(ValueError, match="more than the 8-pixel image"):
        TiledCNN.random(maps=2, field=8, pool=3, image_size=8)
    with pytest.raises(ValueError, match="cannot be orthonormal in 3x3 = 9 dimensions"):
        TiledCNN.random(maps=10, field=3, pool=2, image_size=6)
    with pytest.raises(ValueError, match="eps must be finite"):
        TiledCNN.random(maps=2, field=3, pool=2, image_size=6, eps=-1.0)


def test_bad_images(net):
    with pytest.raises(ValueError, match=r"images must have shape \(N, 6, 6\)"):
        net.forward(np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match="images contain NaN"):
        net.forward(np.full((1, 6, 6), np.inf))
    with pytest.raises(TypeError, match="images must be a real-valued array"):
        net.forward(np.array([["a"] * 6] * 6))


def test_unit_position_outside_the_grid(net):
    with pytest.raises(ValueError, match=r"map must be an int in 0..3"):
        net.unit(4, 0, 0)
    with pytest.raises(ValueError, match=r"row must be an int in 0..2"):
        net.unit(0, -1, 0)
    with pytest.raises(ValueError, match=r"col must be an int in 0..2"):
        net.unit(0, 0, 3)


def test_unit_input_checks(net):
    unit = net.unit(0, 0, 0)
    with pytest.raises(
        ValueError, match=r"x has shape \(3, 3\); this unit takes images of shape \(4, 4\)"
    ):
        unit.value(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="x contains NaN"):
        unit.grad(np.full((4, 4), np.nan))


def test_bad_analysis_settings(net):
    unit = net.unit(0, 0, 0)
    for radius in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="radius must be a positive number"):
            analyze(unit, radius=radius)
    with pytest.raises(ValueError, match="restarts must be an int >= 1"):
        analyze(unit, restarts=0)
    with pytest.raises(ValueError, match="hessian must be 'fd', 'exact' or a callable"):
        analyze(unit, hessian="magic")
    with pytest.raises(ValueError, match="threshold must be in"):
        analyze(unit, threshold=1.5)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        analyze(unit, seed=-3)
    with pytest.raises(TypeError, match="analyze takes a Unit"):
        analyze(42)
    with pytest.raises(TypeError, match=r"units\[1\] is a str"):
        analyze([unit, "unit"])


def test_exact_hessian_where_none_exists():
    def f(x):
        return float(np.sum(x**3))

    def grad(x):
        return 3 * x**2

    with pytest.raises(ValueError, match="no closed-form Hessian"):
        analyze(f, grad, shape=(2, 2), hessian="exact", seed=0)


def test_callable_needs_grad_and_shape():
    with pytest.raises(TypeError, match="needs both grad and shape"):
        analyze(lambda x: 0.0)
    with pytest.raises(TypeError, match="grad must be callable"):
        analyze(lambda x: 0.0, 3, shape=(2, 2))
    with pytest.raises(ValueError, match=r"shape\[0\] must be >= 1"):
        analyze(lambda x: 0.0, lambda x: x, shape=(0, 3))


def test_grad_of_wrong_shape_or_nan():
    with pytest.raises(ValueError, match=r"grad returned shape \(3,\), expected \(2, 2\)"):
        analyze(lambda x: float(x.sum()), lambda x: np.ones(3), shape=(2, 2), seed=0)
    with pytest.raises(ValueError, match="grad returned NaN"):
        analyze(lambda x: float(x.sum()), lambda x: np.full((2, 2), np.nan), shape=(2, 2), seed=0)
    with pytest.raises(ValueError, match="f returned NaN"):
        analyze(lambda x: np.nan, lambda x: np.ones((2, 2)), shape=(2, 2), seed=0)


def test_constant_unit():
    with pytest.raises(ValueError, match="a constant unit has no optimal stimulus"):
        analyze(lambda x: 1.0, lambda x: np.zeros((3, 3)), shape=(3, 3), seed=0)


def test_hessian_callable_of_wrong_shape():
    unit = QuadraticUnit(np.eye(4))
    with pytest.raises(ValueError, match=r"hessian callable returned shape \(3, 3\)"):
        analyze(unit, hessian=lambda x: np.eye(3), seed=0)
    with pytest.raises(ValueError, match="hessian callable returned NaN or infinite values"):
        analyze(unit, hessian=lambda x: np.full((4, 4), np.nan), seed=0)


def test_quadratic_unit_checks():
    with pytest.raises(ValueError, match="H must be symmetric"):
        QuadraticUnit(np.triu(np.ones((4, 4))))
    with pytest.raises(ValueError, match="f must have 4 entries"):
        QuadraticUnit(np.eye(4), np.ones(3))
    with pytest.raises(ValueError, match="pass shape"):
        QuadraticUnit(np.eye(5))


def test_corrupt_or_mismatched_files(tmp_path, net):
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable .npz file"):
        TiledCNN.load(tmp_path / "garbage.npz")
    net.save(tmp_path / "net.npz")
    data = (tmp_path / "net.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        TiledCNN.load(tmp_path / "truncated.npz")
    with pytest.raises(ValueError, match="lacks the arrays"):
        load_results(tmp_path / "net.npz")
    with pytest.raises(ValueError, match="stored results lack 'stimulus'; not an Invariances file"):
        Invariances.load(tmp_path / "net.npz")
    np.savez(tmp_path / "badshape.npz", weights=np.zeros((2, 3)), pool=2, image_size=6, eps=1e-4)
    with pytest.raises(ValueError, match="holds an invalid network: weights must have shape"):
        TiledCNN.load(tmp_path / "badshape.npz")
    np.savez(
        tmp_path / "baddtype.npz",
        weights=np.zeros((2, 1, 1, 3, 3)),
        pool=2.0,
        image_size=6,
        eps=1e-4,
    )
    with pytest.raises(ValueError, match="'pool' has dtype float64"):
        TiledCNN.load(tmp_path / "baddtype.npz")
    with pytest.raises(FileNotFoundError, match="no file at"):
        TiledCNN.load(tmp_path / "missing.npz")


def test_pickled_arrays_are_refused(tmp_path):
    np.savez(tmp_path / "objects.npz", weights=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a readable .npz file"):
        TiledCNN.load(tmp_path / "objects.npz")


def test_failed_save_leaves_nothing_behind(tmp_path, net):
    result = analyze(net.unit(0, 0, 0), seed=0)
    result.name = np.array([object()], dtype=object)  # cannot be stored without pickle
    with pytest.raises(TypeError, match="object arrays need pickle"):
        result.save(tmp_path / "r.npz")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        net.save(tmp_path / "no" / "such" / "folder.npz")


def test_pooling_unit_stacks_are_checked(net):
    unit = net.unit(0, 0, 0)
    with pytest.raises(ValueError, match=r"expected a stack of images of shape \(N, 4, 4\)"):
        unit.values(np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match=r"expected a stack of images of shape \(N, 4, 4\)"):
        unit.values_and_grads(np.ones((4, 4)))
    with pytest.raises(ValueError, match="the images contain NaN"):
        unit.values(np.full((2, 4, 4), np.nan))


def test_settings_of_the_wrong_type():
    unit = QuadraticUnit(np.eye(4))
    with pytest.raises(TypeError, match="restarts must be an int, got True"):
        analyze(unit, restarts=True)
    with pytest.raises(TypeError, match="radius must be a real number, got None"):
        analyze(unit, radius=None)
    with pytest.raises(TypeError, match="threshold must be a real number"):
        analyze(unit, threshold="0.7")
    with pytest.raises(TypeError, match="a Unit already knows its gradient and shape"):
        analyze(unit, lambda x: x, shape=(2, 2))


def test_exact_hessian_is_refused_before_any_search():
    calls = []

    def f(x):
        calls.append(1)
        return float(np.sum(x**3))

    with pytest.raises(ValueError, match="no closed-form Hessian"):
        analyze(f, lambda x: 3 * x**2, shape=(2, 2), hessian="exact", seed=0)
    assert calls == []


def test_zero_input_with_eps_zero_has_a_finite_gradient():
    """sqrt(x^T A x) at x = 0 (eps = 0): the subgradient 0, not a division by zero."""
    net = TiledCNN.random(maps=4, tile=2, field=3, pool=2, image_size=6, seed=0, eps=0.0)
    zero = np.zeros((6, 6))
    assert np.all(net.input_gradient(zero) == 0)
    unit = net.unit(0, 0, 0)
    assert unit.value(np.zeros((4, 4))) == 0
    assert np.all(unit.grad(np.zeros((4, 4))) == 0)
