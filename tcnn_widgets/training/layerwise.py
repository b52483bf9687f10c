"""Layer-wise TICA of a two-layer tiled CNN (docs/method.md §3, §11).

Le et al., "Tiled convolutional neural networks" (NIPS 2010), train a deeper TCNN one
layer at a time with the same objective. :func:`train_two_layer` does that:

1. layer 1 by :func:`~tcnn_widgets.training.trainer.train_tica` on the images
   (grayscale or colour), on PCA-whitened patches as for the one-layer network;
2. the layer-1 pooled maps of the same images, ``p1 = net.forward(images, layer=1)``
   (M1 channels of G x G), become the "images" of layer 2, trained by the same
   :func:`train_tica` (whitened patches of M1 x r2 x r2 responses, local
   orthogonality per tile position);
3. the two are stacked into one :class:`~tcnn_widgets.network.TiledCNN`.

Each layer has its own checkpoint (``<checkpoint>.layer1.npz``, ``.layer2.npz``);
``resume=True`` continues from whichever exist. Ctrl-C stops the layer being trained
(its checkpoint holds the progress) and returns with ``interrupted=True``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from .. import _validate as check
from ..network import TiledCNN
from .trainer import TrainingResult, train_tica

LAYER_KEYS = ("maps", "tile", "field", "pool", "eps", "components")


@dataclasses.dataclass
class LayerwiseResult:
    """Outcome of :func:`train_two_layer`.

    Attributes
    ----------
    network : TiledCNN or None
        The two-layer network (None if interrupted before layer 2 finished).
    layer1, layer2 : TrainingResult or None
        Each layer's training (``layer2`` is None if layer 1 was interrupted).
    interrupted : bool
        True if Ctrl-C stopped the run.
    """

    network: TiledCNN | None
    layer1: TrainingResult
    layer2: TrainingResult | None
    interrupted: bool


def layer1_responses(network: TiledCNN, images: np.ndarray, *, batch: int = 500) -> np.ndarray:
    """Layer-1 pooled maps of ``images``, float32 (N, M1, G, G): the inputs of layer 2.

    Computed ``batch`` images at a time so that memory stays small.
    """
    batch = check.integer(batch, "batch", minimum=1)
    images = np.asarray(images)
    first = network.forward(images[:1], layer=1)
    out = np.empty((len(images), *first.shape[1:]), dtype=np.float32)
    for start in range(0, len(images), batch):
        out[start : start + batch] = network.forward(images[start : start + batch], layer=1)
    return out


def train_two_layer(
    images: np.ndarray,
    *,
    layer1: dict | None = None,
    layer2: dict | None = None,
    steps: int = 200,
    method: str = "lbfgs",
    seed: int = 0,
    tolerance: float = 1e-6,
    time_limit: float | None = None,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
) -> LayerwiseResult:
    """Train a two-layer tiled CNN by TICA, layer by layer.

    Parameters
    ----------
    images : ndarray, shape (N, S, S) or (N, c, S, S)
        Preprocessed training images (:func:`tcnn_widgets.training.data.preprocess`).
    layer1, layer2 : dict, optional
        Settings of each layer: ``maps``, ``tile``, ``field``, ``pool``, ``eps``,
        ``components`` (whitened dimensions kept). Defaults: layer 1 16 maps, k = 2,
        8 x 8 fields, 3 x 3 pooling, 48 components for colour (32 for gray); layer 2
        16 maps, k = 2, 4 x 4 fields (in layer-1 units), 3 x 3 pooling, 64 components.
    steps : int
        Accepted optimizer steps per layer, at most.
    method : {"lbfgs", "projected"}
        Optimizer of both layers (see :mod:`tcnn_widgets.training.trainer`).
    seed : int
        Seed of the initial filters and whitening samples (layer 2 uses ``seed + 1``).
    tolerance : float
        Stop a layer when its objective fell by less than this fraction over 10 steps.
    time_limit : float, optional
        Seconds allowed per layer.
    checkpoint : path-like, optional
        Base name of the checkpoints ``<checkpoint>.layer1.npz`` and ``.layer2.npz``.
    resume : bool
        Continue from the checkpoints that exist (needs ``checkpoint``).
    progress : bool
        Show progress bars.

    Returns
    -------
    LayerwiseResult

    Raises
    ------
    ValueError
        For unknown layer settings or ``resume`` without ``checkpoint``.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> result = train_two_layer(rng.standard_normal((40, 3, 16, 16)),
    ...     layer1=dict(maps=4, field=4, components=8), layer2=dict(maps=4, field=2,
    ...     components=8), steps=3, progress=False)
    >>> result.network.layers
    2
    """
    X = check.array(images, "images", ndim=(3, 4), dtype=np.float32)
    check.flag(resume, "resume")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint= (the base name of the checkpoints)")
    colour = X.ndim == 4
    settings1 = _settings(layer1, "layer1", components=48 if colour else 32)
    settings2 = _settings(layer2, "layer2", field=4, components=64)
    paths = [None, None]
    if checkpoint is not None:
        base = check.output_path(checkpoint, "checkpoint")
        paths = [base.with_name(f"{base.name}.layer{i}.npz") for i in (1, 2)]
    common = {
        "steps": steps,
        "method": method,
        "tolerance": tolerance,
        "time_limit": time_limit,
        "progress": progress,
    }
    first = train_tica(
        X, **settings1, seed=seed, checkpoint=paths[0], resume=_existing(paths[0], resume), **common
    )
    if first.interrupted:
        return LayerwiseResult(None, first, None, interrupted=True)
    try:
        responses = layer1_responses(first.network, X)
    except KeyboardInterrupt:
        return LayerwiseResult(None, first, None, interrupted=True)
    second = train_tica(
        responses,
        **settings2,
        seed=seed + 1,
        checkpoint=paths[1],
        resume=_existing(paths[1], resume),
        **common,
    )
    if second.interrupted:
        return LayerwiseResult(None, first, second, interrupted=True)
    return LayerwiseResult(stack(first.network, second.network), first, second, interrupted=False)


def stack(first: TiledCNN, second: TiledCNN) -> TiledCNN:
    """The two-layer network of a layer-1 network and a network on its pooled maps.

    ``second`` must take ``first.maps`` channels of ``first.grid`` x ``first.grid``.
    """
    if second.layers != 1 or second.input_shape != (first.maps, first.grid, first.grid):
        raise ValueError(
            f"the second network must take ({first.maps}, {first.grid}, {first.grid}) maps, "
            f"the layer-1 pooled output; it takes {second.input_shape}"
        )
    return TiledCNN(
        first.weights,
        pool=first.pool,
        image_size=first.image_size,
        eps=first.eps,
        weights2=second.weights,
        pool2=second.pool,
        eps2=second.eps,
    )


def _settings(given: dict | None, name: str, **defaults) -> dict:
    settings = {"maps": 16, "tile": 2, "field": 8, "pool": 3, "eps": 1e-4, **defaults}
    if given is None:
        return settings
    if not isinstance(given, dict):
        raise TypeError(f"{name} must be a dict of settings or None, got {given!r}")
    unknown = sorted(set(given) - set(LAYER_KEYS))
    if unknown:
        raise ValueError(f"{name} takes the keys {', '.join(LAYER_KEYS)}; got {unknown}")
    return settings | given


def _existing(path: Path | None, resume: bool) -> Path | None:
    return path if resume and path is not None and path.is_file() else None
