"""Bad input gets a clear error that names what was wrong."""

import dataclasses
import gc
import warnings

import numpy as np
import pytest

from tcnn_widgets import (
    Invariances,
    QuadraticUnit,
    TiledCNN,
    Unit,
    analyze,
    load_results,
    save_results,
)
from tcnn_widgets.training import embedded_images, load_cifar10, train_tica


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
    with pytest.raises(ValueError, match="eps must be >= 0"):
        TiledCNN.random(maps=2, field=3, pool=2, image_size=6, eps=-1.0)
    with pytest.raises(ValueError, match="eps must be a finite number"):
        TiledCNN.random(maps=2, field=3, pool=2, image_size=6, eps=float("nan"))


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
    for radius in (0.0, -1.0):
        with pytest.raises(ValueError, match="radius must be > 0"):
            analyze(unit, radius=radius)
    with pytest.raises(ValueError, match="radius must be a finite number"):
        analyze(unit, radius=np.nan)
    with pytest.raises(ValueError, match="restarts must be >= 1"):
        analyze(unit, restarts=0)
    with pytest.raises(ValueError, match="hessian must be 'auto', 'fd', 'exact' or a callable"):
        analyze(unit, hessian="magic")
    with pytest.raises(ValueError, match="threshold must be < 1"):
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


# ---- loaders trust nothing, savers write nothing that cannot be loaded ------------------------


@pytest.fixture(scope="module")
def saved_result(tmp_path_factory):
    unit = TiledCNN.random(maps=4, tile=2, field=3, pool=2, image_size=6, seed=0).unit(0, 0, 0)
    result = analyze(unit, seed=0, restarts=2)
    path = tmp_path_factory.mktemp("saved") / "unit.npz"
    result.save(path)
    return result, path


def test_a_npy_file_under_a_npz_name_is_refused_clearly(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    (tmp_path / "x.npy").rename(tmp_path / "x.npz")
    with pytest.raises(ValueError, match="not a readable .npz file"):
        Invariances.load(tmp_path / "x.npz")
    with pytest.raises(ValueError, match="not a readable .npz file"):
        load_results(tmp_path / "x.npz")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stimulus", np.nan, "stimulus contains NaN"),
        ("radius", -1.0, "radius must be a positive number"),
        ("threshold", 1.5, "threshold must be in"),
        ("video_ranges", 0.5, r"video_ranges must hold \[a, b\]"),
        ("method", "fast", "method must be 'dense' or 'matrix-free'"),
    ],
)
def test_impossible_stored_values_are_refused_on_load(
    saved_result, tmp_path, field, value, message
):
    _, path = saved_result
    with np.load(path) as stored:
        arrays = dict(stored)
    arrays[field] = np.full_like(arrays[field], value) if field != "method" else np.array(value)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        Invariances.load(tmp_path / "bad.npz")


def test_a_tampered_count_is_refused(saved_result, tmp_path):
    result, _ = saved_result
    path = tmp_path / "all.npz"
    save_results(path, [result, result])
    with np.load(path) as stored:
        arrays = dict(stored)
    for count in (0, 1, 3):
        arrays["count"] = np.asarray(count)
        np.savez(tmp_path / "tampered.npz", **arrays)
        with pytest.raises(ValueError, match="says it holds"):
            load_results(tmp_path / "tampered.npz")


def test_save_never_replaces_a_good_file_with_one_load_refuses(saved_result):
    result, path = saved_result
    before = path.read_bytes()
    broken = dataclasses.replace(result)
    broken.radius = -1.0  # a field changed after construction
    with pytest.raises(ValueError, match="radius must be a positive number"):
        broken.save(path)
    with pytest.raises(ValueError, match="radius must be a positive number"):
        save_results(path, [result, broken])
    assert path.read_bytes() == before


def test_float32_files_load_exactly_what_they_store(saved_result, tmp_path):
    result, _ = saved_result
    path = tmp_path / "small.npz"
    result.save(path, precision="float32")
    loaded = Invariances.load(path)
    np.testing.assert_array_equal(loaded.stimulus, result.stimulus)
    np.testing.assert_array_equal(loaded.curvatures, result.curvatures)
    np.testing.assert_array_equal(loaded.directions, result.directions.astype(np.float32))
    with pytest.raises(ValueError, match="precision must be one of"):
        result.save(path, precision="half")


def test_save_paths_are_checked_before_writing(saved_result, tmp_path):
    result, _ = saved_result
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        result.save(tmp_path / "missing" / "unit.npz")
    with pytest.raises(ValueError, match=r"path must end in \.npz"):
        result.save(tmp_path / "unit.json")
    with pytest.raises(TypeError, match="path must be a path"):
        result.save(3)


# ---- types and indices never reach NumPy or Numba unchecked -----------------------------------


