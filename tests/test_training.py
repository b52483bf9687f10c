"""TICA objective kernels and training: references, orthogonality, checkpoints, Ctrl-C."""

from __future__ import annotations

import numpy as np
import pytest

from tcnn_widgets.network import TiledCNN
from tcnn_widgets.training import orthogonality_error, train_tica
from tcnn_widgets.training import trainer as training
from tcnn_widgets.training._objective import LANES, tica_objective, tica_objective_reference
from tcnn_widgets.training.data import preprocess
from tcnn_widgets.training.layerwise import layer1_responses, stack, train_two_layer


def relative_error(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


# ---- the objective and its gradient -------------------------------------------------------------


@pytest.mark.parametrize(
    "maps, tile, field, pool, size, count",
    [
        (16, 2, 8, 3, 32, 2 * LANES + 3),  # the one-layer network, a partial last chunk
        (5, 3, 5, 2, 14, 3),  # odd maps, k = 3, fewer images than one chunk
        (4, 1, 3, 3, 9, LANES),  # ordinary convolution
        (3, 2, 3, 1, 7, 5),  # no pooling
    ],
)
def test_fast_objective_matches_float64_references(maps, tile, field, pool, size, count):
    rng = np.random.default_rng(maps + size)
    X = rng.standard_normal((count, size, size))
    W = rng.standard_normal((maps, tile, tile, field, field)) / field
    f, g = tica_objective(X, W, pool=pool, eps=1e-4)
    f_ref, g_ref = tica_objective_reference(X, W, pool=pool, eps=1e-4)
    assert abs(f - f_ref) / f_ref < 1e-5
    assert relative_error(g, g_ref) < 1e-5
    net = TiledCNN(W, pool=pool, image_size=size, eps=1e-4)  # the engine's float64 kernels
    assert f == pytest.approx(net.forward(X).sum(), rel=1e-5)
    assert relative_error(g, net.weight_gradient(X)) < 1e-5


def test_reference_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 9, 9))
    W = rng.standard_normal((3, 2, 2, 3, 3))
    _, g = tica_objective_reference(X, W, pool=2, eps=1e-3)
    h = 1e-6
    for index in [(0, 0, 0, 0, 0), (1, 1, 0, 2, 1), (2, 1, 1, 1, 2)]:
        E = np.zeros_like(W)
        E[index] = h
        up, _ = tica_objective_reference(X, W + E, pool=2, eps=1e-3)
        down, _ = tica_objective_reference(X, W - E, pool=2, eps=1e-3)
        assert g[index] == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_objective_is_additive_over_images():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2 * LANES + 1, 16, 16))
    W = rng.standard_normal((4, 2, 2, 4, 4))
    f, g = tica_objective(X, W)
    f1, g1 = tica_objective(X[:5], W)
    f2, g2 = tica_objective(X[5:], W)
    assert f == pytest.approx(f1 + f2, rel=1e-6)
    assert relative_error(g, g1 + g2) < 1e-5


def test_objective_bad_input():
    W = np.zeros((2, 1, 1, 3, 3))
    with pytest.raises(ValueError, match="NaN"):
        tica_objective(np.full((1, 8, 8), np.nan), W)
    with pytest.raises(ValueError, match=r"shape \(N, S, S\)"):
        tica_objective(np.zeros((8, 8)), W)
    with pytest.raises(ValueError, match="too small"):
        tica_objective(np.zeros((1, 4, 4)), W)


# ---- training ----------------------------------------------------------------------------------


def small_images(count: int = 40, size: int = 16, seed: int = 0) -> np.ndarray:
    """Smooth random images (so that whitening and sparsity have something to do)."""
    rng = np.random.default_rng(seed)
    X = np.cumsum(np.cumsum(rng.standard_normal((count, size, size)), axis=1), axis=2)
    X -= X.mean(axis=(1, 2), keepdims=True)
    return X / X.std()


SMALL = dict(maps=4, tile=2, field=4, pool=2, progress=False)


@pytest.fixture(autouse=True)
def few_whitening_patches(monkeypatch):
    """Small images need fewer patches for the whitening estimate (keeps tests fast)."""
    original = training.patch_whitening
    monkeypatch.setattr(
        training,
        "patch_whitening",
        lambda X, field, components, seed: original(
            X, field, components=components, patches=5000, seed=seed
        ),
    )


