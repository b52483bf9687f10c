"""The PyTorch adapter (tcnn_widgets.torch) against independent references.

References: ``torch.func.hessian`` and ``scipy.linalg.null_space`` + ``eigh`` (not the
package's tangent basis), central differences, the Numba engine of the tiled CNN,
direct calls of the model's layers, and closed forms of the receptive field.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.linalg
import torch
import torchvision

import tcnn_widgets as tw
from tcnn_widgets import torch as tt


def small_cnn(seed=0, channels=1):
    """conv, batch-norm (eval, non-trivial statistics), ReLU, max-pool, conv, tanh, linear."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(channels, 4, 3),
        torch.nn.BatchNorm2d(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1),
        torch.nn.Tanh(),
        torch.nn.Flatten(),
        torch.nn.Linear(6 * 3 * 3, 5),
        torch.nn.Softplus(),
    )
    bn = net[1]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.uniform_(0.5, 1.5)
    bn.bias.data.uniform_(-0.2, 0.2)
    return net


def reference_function(u):
    """The unit as a plain torch function of one stimulus, without the adapter's batching."""

    def f(x):
        return u._forward(x[None])[0]

    return f


def reference_curvatures(u, x):
    """Curvatures eig(B^T H B) - mu from torch.func.hessian, B from scipy's null_space."""
    f = reference_function(u)
    xt = torch.tensor(x)
    H = torch.func.hessian(f)(xt).reshape(x.size, x.size).numpy()
    g = torch.func.grad(f)(xt).numpy().ravel()
    xf = x.ravel()
    mu = xf @ g / (xf @ xf)
    B = scipy.linalg.null_space(xf[None])
    return np.sort(np.linalg.eigvalsh(B.T @ ((H + H.T) / 2) @ B))[::-1] - mu


# ---- values, gradients, products -------------------------------------------------------


