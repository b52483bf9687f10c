"""Units of any PyTorch model, with exact gradients and Hessian-vector products.

``unit(model, layer, channel, ...)`` turns one unit of a ``torch.nn.Module`` (one
channel of a layer's output at one position, averaged over space, or a logit) into a
:class:`~tcnn_widgets.units.Unit` that ``tcnn_widgets.analyze`` takes. Gradients come
from backpropagation and Hessian-vector products from double backpropagation, both
batched and exact. ``from_tiled_cnn(net)`` gives the package's tiled CNN as a torch
module, whose units match the Numba engine.

Needs the optional extra: ``pip install "tcnn_widgets[torch]"``; the rest of the
package never imports torch. See docs/method.md §10 for what the products are for.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import warnings

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "tcnn_widgets.torch needs PyTorch; install the extra: pip install "
        "'tcnn_widgets[torch]' (for the light CPU-only build see the README, "
        "section 'PyTorch models')"
    ) from None

from . import _validate as check
from .network import TiledCNN
from .units import Unit

__all__ = ["PiecewiseLinearWarning", "TiledCNNModule", "TorchUnit", "from_tiled_cnn", "unit"]

# products asked for at one point before TorchUnit traces the products there
LINEARIZE_AFTER = 16

# stimuli with fewer entries take their products by double backward, larger ones by
# torch.func (see TorchUnit.hvp for the measurements)
DOUBLE_BACKWARD_BELOW = 4096


class PiecewiseLinearWarning(UserWarning):
    """The unit's Hessian is exactly zero at a point: it is piecewise linear there."""


class _Reached(Exception):
    """Raised by the forward hook to stop the forward pass at the unit's layer."""

    def __init__(self, output):
        super().__init__()
        self.output = output


def unit(
    model: torch.nn.Module,
    layer: str,
    channel: int,
    *,
    position: tuple[int, int] | str = "centre",
    input_shape: tuple[int, ...],
    transform=None,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float64,
    crop: str | None = None,
    batch_size: int | None = None,
    threads: int | None = 1,
) -> TorchUnit:
    """One unit of a PyTorch model, as a :class:`~tcnn_widgets.units.Unit`.

    The unit works on a copy of ``model`` converted to ``dtype``, in eval mode, with
    no gradients for its parameters: ``model`` itself is left as it was, and later
    changes to it (``load_state_dict`` of your weights, say) need a new unit.

    Parameters
    ----------
    model : torch.nn.Module
        Any module taking a batch ``(N, c, h, w)``.
    layer : str
        A name from ``model.named_modules()``; ``""`` is the model's output (logits).
        The layer's output is read with a forward hook at its first call, and the
        forward pass stops there.
    channel : int
        Channel of the layer's output, ``(N, C, H, W)`` or ``(N, C)``.
    position : (int, int), "centre" or "mean"
        Spatial index into an ``(N, C, H, W)`` output, its centre ``(H // 2, W // 2)``,
        or the channel's mean over space. Ignored for ``(N, C)`` outputs unless given
        as a pair (an error).
    input_shape : (c, h, w) or (h, w)
        The stimulus shape; ``(h, w)`` stimuli reach the model as ``(N, 1, h, w)``.
    transform : callable, optional
        Maps a batch of stimuli ``(N, c, h, w)`` (torch) to the model's input, for
        example a normalization; it must be differentiable twice.
    device : str or torch.device, optional
        Where to compute; the model's device by default. A model on another device is
        an error (move it with ``model.to(device)``).
    dtype : torch.dtype
        float64 (default) or float32; float32 is faster and less exact (README,
        section 'PyTorch models', gives measured errors).
    crop : None or "receptive_field"
        Analyse only the window of the input that can affect the unit (its receptive
        field, clipped to the input); outside it the stimulus is zero, which the unit
        cannot see. ``unit.window`` reports the window.
    batch_size : int, optional
        Most stimuli per forward pass; by default 2**16 input entries' worth (64
        stimuli of 32 x 32: measured here three times faster per stimulus than 1024,
        which overflow the caches).
    threads : int or None
        Torch threads while the unit computes (restored afterwards); None keeps
        torch's setting. One thread is the default because on a shared or small
        machine torch's thread pool waits for busy cores: measured here, a small
        float64 convolution took 0.5 ms on one thread and 40 ms on two.

    Returns
    -------
    TorchUnit

    Raises
    ------
    ValueError
        For an unknown layer (close names are listed), a channel or position out of
        range, an input shape the model rejects, a model on another device, or a unit
        whose output does not depend on its input.

    Example
    -------
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5), torch.nn.Tanh())
    >>> u = unit(net, "1", 2, input_shape=(12, 12))
    >>> tcnn_widgets.analyze(u, seed=0)  # exact products by autodiff  # doctest: +SKIP
    """
    return TorchUnit(
        model,
        layer,
        channel,
        position=position,
        input_shape=input_shape,
        transform=transform,
        device=device,
        dtype=dtype,
        crop=crop,
        batch_size=batch_size,
        threads=threads,
    )