@pytest.mark.parametrize("method", ["projected", "lbfgs"])
def test_training_decreases_objective_and_keeps_orthogonality(method, monkeypatch):
    errors = []
    original = training._Objective.__call__

    def checked(self, V):  # every point the optimizer evaluates is orthonormal
        errors.append(orthogonality_error(V))
        return original(self, V)

    monkeypatch.setattr(training._Objective, "__call__", checked)
    X = small_images()
    result = train_tica(X, steps=8, method=method, seed=3, **SMALL)
    assert result.steps == 8 and len(result.objective) == 9
    assert np.all(np.diff(result.objective) < 0)
    assert result.objective[-1] < 0.95 * result.objective[0]
    assert max(errors) < 1e-10 and result.orthogonality_error < 1e-10
    # the returned network is W = V Z and its objective is the last one recorded
    V, Z = result.filters, result.whitening
    np.testing.assert_allclose(
        result.network.weights.reshape(4, 2, 2, 16), V.reshape(4, 2, 2, 16) @ Z, atol=1e-12
    )
    total = result.network.forward(X).sum() / len(X)
    assert total == pytest.approx(result.objective[-1], rel=1e-5)
    assert np.all(np.diff(result.times) >= 0) and result.seconds >= result.times[-1]


def test_training_stops_when_converged():
    result = train_tica(small_images(), steps=500, tolerance=1e-3, seed=1, **SMALL)
    assert result.converged and 10 < result.steps < 500
    f = result.objective
    assert f[-11] - f[-1] < 1e-3 * f[-11]  # stopped: converged ...
    assert f[-12] - f[-2] >= 1e-3 * f[-12]  # ... and not a step earlier


def test_training_is_seeded():
    X = small_images()
    a = train_tica(X, steps=3, seed=5, **SMALL)
    b = train_tica(X, steps=3, seed=5, **SMALL)
    c = train_tica(X, steps=3, seed=6, **SMALL)
    np.testing.assert_array_equal(a.filters, b.filters)
    assert np.abs(a.filters - c.filters).max() > 1e-3


def test_without_whitening_filters_are_orthonormal_in_pixels():
    result = train_tica(small_images(), steps=2, whiten=False, **SMALL)
    np.testing.assert_array_equal(result.whitening, np.eye(16))
    assert orthogonality_error(result.network.weights) < 1e-10


def test_checkpoint_and_resume_continue_the_same_run(tmp_path):
    X = small_images()
    straight = train_tica(X, steps=9, method="projected", seed=2, **SMALL)
    path = tmp_path / "run.npz"
    first = train_tica(
        X, steps=5, method="projected", seed=2, checkpoint=path, checkpoint_every=2, **SMALL
    )
    assert first.steps == 5
    resumed = train_tica(X, steps=9, method="projected", seed=99, resume=path, **SMALL)
    assert resumed.steps == 9
    np.testing.assert_allclose(resumed.filters, straight.filters, atol=1e-12)
    np.testing.assert_allclose(resumed.objective, straight.objective, rtol=1e-12)
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left


def test_resume_from_another_architecture_is_refused(tmp_path):
    X = small_images()
    path = tmp_path / "run.npz"
    train_tica(X, steps=1, checkpoint=path, **SMALL)
    with pytest.raises(ValueError, match="another network"):
        train_tica(X, steps=2, resume=path, **{**SMALL, "maps": 5})
    with pytest.raises(ValueError, match="another network"):
        train_tica(X[:, :12, :12], steps=2, resume=path, **SMALL)
    with pytest.raises(FileNotFoundError):
        train_tica(X, steps=2, resume=tmp_path / "missing.npz", **SMALL)


def test_ctrl_c_keeps_last_accepted_weights(tmp_path, monkeypatch):
    X = small_images()
    reference = train_tica(X, steps=3, method="projected", seed=4, **SMALL)
    calls = {"n": 0}
    original = training.tica_objective

    def interrupt_after_three_steps(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > reference.evaluations:  # during the fourth step
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "tica_objective", interrupt_after_three_steps)
    path = tmp_path / "ck.npz"
    result = train_tica(
        X, steps=10, method="projected", seed=4, checkpoint=path, checkpoint_every=100, **SMALL
    )
    assert result.interrupted and result.steps == 3
    np.testing.assert_array_equal(result.filters, reference.filters)
    saved = np.load(path)
    np.testing.assert_array_equal(saved["filters"], reference.filters)
    assert int(saved["steps"]) == 3