@pytest.mark.parametrize("layer", ["0", "1", "3", "5", "7", ""])
def test_values_and_grads_match_direct_autodiff(layer):
    net = small_cnn(channels=3)
    u = tt.unit(net, layer, 2, input_shape=(3, 8, 8))
    X = np.random.default_rng(0).standard_normal((5, 3, 8, 8))
    values, grads = u.values_and_grads(X)
    Xt = torch.tensor(X, requires_grad=True)
    model = net.double().eval()
    out = Xt
    for name, module in model.named_children():
        out = module(out)
        if name == layer:
            break
    if out.dim() == 4:
        out = out[:, 2, out.shape[2] // 2, out.shape[3] // 2]
    else:
        out = out[:, 2]
    (expected,) = torch.autograd.grad(out.sum(), Xt)
    np.testing.assert_allclose(values, out.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grads, expected.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(u.values(X), values, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("method", ["torch.func", "double backward", "one at a time"])
def test_hvp_matches_torch_func_hessian_and_central_differences(method):
    u = tt.unit(small_cnn(), "8", 1, input_shape=(8, 8))
    assert u.hvp_method == "double backward"  # the default below DOUBLE_BACKWARD_BELOW
    if method == "one at a time":  # a model that refuses batched backward passes
        u._batched_backward = False
    else:
        u.hvp_method = method
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 8))
    V = rng.standard_normal((7, 8, 8))
    HV = u.hvp(x, V)
    H = torch.func.hessian(reference_function(u))(torch.tensor(x)).reshape(64, 64).numpy()
    np.testing.assert_allclose(HV.reshape(7, 64), V.reshape(7, 64) @ H.T, rtol=0, atol=1e-13)
    h = 1e-5
    for v, hv in zip(V, HV, strict=True):
        plus, minus = u.values_and_grads(np.stack([x + h * v, x - h * v]))[1]
        fd = (plus - minus) / (2 * h)
        assert np.abs(fd - hv).max() <= 1e-6 * np.abs(hv).max()
    np.testing.assert_allclose(u.hessian(x), H, rtol=0, atol=1e-13)


def test_models_torch_func_refuses_fall_back_to_double_backward():
    class Square(torch.autograd.Function):  # old-style: torch.func refuses it
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    class CustomFunctionNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return torch.tanh(Square.apply(self.conv(x)))

    torch.manual_seed(3)
    u = tt.unit(CustomFunctionNet(), "", 1, input_shape=(6, 6))
    rng = np.random.default_rng(14)
    x, V = rng.standard_normal((6, 6)), rng.standard_normal((5, 6, 6))
    u.hvp_method = "torch.func"  # as for stimuli of DOUBLE_BACKWARD_BELOW entries or more
    HV = u.hvp(x, V)
    assert u.hvp_method == "double backward"
    f = reference_function(u)
    H = torch.autograd.functional.hessian(f, torch.tensor(x)).reshape(36, 36).numpy()
    np.testing.assert_allclose(HV.reshape(5, 36), V.reshape(5, 36) @ H.T, rtol=0, atol=1e-13)


def test_linearized_products_at_a_repeated_point_equal_double_backward():
    # stimuli of 4096 entries or more: once LINEARIZE_AFTER products were asked for at one
    # point, the next call there uses torch.func.linearize
    torch.manual_seed(7)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 5, stride=2), torch.nn.Tanh())
    u = tt.unit(net, "1", 1, input_shape=(64, 64), position="mean")
    reference = tt.unit(net, "1", 1, input_shape=(64, 64), position="mean")
    reference.hvp_method = "double backward"
    rng = np.random.default_rng(17)
    x, V = rng.standard_normal((64, 64)), rng.standard_normal((tt.LINEARIZE_AFTER, 64, 64))
    first = u.hvp(x, V[:1])
    assert u._linear_at is not None and u._linear_at[2] is None  # remembered, not traced
    few = u.hvp(x, V[1:])  # LINEARIZE_AFTER products asked for in all, still by jvp
    assert u._linear_at[2] is None
    again = u.hvp(x, V)
    assert u._linear_at[2] is not None  # traced
    expected = reference.hvp(x, V)
    scale = np.abs(expected).max()
    assert np.abs(again - expected).max() <= 1e-13 * scale
    assert np.abs(np.vstack([first, few]) - expected).max() <= 1e-13 * scale
    u.hvp(x + 1, V[:1])  # a new point starts the count again
    assert u._linear_at[1:] == (1, None)


def test_products_choose_their_method_by_size_and_a_used_unit_pickles():
    import pickle

    big = tt.unit(small_cnn(), "5", 1, input_shape=(64, 64))
    assert tt.DOUBLE_BACKWARD_BELOW == 64 * 64 and big.hvp_method == "torch.func"
    small = tt.unit(small_cnn(), "8", 1, input_shape=(8, 8))
    rng = np.random.default_rng(3)
    x, V = rng.standard_normal((8, 8)), rng.standard_normal((3, 8, 8))
    HV = small.hvp(x, V)
    assert small._graph_at is not None  # the gradient's graph at x, kept for the next call
    np.testing.assert_array_equal(small.hvp(x, V), HV)
    copy = pickle.loads(pickle.dumps(small))  # without the graph
    assert copy._graph_at is None
    with torch.no_grad():  # a caller's no_grad does not silence the products
        np.testing.assert_allclose(copy.hvp(x, V), HV, rtol=0, atol=1e-14)


def test_batched_products_equal_one_at_a_time():
    u = tt.unit(small_cnn(), "8", 0, input_shape=(8, 8), batch_size=3)
    rng = np.random.default_rng(2)
    x, V = rng.standard_normal((8, 8)), rng.standard_normal((8, 8, 8))
    single = np.stack([u.hvp(x, v[None])[0] for v in V])
    np.testing.assert_allclose(u.hvp(x, V), single, rtol=0, atol=1e-14)


