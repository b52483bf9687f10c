"""Training of tiled CNNs by topographic ICA, and what it needs.

Nothing on the analyse-and-view path imports this subpackage.

- :mod:`.data`: CIFAR-10 (official binary release), the embedded offline images,
  preprocessing;
- :mod:`.whitening`: PCA whitening of patches, folded into the filters;
- :mod:`.trainer`: :func:`train_tica` (L-BFGS on the constraint manifold, or the
  paper's projected gradient), checkpoints and resume;
- :mod:`.layerwise`: :func:`train_two_layer`, layer-wise TICA of a two-layer network
  (layer 1 on image patches, layer 2 on layer-1 pooled maps);
- :mod:`.gabor`: Gabor fits of learned stimuli (the evidence that training worked).
"""

from .data import Cifar10, embedded_images, load_cifar10, preprocess, to_gray
from .gabor import fit_gabor
from .layerwise import LayerwiseResult, train_two_layer
from .trainer import TrainingResult, orthogonality_error, train_tica
from .whitening import patch_whitening

__all__ = [
    "Cifar10",
    "LayerwiseResult",
    "TrainingResult",
    "embedded_images",
    "fit_gabor",
    "load_cifar10",
    "orthogonality_error",
    "patch_whitening",
    "preprocess",
    "to_gray",
    "train_tica",
    "train_two_layer",
]