def test_bad_training_input():
    X = small_images()
    bad = X.copy()
    bad[3, 2, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite.*1 of 40"):
        train_tica(bad, steps=1, **SMALL)
    with pytest.raises(ValueError, match="method"):
        train_tica(X, steps=1, method="adam", **SMALL)
    with pytest.raises(ValueError, match="shape"):
        train_tica(X[0], steps=1, **SMALL)
    with pytest.raises(ValueError, match="at most 8 maps"):
        train_tica(X, steps=1, **{**SMALL, "maps": 9})


def test_progress_bar_shows_objective(capsys):
    train_tica(small_images(), steps=2, **{**SMALL, "progress": True})
    assert "objective=" in capsys.readouterr().err


# ---- the shipped network ---------------------------------------------------------------


def test_shipped_network_loads_offline_with_its_record():
    from tcnn_widgets import pretrained

    net = pretrained.load_pretrained()
    assert (net.maps, net.tile, net.field, net.pool, net.image_size) == (16, 2, 8, 3, 32)
    assert net.eps == 1e-4
    assert pretrained.WEIGHTS.stat().st_size < 200_000
    arrays = np.load(pretrained.WEIGHTS)
    V, Z = arrays["filters"], arrays["whitening"]
    assert orthogonality_error(V) < 1e-10
    np.testing.assert_allclose(
        net.weights.reshape(16, 2, 2, 64), V.reshape(16, 2, 2, 64) @ Z, atol=1e-12
    )
    record = pretrained.pretrained_record()
    for key in (
        "command",
        "data",
        "preprocessing",
        "seed",
        "steps",
        "final_objective",
        "training_seconds",
    ):
        assert key in record
    assert record["command"].startswith("python scripts/train_pretrained.py")
    curve = record["objective_curve"]["objective"]
    assert len(curve) == record["steps"] + 1 and curve[-1] == record["final_objective"]
    assert np.all(np.diff(curve) < 0)


def test_training_runs_offline_on_the_embedded_photographs(monkeypatch):
    from tcnn_widgets.training.data import embedded_images, preprocess

    monkeypatch.undo()  # the real whitening estimate
    images = preprocess(embedded_images()[::4])
    result = train_tica(images, steps=4, seed=0, progress=False)
    assert result.steps == 4 and result.objective[-1] < result.objective[0]
    assert result.network.maps == 16 and result.network.image_size == 32


def test_eps_zero_is_refused_for_training():
    """The objective's gradient h / p needs p > 0: eps = 0 gets a clear error."""
    images = np.random.default_rng(0).standard_normal((5, 12, 12))
    weights = np.random.default_rng(1).standard_normal((2, 2, 2, 4, 4))
    with pytest.raises(ValueError, match="eps must be finite and > 0"):
        tica_objective(images, weights, pool=2, eps=0.0)


# ---- colour and two layers ---------------------------------------------------------------------


@pytest.mark.parametrize("channels, tile, count", [(3, 2, LANES + 3), (2, 3, 5), (16, 2, 3)])
def test_fast_objective_with_channels_matches_float64_references(channels, tile, count):
    rng = np.random.default_rng(channels)
    X = rng.standard_normal((count, channels, 13, 13))
    W = rng.standard_normal((5, tile, tile, channels, 4, 4)) / 4
    f, g = tica_objective(X, W, pool=3, eps=1e-4)
    f_ref, g_ref = tica_objective_reference(X, W, pool=3, eps=1e-4)
    assert abs(f - f_ref) / f_ref < 1e-5 and g.shape == W.shape
    assert relative_error(g, g_ref) < 1e-5
    net = TiledCNN(W, pool=3, image_size=13, eps=1e-4)  # float64 kernels with channels
    assert f == pytest.approx(net.forward(X).sum(), rel=1e-5)
    assert relative_error(g, net.weight_gradient(X)) < 1e-5
    with pytest.raises(ValueError, match="channels"):
        tica_objective(X[:, :1], W, pool=3)


def colour_images(count: int = 40) -> np.ndarray:
    """Smooth random colour images with correlated channels (float64, (N, 3, 16, 16))."""
    rng = np.random.default_rng(12)
    smooth = np.cumsum(np.cumsum(rng.standard_normal((count, 3, 16, 16)), 2), 3)
    return preprocess(10 * (smooth + smooth[:, :1]))


LAYERS = dict(
    layer1=dict(maps=4, tile=2, field=4, pool=2, components=8),
    layer2=dict(maps=3, tile=2, field=2, pool=2, components=8),
)


def test_two_layer_training_decreases_each_objective_and_stacks_the_layers(tmp_path):
    X = colour_images()
    result = train_two_layer(X, steps=6, seed=1, progress=False, **LAYERS)
    net = result.network
    assert not result.interrupted and net.layers == 2 and net.input_shape == (3, 16, 16)
    for trained in (result.layer1, result.layer2):
        assert np.all(np.diff(trained.objective) < 0)
        assert trained.orthogonality_error < 1e-10
    # layer 1 is the trained layer-1 network; layer 2 was trained on its pooled maps
    assert np.array_equal(net.weights, result.layer1.network.weights)
    assert np.array_equal(net.weights2, result.layer2.network.weights)
    p1 = result.layer1.network.forward(X)
    assert net.forward(X, layer=1) == pytest.approx(p1, rel=1e-12)
    assert result.layer2.network.forward(p1).sum() / len(X) == pytest.approx(
        result.layer2.objective[-1], rel=1e-4
    )
    assert net.forward(X, layer=2).sum() / len(X) == pytest.approx(
        result.layer2.objective[-1], rel=1e-4
    )
    np.testing.assert_allclose(layer1_responses(result.layer1.network, X, batch=7), p1, rtol=1e-6)


def test_two_layer_checkpoints_resume_and_ctrl_c(tmp_path, monkeypatch):
    X = colour_images()
    base = tmp_path / "run"
    straight = train_two_layer(X, steps=5, seed=2, progress=False, method="projected", **LAYERS)
    calls = {"n": 0}
    original = training.tica_objective

    def interrupt_in_layer_two(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > straight.layer1.evaluations + 4:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "tica_objective", interrupt_in_layer_two)
    stopped = train_two_layer(
        X, steps=5, seed=2, progress=False, method="projected", checkpoint=base, **LAYERS
    )
    assert stopped.interrupted and stopped.network is None and stopped.layer2.interrupted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.layer1.npz", "run.layer2.npz"]
    monkeypatch.setattr(training, "tica_objective", original)
    resumed = train_two_layer(
        X,
        steps=5,
        seed=2,
        progress=False,
        method="projected",
        checkpoint=base,
        resume=True,
        **LAYERS,
    )
    assert not resumed.interrupted and resumed.layer1.steps == 5 and resumed.layer2.steps == 5
    np.testing.assert_allclose(resumed.network.weights2, straight.network.weights2, atol=1e-10)
    np.testing.assert_allclose(resumed.layer2.objective, straight.layer2.objective, rtol=1e-10)


def test_two_layer_bad_settings():
    X = colour_images(8)
    with pytest.raises(ValueError, match="layer2 takes the keys"):
        train_two_layer(X, layer2=dict(size=3), progress=False)
    with pytest.raises(ValueError, match="resume=True needs checkpoint"):
        train_two_layer(X, resume=True, progress=False)
    with pytest.raises(ValueError, match="must take"):
        stack(TiledCNN.random(4, 2, 4, 2, image_size=16, channels=3), TiledCNN.random(3, 2, 2, 2))


def test_shipped_two_layer_network_loads_offline_with_its_record():
    from tcnn_widgets import pretrained

    net = pretrained.load_pretrained("two_layer_color")
    assert net.layers == 2 and net.input_shape == (3, 32, 32)
    assert (net.maps, net.tile, net.field, net.pool) == (16, 2, 8, 3)
    assert (net.maps2, net.tile2, net.field2, net.pool2) == (16, 2, 4, 3)
    assert (pretrained.FOLDER / "two_layer_color.npz").stat().st_size < 300_000
    assert pretrained.load_pretrained().layers == 1  # the default stays the one-layer network
    record = pretrained.pretrained_record("two_layer_color")
    assert record["command"].startswith("python scripts/train_two_layer.py")
    assert record["training_seconds"] < 30 * 60
    for name in ("layer1", "layer2"):
        layer = record["layers"][name]
        curve = layer["objective_curve"]["objective"]
        assert len(curve) == layer["steps"] + 1 and curve[-1] == layer["final_objective"]
        assert np.all(np.diff(curve) < 0) and layer["orthogonality_error"] < 1e-10
    with pytest.raises(ValueError, match="name must be one of"):
        pretrained.load_pretrained("three_layers")