class TorchUnit(Unit):
    """A unit of a PyTorch model; build it with :func:`unit`.

    Attributes
    ----------
    shape : tuple
        The stimulus shape (the window's shape when cropped).
    input_shape : tuple
        The model's full input shape, as given.
    window : tuple of slice
        Rows and columns of the full input that the stimulus fills (all of it
        unless cropped).
    output_shape : tuple
        The layer's output shape for one stimulus, without the batch.
    hvp_method : str
        How products are taken: ``"double backward"`` for stimuli of fewer than
        :data:`DOUBLE_BACKWARD_BELOW` entries, else ``"torch.func"``, which turns to
        ``"double backward"`` if the model does not support ``torch.func``.
    """

    has_exact_hessian = True
    hvp_by_autodiff = True  # exact by construction, also at the kinks of ReLU networks
    _linear_at = None  # (x, products asked there, None or (grad, traced products)) of the last x
    _can_linearize = True
    _graph_at = None  # (x, x as a leaf, the gradient's graph there) of the last x
    _batched_backward = True

    def __init__(
        self,
        model,
        layer,
        channel,
        *,
        position,
        input_shape,
        transform,
        device,
        dtype,
        crop,
        batch_size,
        threads,
    ) -> None:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if dtype not in (torch.float64, torch.float32):
            raise ValueError(f"dtype must be torch.float64 or torch.float32, got {dtype!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None, got {type(transform).__name__}")
        self.input_shape = check.image_shape(tuple(input_shape), "input_shape")
        if batch_size is None:
            batch_size = min(1024, max(1, 2**16 // int(np.prod(self.input_shape))))
        self.batch_size = check.integer(batch_size, "batch_size", minimum=1)
        self.threads = None if threads is None else check.integer(threads, "threads", minimum=1)
        self.dtype = dtype
        self.device = _device(model, device)
        self.model = _frozen_copy(model, dtype)
        self.layer = _module_name(self.model, layer)
        self.transform = transform
        self.channel = check.integer(channel, "channel", minimum=0)
        self.position = position
        self.window = self.frame = tuple(slice(0, s) for s in self.input_shape[-2:])
        self.shape = self.input_shape
        with self._threads():
            self.output_shape = self._probe_output_shape()
        self.position = self._index = _check_position(position, self.output_shape)
        if self.channel >= self.output_shape[0]:
            raise ValueError(
                f"channel must be in 0..{self.output_shape[0] - 1} (layer {self.layer!r} has "
                f"{self.output_shape[0]} channels), got {channel}"
            )
        if crop is not None:
            check.choice(crop, "crop", ("receptive_field",))
        with self._threads():
            self._check_depends_on_input()
            if crop is not None:
                window = self._receptive_field()
                self.frame, self._index = self._smallest_frame(window)
                self.window = window
        self.shape = (*self.input_shape[:-2], *_window_size(self.window))
        small = int(np.prod(self.shape)) < DOUBLE_BACKWARD_BELOW
        self.hvp_method = "double backward" if small else "torch.func"
        self.name = f"{self.layer or 'output'} channel {self.channel} at {self._position_text()}"

    # ---- the function of the stimulus --------------------------------------------------
    def _tensor(self, X) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(X), dtype=self.dtype, device=self.device)

    def _model_input(self, S: torch.Tensor) -> torch.Tensor:
        """Stimuli (N, *shape) -> model input: zero outside the window, in the frame.

        The frame is the part of the input the model is run on: all of it, or with
        ``crop`` a smaller aligned part that gives the unit the same value.
        """
        if self.window != self.frame:
            (rows, cols), (frame_rows, frame_cols) = self.window, self.frame
            pad = (
                cols.start - frame_cols.start,
                frame_cols.stop - cols.stop,
                rows.start - frame_rows.start,
                frame_rows.stop - rows.stop,
            )
            S = torch.nn.functional.pad(S, pad)
        if len(self.input_shape) == 2:
            S = S[:, None]
        return S if self.transform is None else self.transform(S)

    def _layer_output(self, S: torch.Tensor) -> torch.Tensor:
        """The layer's output for stimuli S; the forward pass stops at the layer."""
        inputs = self._model_input(S)
        if self.layer == "":
            return self.model(inputs)
        module = self.model.get_submodule(self.layer)

        def stop(_module, _inputs, output):
            raise _Reached(output)

        handle = module.register_forward_hook(stop)
        try:
            self.model(inputs)
        except _Reached as reached:
            return reached.output
        finally:
            handle.remove()
        raise ValueError(f"layer {self.layer!r} was not called in the model's forward pass")

    def _forward(self, S: torch.Tensor) -> torch.Tensor:
        """The unit's activations (N,) for stimuli S (N, *shape), differentiable."""
        out = self._layer_output(S)
        if not isinstance(out, torch.Tensor):
            raise ValueError(
                f"layer {self.layer!r} returns a {type(out).__name__}, not a tensor; "
                "choose a layer that outputs one tensor"
            )
        out = out[:, self.channel]
        if out.dim() == 1:
            return out
        if self.position == "mean":
            return out.mean(dim=(-2, -1))
        return out[:, self._index[0], self._index[1]]

    # ---- Unit protocol -------------------------------------------------------------------
    def values(self, X: np.ndarray) -> np.ndarray:
        """Activations (N,) for a stack of stimuli (N, *shape), without gradients."""
        X = self._check(X)
        out = np.empty(len(X))
        with torch.no_grad(), self._threads():
            for start in range(0, len(X), self.batch_size):
                chunk = self._tensor(X[start : start + self.batch_size])
                out[start : start + len(chunk)] = self._forward(chunk).double().cpu().numpy()
        return out

    def values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activations (N,) and exact gradients (N, *shape) by backpropagation."""
        X = self._check(X)
        values, grads = np.empty(len(X)), np.empty(X.shape)
        with self._threads():
            for start in range(0, len(X), self.batch_size):
                chunk = self._tensor(X[start : start + self.batch_size]).requires_grad_(True)
                y = self._forward(chunk)
                (g,) = torch.autograd.grad(y.sum(), chunk)
                values[start : start + len(chunk)] = y.detach().double().cpu().numpy()
                grads[start : start + len(chunk)] = g.double().cpu().numpy()
        return values, grads

    def hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Exact Hessian-vector products ``H(x) v`` (m, *shape) for V (m, *shape).

        ``batch_size`` products per pass, by one of two exact methods
        (``unit.hvp_method`` says which):

        - ``"double backward"``, for stimuli of fewer than :data:`DOUBLE_BACKWARD_BELOW`
          entries: ``H v = d/dx (grad g(x) . v)`` through the gradient's graph, built
          once at x and kept while products are asked for there. On a small CNN unit
          (n = 1024) 1 / 4 / 11 / 64 products took 0.67 / 1.4 / 3.0 / 16 ms against
          2.7 / 2.5 / 4.2 / 15 ms by ``torch.func`` (benchmarks/bench_torch.py); the
          ends of the spectrum ask for blocks of 4.
        - ``"torch.func"`` for larger stimuli: ``vmap`` of ``jvp`` of ``grad``
          (forward over reverse), traced once at a point that asks for many
          (:meth:`_linearized`); on a 3 x 64 x 64 unit a block of 11 took 30-60 ms,
          against 110 ms through a kept graph. A model that ``torch.func`` does not
          support (data-dependent Python control flow, ``.item()``) turns to double
          backward.

        Warns
        -----
        PiecewiseLinearWarning
            When every product is exactly zero while the gradient is not: the unit
            is piecewise linear at x (ReLU, max-pool) and its curvatures on the
            sphere are all ``-mu``, which says nothing about its invariances.
        """
        x = self.check_input(x)
        V = self._check(V)
        out = np.empty(V.shape)
        grad_norm = 0.0
        with self._threads():
            xt = self._tensor(x)
            for start in range(0, len(V), self.batch_size):
                v = self._tensor(V[start : start + self.batch_size])
                g, hv = self._products(xt, v)
                grad_norm = max(grad_norm, float(torch.linalg.vector_norm(g)))
                out[start : start + len(v)] = hv.double().cpu().numpy()
        if grad_norm > 0 and not np.any(out) and np.any(V):
            warnings.warn(
                f"{self.name}: the Hessian is exactly zero here, so the unit is piecewise "
                "linear at this point (ReLU or max-pool regions). Its curvatures on the sphere "
                "all equal -mu: every direction is equally invariant to second order, and "
                "the directions are arbitrary. Only the optimal stimulus means something; "
                "for invariances replace ReLU by a smooth activation (e.g. torch.nn.Softplus "
                "or GELU) or analyse a unit after a smooth nonlinearity.",
                PiecewiseLinearWarning,
                stacklevel=2,
            )
        return out

    def _products(self, x: torch.Tensor, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The gradient at x (one row) and the products ``H(x) v`` of the rows of V."""
        if self.hvp_method == "torch.func":
            try:
                with warnings.catch_warnings():  # torch's own notes on its internals
                    warnings.filterwarnings("ignore", ".*torch.jit.script.*", FutureWarning)
                    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.fx")
                    linear = self._linearized(x, len(V))
                    if linear is not None:
                        return linear[0], torch.func.vmap(linear[1])(V).detach()
                    grad = torch.func.grad(lambda s: self._forward(s[None])[0])
                    G, HV = torch.func.vmap(lambda v: torch.func.jvp(grad, (x,), (v,)))(V)
                return G[0].detach(), HV.detach()
            except (RuntimeError, NotImplementedError):
                self.hvp_method = "double backward"
        return self._double_backward(x, V)

    def _double_backward(
        self, x: torch.Tensor, V: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``H v = d/dx (grad g(x) . v)`` through the gradient's graph at x.

        The graph is built once at a point and kept while products are asked for
        there; the rows of V go through it in one batched backward pass
        (``is_grads_batched``), or one at a time where the model does not allow that.
        """
        if self._graph_at is None or not torch.equal(self._graph_at[0], x):
            X = x.clone().requires_grad_(True)
            with torch.enable_grad():  # also when called under torch.no_grad()
                (G,) = torch.autograd.grad(self._forward(X[None])[0], X, create_graph=True)
            self._graph_at = (x.clone(), X, G)
        _, X, G = self._graph_at
        if not G.requires_grad:  # the gradient does not depend on x: H = 0
            return G.detach(), torch.zeros_like(V)
        if self._batched_backward:
            try:
                (HV,) = torch.autograd.grad(
                    G, X, grad_outputs=V, is_grads_batched=True, retain_graph=True
                )
                return G.detach(), HV
            except (RuntimeError, NotImplementedError):
                self._batched_backward = False
        rows = [torch.autograd.grad(G, X, grad_outputs=v, retain_graph=True)[0] for v in V]
        return G.detach(), torch.stack(rows)

    def _linearized(self, x: torch.Tensor, count: int):
        """``(grad g(x), v -> H(x) v)`` traced once, after enough products at one x.

        An eigen-solver asks for hundreds of products at one point: ``torch.func.linearize``
        traces the gradient's computation at x once, after which a product costs only
        its tangent part. Measured on a 3 x 64 x 64 unit of a 4-layer CNN: the trace
        0.5-1.5 s, one product 14 ms by ``jvp`` against 5 ms traced, a block of 11
        products 45-60 against 30-50 ms. So a point is traced only once
        :data:`LINEARIZE_AFTER` products were asked for there (the Newton polish asks
        for a few at each point, the ends for hundreds). ``count`` products are being
        asked for now; a model that cannot be traced keeps ``jvp``.
        """
        if x.numel() < DOUBLE_BACKWARD_BELOW:  # the trace would cost more than it saves
            return None
        if self._linear_at is None or not torch.equal(self._linear_at[0], x):
            self._linear_at = (x.clone(), count, None)
            return None
        point, asked, linear = self._linear_at
        if linear is None and asked >= LINEARIZE_AFTER and self._can_linearize:
            grad = torch.func.grad(lambda s: self._forward(s[None])[0])
            try:
                G, jvp = torch.func.linearize(grad, x)
            except Exception:  # tracing failed: stay with jvp
                self._can_linearize = False
                return None
            linear = (G.detach(), jvp)
        self._linear_at = (point, asked + count, linear)
        return linear

    def __getstate__(self) -> dict:
        """Pickle without the products' caches (a graph or a trace at the last point)."""
        state = self.__dict__.copy()
        state.pop("_linear_at", None)
        state.pop("_graph_at", None)
        return state

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The exact Hessian (n, n) at x, from n batched Hessian-vector products."""
        n = int(np.prod(self.shape))
        return self.hvp(x, np.eye(n).reshape(n, *self.shape)).reshape(n, n)

    @contextlib.contextmanager
    def _threads(self):
        """Run torch with ``self.threads`` threads, then restore its setting."""
        before = torch.get_num_threads()
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def _check(self, X: np.ndarray) -> np.ndarray:
        return check.array(X, "stimuli", shape=(None, *self.shape))

    # ---- checks made once, at construction ---------------------------------------------------
    def _probe_output_shape(self) -> tuple[int, ...]:
        """Run the layer once on a zero input; the model's own error becomes one line."""
        probe = torch.zeros((1, *self.shape), dtype=self.dtype, device=self.device)
        try:
            with torch.no_grad():
                out = self._layer_output(probe)
        except _Reached:  # pragma: no cover - caught inside _layer_output
            raise
        except ValueError as error:
            if "was not called" in str(error):
                raise
            raise _rejected(self.input_shape, error) from None
        except Exception as error:  # the model's own message, whatever its type
            raise _rejected(self.input_shape, error) from None
        if not isinstance(out, torch.Tensor) or out.dim() not in (2, 4):
            kind = tuple(out.shape[1:]) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(
                f"layer {self.layer!r} gives {kind} per stimulus; a unit needs an output of "
                "shape (C, H, W) or (C,)"
            )
        return tuple(out.shape[1:])

    def _nan_reaches_unit(self, masks: torch.Tensor) -> np.ndarray:
        """For each mask (M, h, w), whether NaN in the masked pixels reaches the unit.

        NaN propagates through every arithmetic operation (0 * NaN is NaN), so this
        finds which pixels the unit structurally depends on, unlike a gradient, which
        is zero behind an inactive ReLU.
        """
        S = torch.zeros((len(masks), *self.input_shape), dtype=self.dtype, device=self.device)
        S[masks.expand_as(S) if S.dim() == 3 else masks[:, None].expand_as(S)] = float("nan")
        with torch.no_grad():
            return torch.isnan(self._forward(S)).cpu().numpy()

    def _check_depends_on_input(self) -> None:
        everything = torch.ones((1, *self.input_shape[-2:]), dtype=torch.bool)
        if not self._nan_reaches_unit(everything)[0]:
            raise ValueError(
                f"the unit ({self.layer or 'output'}, channel {self.channel}) does not depend "
                "on the input: choose a layer that the input reaches"
            )

    def _receptive_field(self) -> tuple[slice, slice]:
        """The smallest window holding every pixel that can affect the unit (exact).

        The gradient's support at two random inputs gives a window inside the field
        (a gradient is zero behind an inactive ReLU, so it may miss pixels). NaN then
        tests each edge: NaN in rows ``< r`` reaches the unit exactly when the field
        starts above row r. One batched forward pass confirms the four edges; an
        edge that moves is found by bisection.
        """
        h, w = self.input_shape[-2:]
        noise = torch.randn((2, *self.input_shape), generator=torch.Generator().manual_seed(0))
        S = noise.to(self.dtype).to(self.device).requires_grad_(True)
        (g,) = torch.autograd.grad(self._forward(S).sum(), S)
        support = (g != 0).reshape(-1, h, w).any(dim=0).cpu().numpy()
        used_rows, used_cols = np.flatnonzero(support.any(1)), np.flatnonzero(support.any(0))
        rows, cols = torch.arange(h)[:, None], torch.arange(w)[None, :]
        edges = [  # (mask of the t + 1 outermost rows or columns on one side, length)
            (lambda t: (rows <= t).expand(h, w), h),
            (lambda t: (rows >= h - 1 - t).expand(h, w), h),
            (lambda t: (cols <= t).expand(h, w), w),
            (lambda t: (cols >= w - 1 - t).expand(h, w), w),
        ]
        if used_rows.size:  # the smallest t whose mask reaches the unit is at most this
            found = [used_rows[0], h - 1 - used_rows[-1], used_cols[0], w - 1 - used_cols[-1]]
        else:
            found = [length - 1 for _, length in edges]
        bounds = [[0, int(t)] for t in found]
        first = True
        while any(lo < hi for lo, hi in bounds):
            cuts = [hi - 1 if first else (lo + hi) // 2 for lo, hi in bounds]
            cuts = [max(t, lo) for t, (lo, _) in zip(cuts, bounds, strict=True)]
            masks = torch.stack([edge(t) for (edge, _), t in zip(edges, cuts, strict=True)])
            reached = self._nan_reaches_unit(masks)
            for bound, t, hit in zip(bounds, cuts, reached, strict=True):
                if bound[0] < bound[1]:
                    bound[:] = [bound[0], t] if hit else [t + 1, bound[1]]
            if first and not reached.any():
                break  # the gradient's window is the field
            first = False
        top, bottom, left, right = (lo if lo == hi else hi for lo, hi in bounds)
        return slice(top, h - bottom), slice(left, w - right)

    def _smallest_frame(self, window: tuple[slice, slice]):
        """A part of the input, holding the window, on which the unit keeps its value.

        A convolutional network run on the window, extended up and left to a multiple
        of its total stride, gives the same unit at a shifted position. The stride is
        not known, so the frames for alignments 1, 2, 4, ..., 64 are tried, smallest
        first: one is taken when exactly one position of its output equals the unit
        on two random stimuli (to 1e-9 relative, 1e-4 in float32). Where none does,
        the frame is the whole input.
        """
        whole = tuple(slice(0, s) for s in self.input_shape[-2:])
        if self.position == "mean" or len(self.output_shape) == 1 or window == whole:
            return whole, self._index
        noise = torch.randn(
            (2, *self.input_shape[:-2], *_window_size(window)),
            generator=torch.Generator().manual_seed(1),
        )
        S = noise.to(self.dtype).to(self.device)
        tolerance = 1e-9 if self.dtype == torch.float64 else 1e-4
        with torch.no_grad():
            self.window = window
            reference = self._forward(S)
            scale = torch.clamp(reference.abs(), min=1e-30)[:, None, None]
            try:
                for align in (1, 2, 4, 8, 16, 32, 64):
                    self.frame = tuple(slice(s.start - s.start % align, s.stop) for s in window)
                    if self.frame == whole:
                        break
                    try:
                        out = self._layer_output(S)[:, self.channel]
                    except Exception:  # the model refuses this smaller input
                        continue
                    if out.dim() != 3:
                        break
                    close = ((out - reference[:, None, None]).abs() <= tolerance * scale).all(0)
                    matches = torch.nonzero(close).tolist()
                    if len(matches) == 1:
                        return self.frame, tuple(matches[0])
            finally:
                self.window = self.frame = whole
        return whole, self._index

    def _position_text(self) -> str:
        if len(self.output_shape) == 1:
            return "its output"
        return "the spatial mean" if self.position == "mean" else f"{self.position}"


def _window_size(window: tuple[slice, slice]) -> tuple[int, int]:
    return tuple(s.stop - s.start for s in window)


def _rejected(shape, error: Exception) -> ValueError:
    message = " ".join(str(error).split()) or type(error).__name__
    return ValueError(f"the model rejects input_shape {shape}: {type(error).__name__}: {message}")


def _device(model: torch.nn.Module, device) -> torch.device:
    """The device to compute on: the model's, which must match ``device`` if given."""
    tensors = [*model.parameters(), *model.buffers()]
    found = {t.device for t in tensors}
    if len(found) > 1:
        raise ValueError(f"the model's tensors are on several devices {sorted(map(str, found))}")
    model_device = found.pop() if found else None
    if device is None:
        return model_device or torch.device("cpu")
    try:
        wanted = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device {device!r} is not a torch device: {error}") from None
    if model_device is not None and not _same_device(model_device, wanted):
        raise ValueError(
            f"the model is on {model_device}, but device={str(wanted)!r} was asked: move it "
            f"first (model.to({str(wanted)!r})) or leave device=None"
        )
    return wanted


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    return a.index is None or b.index is None or a.index == b.index


def _frozen_copy(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """A copy of the model in ``dtype``, eval mode, parameters without gradients."""
    try:
        twin = copy.deepcopy(model)
    except Exception as error:
        raise ValueError(
            f"the model cannot be copied ({error}); the unit needs its own copy"
        ) from None
    twin = twin.to(dtype).eval()
    for parameter in twin.parameters():
        parameter.requires_grad_(False)
    return twin


def _module_name(model: torch.nn.Module, layer) -> str:
    """``layer`` if it names a module of the model, else an error listing close names."""
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a module name (str), got {layer!r}")
    names = [name for name, _ in model.named_modules()]
    if layer in names:
        return layer
    close = difflib.get_close_matches(layer, names, n=5, cutoff=0.5)
    hint = f"close matches: {', '.join(repr(c) for c in close)}" if close else ""
    if not hint:
        hint = f"names include {', '.join(repr(n) for n in names[1:6])}"
    raise ValueError(
        f"the model has no layer {layer!r} ({hint}); see model.named_modules(), or use "
        "layer='' for the model's output"
    )


def _check_position(position, output_shape: tuple[int, ...]):
    """``"centre"``, ``"mean"`` or an in-range (i, j) for the layer's output."""
    if isinstance(position, str):
        position = check.choice(position, "position", ("centre", "center", "mean"))
        if position == "mean" or len(output_shape) == 1:
            return position
        return (output_shape[1] // 2, output_shape[2] // 2)
    if len(output_shape) == 1:
        raise ValueError(
            f"position {position!r} needs a spatial output, but the layer gives "
            f"({output_shape[0]},) per stimulus; use the default position"
        )
    if not isinstance(position, (tuple, list)) or len(position) != 2:
        raise TypeError(f"position must be (i, j), 'centre' or 'mean', got {position!r}")
    H, W = output_shape[1:]
    return (
        check.integer(position[0], "position[0]", minimum=0, maximum=H - 1),
        check.integer(position[1], "position[1]", minimum=0, maximum=W - 1),
    )


# ---- the shipped tiled CNN as a torch module ---------------------------------------------


class TiledCNNModule(torch.nn.Module):
    """A :class:`~tcnn_widgets.TiledCNN` as a torch module (Le et al., NIPS 2010).

    Input ``(N, c, S, S)`` (c = 1 for a grayscale network); output the pooling units of
    the last layer, ``(N, M, G, G)``. The simple unit of map m at (i, j) applies filter
    ``W[m, i % k, j % k]`` to the patch at (i, j) (all channels), and a pooling unit is
    ``sqrt(eps + sum of the P x P simple units squared)`` (docs/method.md §2); a second
    layer does the same on the layer-1 pooled maps (docs/method.md §11). Submodule
    names: ``"simple"`` and ``"pool"`` (layer 1), ``"simple2"`` and ``"pool2"`` (layer 2,
    two-layer networks only), and ``""`` (the output: the last pooling units). The tiles
    are counted from the input's top-left pixel, so any input size of at least one field
    works and a frame aligned to the tile gives the same units.
    """

    def __init__(self, net: TiledCNN) -> None:
        super().__init__()
        self.simple = _TiledConv(
            net.weights if net.weights.ndim == 6 else net.weights[:, :, :, None]
        )
        self.pool = _SquareRootPool(net.pool, net.eps)
        self.layers = net.layers
        if net.layers == 2:
            self.simple2 = _TiledConv(net.weights2)
            self.pool2 = _SquareRootPool(net.pool2, net.eps2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        p = self.pool(self.simple(images))
        if self.layers == 2:
            p = self.pool2(self.simple2(p))
        return p


class _SquareRootPool(torch.nn.Module):
    """``sqrt(eps + sum of the P x P neighbours squared)``, per map, stride 1."""

    def __init__(self, pool: int, eps: float) -> None:
        super().__init__()
        self.size, self.eps = pool, eps

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        P = self.size
        return torch.sqrt(self.eps + torch.nn.functional.avg_pool2d(h * h, P, stride=1) * (P * P))


class _TiledConv(torch.nn.Module):
    """Tiled convolution: every filter at every position, then each position's own."""

    def __init__(self, weights: np.ndarray) -> None:
        super().__init__()
        M, k, _, c, r, _ = weights.shape
        self.weight = torch.nn.Parameter(torch.as_tensor(weights.reshape(M * k * k, c, r, r)))
        self.maps, self.tile = M, k

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        all_filters = torch.nn.functional.conv2d(images, self.weight)
        N, _, H, W = all_filters.shape
        k = self.tile
        rows = torch.arange(H, device=images.device) % k
        cols = torch.arange(W, device=images.device) % k
        tile_of = rows[:, None] * k + cols[None, :]
        select = torch.arange(k * k, device=images.device)[:, None, None] == tile_of[None]
        all_filters = all_filters.view(N, self.maps, k * k, H, W)
        return (all_filters * select.to(all_filters.dtype)).sum(dim=2)


def from_tiled_cnn(net: TiledCNN) -> TiledCNNModule:
    """The tiled CNN ``net`` as a torch module (float64), for :func:`unit`.

    The pooling unit ``net.unit(m, i, j)`` is
    ``unit(from_tiled_cnn(net), "", m, position=(i, j), input_shape=(S, S),
    crop="receptive_field")``: the crop finds the same (r + P - 1)-pixel field. With
    channels the input shape is ``(c, S, S)``. In a two-layer network ``""`` is layer 2
    (``net.unit(m, i, j, layer=2)``) and ``"pool"`` is layer 1.

    Example
    -------
    >>> net = TiledCNN.random(4, 2, 8, 3, seed=0, image_size=16)
    >>> u = unit(from_tiled_cnn(net), "", 1, position=(2, 3), input_shape=(16, 16),
    ...          crop="receptive_field")
    >>> u.window
    (slice(2, 12, None), slice(3, 13, None))
    """
    if not isinstance(net, TiledCNN):
        raise TypeError(f"net must be a TiledCNN, got {type(net).__name__}")
    return TiledCNNModule(net)