@pytest.mark.parametrize("channel", [0, 3])
def test_curvatures_match_torch_func_hessian_and_eigh(channel):
    # conv, batch-norm (eval), ReLU, max-pool, conv, tanh, linear: n = 64
    u = tt.unit(small_cnn(seed=channel), "8", channel, input_shape=(8, 8))
    result = tw.analyze(u, seed=0)  # hessian="auto": exact autodiff products
    assert result.hessian_method == "exact" and result.is_maximum
    expected = reference_curvatures(u, result.stimulus)
    scale = np.abs(expected).max()
    assert np.abs(result.curvatures - expected).max() <= 1e-8 * scale


def test_matrix_free_ends_match_the_dense_analysis():
    # a smooth colour unit (n = 192): the k = 5 ends from Lanczos on autodiff products
    torch.manual_seed(6)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.Softplus(),
        torch.nn.Conv2d(8, 8, 3, stride=2, padding=1),
        torch.nn.Tanh(),
    )
    u = tt.unit(net, "3", 4, position=(2, 1), input_shape=(3, 8, 8))
    dense = tw.analyze(u, hessian="exact", seed=0, method="dense")
    ends = tw.analyze(u, hessian="exact", seed=0, directions=5, method="matrix-free")
    assert ends.hessian is None and ends.hvp_count > 0
    expected = np.concatenate([dense.curvatures[:5], dense.curvatures[-5:]])
    scale = np.abs(dense.curvatures).max()
    assert np.abs(ends.curvatures - expected).max() <= 1e-8 * scale
    assert abs(ends.activation - dense.activation) <= 1e-12 * abs(dense.activation)


def test_float32_accuracy_is_what_the_readme_says():
    # README: float32 gradients agree with float64 to about 1e-6 relative, products to 1e-5
    net = small_cnn()
    u64 = tt.unit(net, "8", 1, input_shape=(8, 8))
    u32 = tt.unit(net, "8", 1, input_shape=(8, 8), dtype=torch.float32)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 8, 8))
    _, g64 = u64.values_and_grads(X)
    _, g32 = u32.values_and_grads(X)
    grad_error = np.abs(g32 - g64).max() / np.abs(g64).max()
    HV64, HV32 = u64.hvp(X[0], X[1:]), u32.hvp(X[0], X[1:])
    hvp_error = np.abs(HV32 - HV64).max() / np.abs(HV64).max()
    assert 1e-9 < grad_error < 1e-5
    assert 1e-9 < hvp_error < 1e-4


def test_float32_analysis_of_a_smooth_unit():
    # README: curvatures of a smooth unit agree with float64 to about 1e-7 relative
    torch.manual_seed(4)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.Softplus(),
        torch.nn.Conv2d(8, 8, 3, stride=2, padding=1),
        torch.nn.Softplus(),
    )
    kw = {"position": (1, 1), "input_shape": (3, 6, 6)}
    r64 = tw.analyze(tt.unit(net, "3", 2, **kw), hessian="exact", seed=0)
    r32 = tw.analyze(tt.unit(net, "3", 2, dtype=torch.float32, **kw), hessian="exact", seed=0)
    scale = np.abs(r64.curvatures).max()
    assert np.abs(r32.curvatures - r64.curvatures).max() < 1e-5 * scale
    assert abs(r32.activation - r64.activation) < 1e-6 * r64.activation


# ---- positions, logits, crops ------------------------------------------------------------


def test_positions_centre_mean_index_and_logits():
    net = small_cnn()
    X = np.random.default_rng(4).standard_normal((3, 8, 8))
    with torch.no_grad():
        out = net.double().eval()[:6](torch.tensor(X)[:, None])
        logits = net(torch.tensor(X)[:, None])
    centre = tt.unit(net, "5", 4, input_shape=(8, 8))
    assert centre.position == (1, 1)
    np.testing.assert_allclose(centre.values(X), out[:, 4, 1, 1].numpy(), rtol=1e-14)
    mean = tt.unit(net, "5", 4, position="mean", input_shape=(8, 8))
    np.testing.assert_allclose(mean.values(X), out[:, 4].mean((1, 2)).numpy(), rtol=1e-14)
    corner = tt.unit(net, "5", 4, position=(0, 2), input_shape=(8, 8))
    np.testing.assert_allclose(corner.values(X), out[:, 4, 0, 2].numpy(), rtol=1e-14)
    logit = tt.unit(net, "", 3, input_shape=(8, 8))
    np.testing.assert_allclose(logit.values(X), logits[:, 3].numpy(), rtol=1e-14)


