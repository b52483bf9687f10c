"""PCA whitening of image patches, folded into the trained filters (``W = V Z``)."""

from __future__ import annotations

import numpy as np


def patch_whitening(
    images: np.ndarray,
    field: int,
    *,
    components: int = 32,
    regularization: float = 0.01,
    patches: int = 100_000,
    seed: int = 0,
) -> np.ndarray:
    """PCA-whitening matrix of ``field`` x ``field`` patches, kept in pixel coordinates.

    Patches of images with channels have all their channels, ``c * field**2`` entries
    (channels first). Patches have their mean (over all entries) removed; the ``components`` directions of largest variance
    (the smoothest patterns) are whitened and all others, including the constant
    patch, are dropped. Dropping the rest matters: TICA minimizes energy, so it
    would pick any direction of low variance (the noisiest, finest patterns).

    Parameters
    ----------
    images : ndarray, shape (N, S, S) or (N, c, S, S)
        Preprocessed images (see :func:`~tcnn_widgets.training.data.preprocess`), or
        any maps with channels (a second layer whitens layer-1 pooled maps).
    field : int
        Patch side r.
    components : int
        Principal components kept (at most ``c field**2 - 1``; needs to be at least the
        number of maps that will be trained).
    regularization : float
        Added to each kept eigenvalue before the inverse square root, as a fraction
        of their mean.
    patches : int
        Number of random patches used to estimate the covariance.
    seed : int
        Seed of the patch sampler.

    Returns
    -------
    ndarray, shape (c r^2, c r^2)
        Symmetric ``Z = U diag((lambda + delta)^(-1/2)) U^T`` over the kept eigenvectors
        ``U``; ``Z @ ones = 0``.
    """
    X = np.asarray(images, dtype=np.float64)
    if X.ndim not in (3, 4) or X.shape[-2] < field or X.shape[-1] < field:
        raise ValueError(
            f"images must have shape (N, S, S) or (N, c, S, S) with S >= {field}, got {X.shape}"
        )
    if X.ndim == 3:
        X = X[:, None]
    d = X.shape[1] * field * field
    if not 1 <= components <= d - 1:
        raise ValueError(f"components must be in 1..{d - 1}, got {components}")
    if regularization < 0:
        raise ValueError(f"regularization must be >= 0, got {regularization}")
    rng = np.random.default_rng(seed)
    t = rng.integers(0, X.shape[0], patches)
    i = rng.integers(0, X.shape[2] - field + 1, patches)
    j = rng.integers(0, X.shape[3] - field + 1, patches)
    offsets = np.arange(field)
    rows = (i[:, None] + offsets)[:, None, :, None]
    cols = (j[:, None] + offsets)[:, None, None, :]
    channels = np.arange(X.shape[1])[None, :, None, None]
    P = X[t[:, None, None, None], channels, rows, cols].reshape(patches, d)
    P -= P.mean(axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(P.T @ P / patches)
    values, vectors = values[::-1][:components], vectors[:, ::-1][:, :components]
    if values[-1] <= 0:
        raise ValueError("the images have too little variety for that many components")
    delta = regularization * values.mean()
    Z = (vectors / np.sqrt(values + delta)) @ vectors.T
    return (Z + Z.T) / 2
