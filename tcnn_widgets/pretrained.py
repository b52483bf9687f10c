"""Shipped pretrained networks, read offline from the package.

- ``"one_layer_gray"`` (the default): a 16-map one-layer tiled CNN pretrained by TICA on grayscale
  CIFAR-10. ``pretrained/seed_network.npz`` holds the network in :meth:`TiledCNN.save`
  format (pixel-space filters ``weights``, ``pool``, ``image_size``, ``eps``) plus the
  training variables ``filters`` (orthonormal per tile position) and ``whitening`` (see
  :mod:`tcnn_widgets.training`); ``scripts/train_pretrained.py`` reproduces it.
- ``"two_layer_color"``: a two-layer colour tiled CNN trained layer by layer by TICA on
  colour CIFAR-10 (:mod:`tcnn_widgets.training.layerwise`). ``pretrained/two_layer_color.npz``
  holds the network only (version 2 format); ``scripts/train_two_layer.py`` reproduces it.

Each has a JSON record beside it: how it was made (command, data, preprocessing, seed,
steps, objectives, training time).
"""

from __future__ import annotations

import json
from pathlib import Path

from . import _validate as check
from .network import TiledCNN

FOLDER = Path(__file__).resolve().parent / "pretrained"
NETWORKS = {"one_layer_gray": "seed_network", "two_layer_color": "two_layer_color"}
SCRIPTS = {
    "one_layer_gray": "scripts/train_pretrained.py",
    "two_layer_color": "scripts/train_two_layer.py",
}
WEIGHTS = FOLDER / "seed_network.npz"
RECORD = FOLDER / "seed_network.json"


def load_pretrained(name: str = "one_layer_gray") -> TiledCNN:
    """A shipped network.

    Parameters
    ----------
    name : {"one_layer_gray", "two_layer_color"}
        ``"one_layer_gray"``: 16 maps, k = 2, 8 x 8 fields, 3 x 3 pooling on 32 x 32 gray images.
        ``"two_layer_color"``: layer 1 with 16 maps, k = 2, 3 x 8 x 8 fields, 3 x 3
        pooling on (3, 32, 32) RGB images; layer 2 with 16 maps, k = 2, 4 x 4 fields
        over the 16 layer-1 maps, 3 x 3 pooling (its units see 3 x 15 x 15 pixels).

    Units act on preprocessed pixels, ``(image - image mean) / 255`` for 8-bit images
    (the mean over pixels and channels; :func:`tcnn_widgets.training.data.preprocess`).

    Returns
    -------
    TiledCNN

    Raises
    ------
    ValueError
        For an unknown name.
    FileNotFoundError
        If the shipped file is missing.

    Example
    -------
    >>> load_pretrained("two_layer_color").unit(0, 0, 0, layer=2).shape
    (3, 15, 15)
    """
    path = FOLDER / f"{NETWORKS[check.choice(name, 'name', NETWORKS)]}.npz"
    if not path.is_file():
        raise FileNotFoundError(
            f"the shipped weights {str(path)!r} are missing; reinstall tcnn_widgets or "
            f"run {SCRIPTS[name]}"
        )
    return TiledCNN.load(path)


def pretrained_record(name: str = "one_layer_gray") -> dict:
    """The training record (``<name>.json`` beside the weights) as a dict."""
    path = FOLDER / f"{NETWORKS[check.choice(name, 'name', NETWORKS)]}.json"
    return json.loads(path.read_text())