def test_the_forward_pass_stops_at_the_layer():
    class Forbidden(torch.nn.Module):
        def forward(self, x):
            raise AssertionError("the forward pass went past the unit's layer")

    torch.manual_seed(5)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Tanh(), Forbidden())
    u = tt.unit(net, "1", 1, input_shape=(6, 6), crop="receptive_field")
    x = np.random.default_rng(16).standard_normal((2, *u.shape))
    u.values_and_grads(x)
    u.hvp(x[0], x)

    class Unused(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.spare = torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return self.conv(x)

    with pytest.raises(ValueError, match="'spare' was not called"):
        tt.unit(Unused(), "spare", 0, input_shape=(6, 6))


def test_transform_maps_the_stimulus_to_the_model_input():
    net = small_cnn(channels=3)
    mean = torch.tensor([0.4, 0.5, 0.6], dtype=torch.float64)[:, None, None]
    std = torch.tensor([0.2, 0.3, 0.25], dtype=torch.float64)[:, None, None]
    u = tt.unit(net, "", 1, input_shape=(3, 8, 8), transform=lambda s: (s - mean) / std)
    X = np.random.default_rng(15).standard_normal((3, 3, 8, 8))
    with torch.no_grad():
        expected = net.double().eval()((torch.tensor(X) - mean) / std)[:, 1].numpy()
    np.testing.assert_allclose(u.values(X), expected, rtol=1e-14)
    assert u.device == torch.device("cpu")


def test_receptive_field_is_the_closed_form_and_the_crop_changes_nothing():
    # two 3x3 convs (no padding) then a 2x2 max-pool: output (i, j) sees rows 2i..2i+5
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3), torch.nn.Tanh(), torch.nn.Conv2d(3, 3, 3), torch.nn.MaxPool2d(2)
    )
    full = tt.unit(net, "3", 1, position=(3, 5), input_shape=(2, 20, 20))
    crop = tt.unit(net, "3", 1, position=(3, 5), input_shape=(2, 20, 20), crop="receptive_field")
    assert crop.window == (slice(6, 12), slice(10, 16))
    assert crop.shape == (2, 6, 6)
    x = np.random.default_rng(5).standard_normal((4, 2, 6, 6))
    embedded = np.zeros((4, 2, 20, 20))
    embedded[:, :, 6:12, 10:16] = x
    v_full, g_full = full.values_and_grads(embedded)
    v_crop, g_crop = crop.values_and_grads(x)
    np.testing.assert_allclose(v_crop, v_full, rtol=1e-13)
    np.testing.assert_allclose(g_crop, g_full[:, :, 6:12, 10:16], rtol=1e-12, atol=1e-15)
    assert np.all(g_full[:, :, :6] == 0) and np.all(g_full[:, :, 12:] == 0)


