"""The shipped seed network: a 16-map tiled CNN pretrained by TICA on grayscale CIFAR-10.

Files (inside the package, read offline):

- ``pretrained/seed_network.npz``: the network in :meth:`TiledCNN.save` format (pixel-space
  filters ``weights``, ``pool``, ``image_size``, ``eps``), plus the training variables
  ``filters`` (orthonormal per tile position) and ``whitening`` (see
  :mod:`tcnn_widgets.training`).
- ``pretrained/seed_network.json``: how it was made (command, data, preprocessing, seed,
  steps, final objective, training time). ``scripts/train_pretrained.py`` reproduces it.
"""

from __future__ import annotations

import json
from pathlib import Path

from .network import TiledCNN

FOLDER = Path(__file__).resolve().parent / "pretrained"
WEIGHTS = FOLDER / "seed_network.npz"
RECORD = FOLDER / "seed_network.json"


def load_pretrained() -> TiledCNN:
    """The seed network (16 maps, k = 2, 8 x 8 fields, 3 x 3 pooling, 32 x 32 input).

    Its units act on preprocessed pixels, ``(image - image mean) / 255`` for 8-bit
    grayscale images (:func:`tcnn_widgets.training.data.preprocess`).

    Returns
    -------
    TiledCNN
    """
    if not WEIGHTS.is_file():
        raise FileNotFoundError(
            f"the shipped weights {str(WEIGHTS)!r} are missing; reinstall tcnn_widgets or "
            "run scripts/train_pretrained.py"
        )
    return TiledCNN.load(WEIGHTS)


def pretrained_record() -> dict:
    """The training record ``seed_network.json`` as a dict."""
    return json.loads(RECORD.read_text())