@pytest.mark.parametrize("bad", [True, 1.0, "1", None])
def test_indices_of_the_wrong_type_name_the_argument(tiny_network, saved_result, bad):
    result, _ = saved_result
    with pytest.raises(TypeError, match="map must be an int"):
        tiny_network.unit(bad, 0, 0)
    with pytest.raises(TypeError, match="col must be an int"):
        tiny_network.unit(0, 0, bad)
    with pytest.raises(TypeError, match="rank must be an int"):
        result.index(bad)
    with pytest.raises(TypeError, match="rank must be an int"):
        result.frame(bad, 0.1)


def test_numpy_integers_are_accepted_everywhere(tiny_network, saved_result):
    result, _ = saved_result
    unit = tiny_network.unit(np.int64(1), np.int32(0), np.uint8(1))
    assert unit.name == "map 1, row 0, col 1"
    assert result.index(np.int64(0), "least") == result.n_directions - 1
    assert result.frames(np.int16(0), count=np.int64(3))[1].shape == (3, *result.shape)


def test_string_parameters_are_checked(saved_result):
    result, _ = saved_result
    with pytest.raises(ValueError, match="order must be one of 'most', 'least'"):
        result.index(0, "worst")
    with pytest.raises(ValueError, match="angle must be a finite number"):
        result.frame(0, float("nan"))


# ---- others -----------------------------------------------------------------------------------


def test_training_checks_its_checkpoint_folder_and_time_limit_before_the_work(tmp_path):
    images = np.random.default_rng(0).standard_normal((4, 16, 16))
    with pytest.raises(FileNotFoundError, match="checkpoint: folder"):
        train_tica(images, maps=4, field=4, pool=2, checkpoint=tmp_path / "no" / "c.npz")
    with pytest.raises(ValueError, match="time_limit must be a finite number"):
        train_tica(images, maps=4, field=4, pool=2, time_limit=float("nan"))


def test_in_memory_cifar_labels_outside_the_classes_are_refused():
    images = np.zeros((2, 32, 32), dtype=np.uint8)
    good = {"train_images": images, "test_images": images, "test_labels": np.array([0, 9])}
    with pytest.raises(ValueError, match=r"train_labels must be class indices 0..9"):
        load_cifar10({**good, "train_labels": np.array([3, 10])})
    with pytest.raises(ValueError, match=r"train_labels must be class indices 0..9"):
        load_cifar10({**good, "train_labels": np.array([-1, 2])})


def test_embedded_images_leave_no_file_open():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        images = embedded_images()
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert images.dtype == np.uint8 and images.shape[1:] == (32, 32)


# ---- accepted settings never give a silently wrong answer -------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"angles": 64}, "angles must be odd, so that the grid holds the angle 0"),
        ({"fd_step": 1e-300}, "fd_step must be >= 1e-10"),
        ({"radius": 1e200}, r"radius must be <= 1e\+100"),
        ({"radius": float("nan")}, "radius must be a finite number"),
        ({"threshold": float("nan")}, "threshold must be a finite number"),
    ],
)
def test_settings_that_would_give_wrong_answers_are_refused(tiny_network, setting, message):
    with pytest.raises(ValueError, match=message):
        analyze(tiny_network.unit(0, 0, 0), **setting)


# ---- outputs of user code are checked ---------------------------------------------------------


class _Energy(Unit):
    """g(x) = |x|^2 / 2 on 4 x 4 images, with outputs spoiled by ``spoil``."""

    shape = (4, 4)

    def __init__(self, spoil):
        self.spoil = spoil

    def values_and_grads(self, X):
        return self.spoil(0.5 * np.sum(X**2, axis=(1, 2)), X.copy())


@pytest.mark.parametrize(
    ("spoil", "error", "message"),
    [
        (lambda v, g: (v * np.nan, g), ValueError, "returned NaN or infinite activations"),
        (lambda v, g: (v, g * np.inf), ValueError, "returned NaN or infinite gradients"),
        (lambda v, g: (v[:1], g), ValueError, r"activations of shape \(1,\), expected"),
        (lambda v, g: (v, g[:, 0]), ValueError, r"gradients of shape \(\d+, 4\), expected"),
        (lambda v, g: (v + 0j, g), TypeError, "activations of dtype complex128; they must be real"),
        (lambda v, g: (v, g + 1j), TypeError, "gradients of dtype complex128"),
    ],
)
def test_bad_outputs_of_a_unit_subclass_get_clear_errors(spoil, error, message):
    with pytest.raises(error, match=message):
        analyze(_Energy(spoil), seed=0, restarts=2)


def test_a_unit_without_values_and_grads_says_what_to_implement():
    class Empty(Unit):
        shape = (3, 4, 4)

    with pytest.raises(NotImplementedError, match=r"must implement values_and_grads\(X\)"):
        analyze(Empty(), seed=0, restarts=2)


def test_a_grossly_non_symmetric_hessian_callable_is_refused():
    A = np.diag(np.arange(1.0, 17.0))
    with pytest.raises(ValueError, match="callable Hessian is not symmetric"):
        analyze(
            lambda x: 0.5 * x.ravel() @ A @ x.ravel(),
            lambda x: (A @ x.ravel()).reshape(4, 4),
            shape=(4, 4),
            hessian=lambda x: A + np.triu(np.ones((16, 16))),
            seed=0,
            restarts=2,
        )