def test_crop_runs_the_model_on_a_smaller_frame_with_the_same_values():
    # a strided, padded network on 160 x 160: the unit's field is small, so the model
    # runs on a frame far smaller than the input, at a shifted position
    torch.manual_seed(1)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, stride=2, padding=1),
        torch.nn.Softplus(),
        torch.nn.Conv2d(4, 4, 3, stride=2, padding=1),
        torch.nn.Softplus(),
    )
    kw = {"position": (30, 31), "input_shape": (160, 160)}
    full = tt.unit(net, "3", 2, **kw)
    crop = tt.unit(net, "3", 2, crop="receptive_field", **kw)
    rows, cols = crop.window
    assert (rows.start, rows.stop, cols.start, cols.stop) == (117, 124, 121, 128)
    frame_rows, frame_cols = crop.frame
    assert (frame_rows.stop - frame_rows.start) * (frame_cols.stop - frame_cols.start) < 100**2
    x = np.random.default_rng(6).standard_normal((3, 7, 7))
    embedded = np.zeros((3, 160, 160))
    embedded[:, rows, cols] = x
    np.testing.assert_allclose(crop.values(x), full.values(embedded), rtol=1e-13)
    V = np.random.default_rng(7).standard_normal((2, 7, 7))
    V_full = np.zeros((2, 160, 160))
    V_full[:, rows, cols] = V
    np.testing.assert_allclose(
        crop.hvp(x[0], V), full.hvp(embedded[0], V_full)[:, rows, cols], rtol=1e-11, atol=1e-15
    )


def test_crop_is_exact_where_the_gradient_misses_dead_relu_paths():
    # every weight to the unit's left half goes through a ReLU that is off at every
    # input (bias -1e6): the gradient never sees those pixels, yet they are in the field
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Conv2d(2, 1, 3))
    with torch.no_grad():
        net[0].bias[0] = -1e6
        net[2].weight[0, 1, :, 0] = 0.0  # the live channel does not reach the left column
    u = tt.unit(net, "2", 0, position=(4, 4), input_shape=(12, 12), crop="receptive_field")
    assert u.window == (slice(4, 9), slice(4, 9))


# ---- the tiled CNN through torch ---------------------------------------------------------


@pytest.mark.parametrize(("m", "row", "col"), [(0, 0, 0), (3, 2, 1), (5, 6, 6)])
def test_tiled_cnn_units_match_the_numba_engine(m, row, col):
    net = tw.TiledCNN.random(6, 2, 8, 3, seed=1, image_size=16)
    module = tt.from_tiled_cnn(net)
    u = tt.unit(module, "", m, position=(row, col), input_shape=(16, 16), crop="receptive_field")
    assert u.window == (slice(row, row + 10), slice(col, col + 10))
    reference = net.unit(m, row, col)
    X = np.random.default_rng(8).standard_normal((3, 10, 10))
    np.testing.assert_allclose(u.values(X), reference.values(X), rtol=1e-14)
    np.testing.assert_allclose(u.hessian(X[0]), reference.hessian(X[0]), rtol=0, atol=1e-12)
    ours = tw.analyze(u, seed=0, hessian="exact")
    numba = tw.analyze(reference, seed=0, hessian="exact")
    assert abs(ours.activation - numba.activation) <= 1e-10 * numba.activation
    assert np.abs(ours.curvatures - numba.curvatures).max() <= 1e-8


def test_tiled_cnn_module_forward_equals_the_network():
    net = tw.load_pretrained()
    images = np.random.default_rng(9).standard_normal((2, 32, 32))
    with torch.no_grad():
        out = tt.from_tiled_cnn(net)(torch.tensor(images)[:, None]).numpy()
    np.testing.assert_allclose(out, net.forward(images), rtol=1e-12)


@pytest.mark.parametrize("channels", [None, 3])
def test_two_layer_tiled_cnn_units_match_the_numba_engine(channels):
    """Both layers of a two-layer network (grayscale and colour) through from_tiled_cnn:
    forward pass, the crop's field, values, gradients, and torch's exact products against
    the closed form (layer 1) and the exact Numba products (layer 2), and against central
    differences of the Numba gradient."""
    net = tw.TiledCNN.random(
        4,
        2,
        3,
        2,
        seed=2,
        eps=1e-3,
        image_size=13,
        channels=channels,
        layer2=dict(maps=3, tile=2, field=2, pool=2),
    )
    module = tt.from_tiled_cnn(net)
    rng = np.random.default_rng(11)
    images = rng.standard_normal((2, *net.input_shape))
    inputs = torch.tensor(images.reshape(2, -1, net.image_size, net.image_size))
    with torch.no_grad():
        np.testing.assert_allclose(module(inputs).numpy(), net.forward(images, layer=2), rtol=1e-12)
        np.testing.assert_allclose(
            module.pool(module.simple(inputs)).numpy(), net.forward(images, layer=1), rtol=1e-12
        )
    for layer, name, (m, row, col) in ((1, "pool", (2, 3, 1)), (2, "", (1, 2, 3))):
        u = tt.unit(
            module,
            name,
            m,
            position=(row, col),
            input_shape=net.input_shape,
            crop="receptive_field",
        )
        side = net.field_size(layer)
        assert u.window == (slice(row, row + side), slice(col, col + side))
        # tiles count from the input's corner: a frame aligned to the tile gives the unit
        assert u.frame[0].stop - u.frame[0].start < net.image_size
        reference = net.unit(m, row, col, layer=layer)
        assert u.shape == reference.shape
        X = rng.standard_normal((3, *u.shape))
        values, grads = u.values_and_grads(X)
        ref_values, ref_grads = reference.values_and_grads(X)
        np.testing.assert_allclose(values, ref_values, rtol=1e-12)
        assert np.abs(grads - ref_grads).max() <= 1e-12 * np.abs(ref_grads).max()
        x = X[0] / np.linalg.norm(X[0])
        V = rng.standard_normal((4, *u.shape))
        products, ref_products = u.hvp(x, V), reference.hvp(x, V)
        error = np.linalg.norm(products - ref_products) / np.linalg.norm(ref_products)
        assert error < 1e-12  # layer 1: closed form; layer 2: forward over reverse in Numba
        differences = reference.fd_hvp(x, V, 1e-5)
        assert np.linalg.norm(differences - products) < 1e-6 * np.linalg.norm(products)


# ---- real architectures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "layer"),
    [("resnet18", "layer2.1.bn2"), ("vgg11", "features.8"), ("alexnet", "features.5")],
)
def test_torchvision_architectures_values_grads_and_crop(name, layer):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    shape = (3, 64, 64)
    u = tt.unit(model, layer, 3, input_shape=shape, crop="receptive_field")
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, *u.shape))
    embedded = np.zeros((2, *shape))
    embedded[(slice(None), slice(None), *u.window)] = x
    # the reference: the layer's output through a hook on the float64 model, uncropped
    reference = model.double().eval()
    seen = []
    handle = reference.get_submodule(layer).register_forward_hook(
        lambda module, inputs, output: seen.append(output.clone())  # resnet adds in place
    )
    Xt = torch.tensor(embedded, requires_grad=True)
    reference(Xt)
    handle.remove()
    out = seen[0][:, 3, seen[0].shape[2] // 2, seen[0].shape[3] // 2]
    (grad,) = torch.autograd.grad(out.sum(), Xt)
    values, grads = u.values_and_grads(x)
    np.testing.assert_allclose(values, out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        grads, grad.numpy()[(slice(None), slice(None), *u.window)], rtol=1e-10, atol=1e-14
    )
    outside = grad.numpy().copy()
    outside[(slice(None), slice(None), *u.window)] = 0
    assert not outside.any()


def test_a_relu_network_warns_that_its_hessian_is_zero():
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)
    u = tt.unit(model, "layer1.0.conv1", 0, input_shape=(3, 32, 32), crop="receptive_field")
    x = np.random.default_rng(11).standard_normal(u.shape)
    with pytest.warns(tt.PiecewiseLinearWarning, match="piecewise linear"):
        HV = u.hvp(x, np.random.default_rng(12).standard_normal((3, *u.shape)))
    assert not HV.any()


def test_a_kink_stops_the_search_early_and_is_reported():
    # conv -> ReLU -> max-pool -> conv is piecewise linear: its optimum sits on a kink
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 4, 3)
    )
    u = tt.unit(net, "3", 1, input_shape=(12, 12))
    calls = []
    values_and_grads = u.values_and_grads
    u.values_and_grads = lambda X: calls.append(len(X)) or values_and_grads(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tw.analyze(u, seed=0, hessian="exact", max_iter=1000)
    messages = [str(w.message) for w in caught]
    assert any("kink" in m for m in messages)
    assert any("piecewise linear" in m for m in messages)
    assert len(calls) < 500
    assert np.allclose(result.curvatures, -result.mu, rtol=1e-12)


# ---- the model is left as found -----------------------------------------------------------


def test_model_is_left_as_found_and_eval_mode_is_used():
    net = small_cnn()
    net.train()
    net[4].eval()  # mixed modes must survive
    net[7].weight.requires_grad_(False)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    u = tt.unit(net, "8", 0, input_shape=(8, 8))
    X = np.random.default_rng(13).standard_normal((2, 8, 8))
    u.values_and_grads(X)
    u.hvp(X[0], X)
    assert net.training and not net[4].training and net[1].training
    assert not net[7].weight.requires_grad and net[0].weight.requires_grad
    assert all(p.grad is None for p in net.parameters())
    assert all(p.dtype == torch.float32 for p in net.parameters())
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics untouched
    assert not any(m._forward_hooks for m in net.modules())
    # eval mode: batch-norm uses running statistics, so a stimulus's value is independent
    # of the others in its batch
    np.testing.assert_allclose(u.values(X[:1]), u.values(X)[:1], rtol=1e-14)


def test_threads_are_restored():
    before = torch.get_num_threads()
    u = tt.unit(small_cnn(), "8", 0, input_shape=(8, 8), threads=1)
    u.values(np.zeros((1, 8, 8)))
    assert torch.get_num_threads() == before


# ---- bad input ----------------------------------------------------------------------------


def test_unknown_layer_lists_close_matches():
    model = torchvision.models.resnet18(weights=None)
    with pytest.raises(ValueError, match=r"no layer 'layer3.0.conv3'.*'layer3.0.conv1'"):
        tt.unit(model, "layer3.0.conv3", 0, input_shape=(3, 32, 32))


def test_channel_and_position_out_of_range():
    net = small_cnn()
    with pytest.raises(ValueError, match=r"channel must be in 0..5 .* got 6"):
        tt.unit(net, "5", 6, input_shape=(8, 8))
    with pytest.raises(ValueError, match=r"position\[1\] must be an int in 0..2, got 3"):
        tt.unit(net, "5", 0, position=(0, 3), input_shape=(8, 8))
    with pytest.raises(ValueError, match="needs a spatial output"):
        tt.unit(net, "", 0, position=(0, 0), input_shape=(8, 8))
    with pytest.raises(TypeError, match="channel must be an int"):
        tt.unit(net, "5", True, input_shape=(8, 8))


def test_input_shape_the_model_rejects_gives_its_message_in_one_line():
    with pytest.raises(ValueError, match="the model rejects input_shape") as info:
        tt.unit(small_cnn(), "8", 0, input_shape=(3, 8, 8))
    assert "\n" not in str(info.value)
    assert "channels" in str(info.value)  # the model's own words


def test_model_on_another_device_than_asked():
    with pytest.raises(ValueError, match=r"the model is on cpu, but device='meta'"):
        tt.unit(small_cnn(), "8", 0, input_shape=(8, 8), device="meta")


def test_output_that_does_not_depend_on_the_input():
    class Constant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = torch.nn.Parameter(torch.ones(3))

        def forward(self, x):
            return self.bias.expand(len(x), 3) * 2.0

    with pytest.raises(ValueError, match="does not depend on the input"):
        tt.unit(Constant(), "", 0, input_shape=(4, 4))


def test_torch_missing_names_the_extra():
    code = "import sys; sys.modules['torch'] = None; import tcnn_widgets.torch"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0
    assert "pip install 'tcnn_widgets[torch]'" in run.stderr
    core = subprocess.run(
        [sys.executable, "-c", "import sys, tcnn_widgets; assert 'torch' not in sys.modules"],
        capture_output=True,
        text=True,
    )
    assert core.returncode == 0, core.stderr
