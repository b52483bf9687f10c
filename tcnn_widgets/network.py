"""`TiledCNN`: a tiled convolutional network with square-root pooling (METHOD section 2)."""

from __future__ import annotations

import os

import numpy as np

from . import _kernels as kernels
from . import _validate
from ._storage import load_npz, save_npz_atomic
from .units import PoolingUnit


def orthonormalize(weights: np.ndarray) -> np.ndarray:
    """Symmetric orthogonalization ``W <- (W W^T)^(-1/2) W`` per tile position.

    Parameters
    ----------
    weights : ndarray, shape (M, k, k, r, r)
        Needs ``M <= r^2`` and, per tile position, linearly independent filters.

    Returns
    -------
    ndarray, shape (M, k, k, r, r)
        For every tile position (a, b), the M filters ``W[:, a, b]`` (as an M x r^2
        matrix) have orthonormal rows: the nearest such matrix in Frobenius norm.
    """
    weights = _check_weights(weights)
    M, k, _, r, _ = weights.shape
    if M > r * r:
        raise ValueError(
            f"{M} maps cannot be orthonormal in {r}x{r} = {r * r} dimensions; "
            f"use at most {r * r} maps or a larger field"
        )
    out = np.empty_like(weights)
    for a in range(k):
        for b in range(k):
            U, s, Vt = np.linalg.svd(weights[:, a, b].reshape(M, r * r), full_matrices=False)
            if s[-1] <= 1e-12 * s[0]:
                raise ValueError(
                    f"the filters at tile position ({a}, {b}) are linearly dependent; "
                    "they cannot be orthonormalized"
                )
            out[:, a, b] = (U @ Vt).reshape(M, r, r)
    return out


class TiledCNN:
    """A one-layer tiled CNN with square-root pooling.

    Parameters
    ----------
    weights : ndarray, shape (M, k, k, r, r)
        Filter ``weights[m, a, b]`` is used by the simple units of map m at grid
        positions (i, j) with ``i % k == a`` and ``j % k == b``.
    pool : int
        Pooling neighbourhood P (P x P simple units of one map).
    image_size : int
        Side S of the square input images.
    eps : float
        Smoothing constant of the pooling square root, >= 0.
    """

    def __init__(
        self, weights: np.ndarray, *, pool: int = 3, image_size: int = 32, eps: float = 1e-4
    ) -> None:
        self.weights = _check_weights(weights)
        self.pool = _validate.integer(pool, "pool", minimum=1)
        self.image_size = _validate.integer(image_size, "image_size", minimum=1)
        self.eps = _validate.real(eps, "eps", minimum=0)
        if self.field + self.pool - 1 > self.image_size:
            raise ValueError(
                f"a pooling unit sees {self.field + self.pool - 1} pixels square (field "
                f"{self.field} + pool {self.pool} - 1), more than the {self.image_size}-pixel "
                "image; use a larger image_size or a smaller field or pool"
            )

    # ---- architecture ---------------------------------------------------------------
    @property
    def maps(self) -> int:
        """Number of maps M."""
        return self.weights.shape[0]

    @property
    def tile(self) -> int:
        """Tile size k."""
        return self.weights.shape[1]

    @property
    def field(self) -> int:
        """Receptive field r of a simple unit."""
        return self.weights.shape[3]

    @property
    def grid(self) -> int:
        """Side G of each map's grid of pooling units."""
        return self.image_size - self.field - self.pool + 2

    def __repr__(self) -> str:
        return (
            f"TiledCNN(maps={self.maps}, tile={self.tile}, field={self.field}, pool={self.pool}, "
            f"image_size={self.image_size}, eps={self.eps})"
        )

    @classmethod
    def random(
        cls,
        maps: int = 16,
        tile: int = 2,
        field: int = 8,
        pool: int = 3,
        seed: int | None = None,
        *,
        image_size: int = 32,
        eps: float = 1e-4,
        orthogonal: bool = True,
    ) -> TiledCNN:
        """A network with Gaussian random filters, orthonormalized per tile position.

        Parameters
        ----------
        maps, tile, field, pool : int
            M, k, r and P.
        seed : int, optional
            Seed of the random generator.
        image_size, eps
            As for :class:`TiledCNN`.
        orthogonal : bool
            Orthonormalize the filters (METHOD section 3); needs ``maps <= field**2``.
        """
        maps = _validate.integer(maps, "maps", minimum=1)
        tile = _validate.integer(tile, "tile", minimum=1)
        field = _validate.integer(field, "field", minimum=1)
        rng = np.random.default_rng(seed)
        weights = rng.standard_normal((maps, tile, tile, field, field))
        if orthogonal:
            weights = orthonormalize(weights)
        else:
            weights /= np.sqrt(field * field)
        return cls(weights, pool=pool, image_size=image_size, eps=eps)

    # ---- forward and gradients ------------------------------------------------------
    def simple(self, images: np.ndarray) -> np.ndarray:
        """Simple-unit responses, shape (N, M, S - r + 1, S - r + 1)."""
        return kernels.simple_forward(self._check_images(images), self.weights)

    def forward(self, images: np.ndarray) -> np.ndarray:
        """Pooling-unit outputs, shape (N, M, G, G)."""
        return kernels.pool_forward(self.simple(images), self.pool, self.eps)

    def input_gradient(self, images: np.ndarray) -> np.ndarray:
        """Gradient of the summed pooling outputs with respect to each image, (N, S, S)."""
        X = self._check_images(images)
        H = kernels.simple_forward(X, self.weights)
        dH = kernels.simple_backward(H, kernels.pool_forward(H, self.pool, self.eps), self.pool)
        return kernels.input_backward(dH, self.weights, self.image_size)

    def weight_gradient(self, images: np.ndarray) -> np.ndarray:
        """Gradient of the summed pooling outputs (over all images) with respect to the weights."""
        X = self._check_images(images)
        H = kernels.simple_forward(X, self.weights)
        dH = kernels.simple_backward(H, kernels.pool_forward(H, self.pool, self.eps), self.pool)
        return kernels.weight_backward(dH, X, self.tile, self.field)

    def _check_images(self, images: np.ndarray) -> np.ndarray:
        X = np.asarray(images)
        if X.dtype.kind not in "fiu":
            raise TypeError(f"images must be a real-valued array, got dtype {X.dtype}")
        if X.ndim == 2:
            X = X[None]
        S = self.image_size
        if X.ndim != 3 or X.shape[1:] != (S, S):
            raise ValueError(
                f"images must have shape (N, {S}, {S}) or ({S}, {S}), got {np.shape(images)}"
            )
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not np.all(np.isfinite(X)):
            raise ValueError("images contain NaN or infinite values")
        return X

    # ---- units ----------------------------------------------------------------------
    def unit(self, map: int, row: int, col: int) -> PoolingUnit:
        """The pooling unit of ``map`` at grid position (row, col), on its own field.

        Its field is ``image[row : row + r + P - 1, col : col + r + P - 1]``.
        """
        map = _validate.integer(map, "map", minimum=0, maximum=self.maps - 1)
        row = _validate.integer(row, "row", minimum=0, maximum=self.grid - 1)
        col = _validate.integer(col, "col", minimum=0, maximum=self.grid - 1)
        k, P = self.tile, self.pool
        filters = np.empty((P, P, self.field, self.field))
        for u in range(P):
            for v in range(P):
                filters[u, v] = self.weights[map, (row + u) % k, (col + v) % k]
        return PoolingUnit(filters, self.eps, name=f"map {map}, row {row}, col {col}")

    def unit_types(self) -> list[PoolingUnit]:
        """The M k^2 distinct pooling units (units k apart are translated copies).

        Ordered by map, then row, then column: ``unit(m, a, b)`` for a, b < k.
        """
        k = self.tile
        return [self.unit(m, a, b) for m in range(self.maps) for a in range(k) for b in range(k)]

    # ---- files ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save the weights and settings to a `.npz` file (atomic, no pickle)."""
        save_npz_atomic(
            path,
            {
                "weights": self.weights,
                "pool": np.asarray(self.pool),
                "image_size": np.asarray(self.image_size),
                "eps": np.asarray(self.eps),
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> TiledCNN:
        """Load a network written by :meth:`save`; shapes and dtypes are checked."""
        arrays = load_npz(path, {"weights": "f", "pool": "i", "image_size": "i", "eps": "f"})
        for key in ("pool", "image_size", "eps"):
            if arrays[key].shape != ():
                raise ValueError(f"{str(path)!r}: {key!r} should be a scalar")
        try:
            return cls(
                arrays["weights"],
                pool=int(arrays["pool"]),
                image_size=int(arrays["image_size"]),
                eps=float(arrays["eps"]),
            )
        except (ValueError, TypeError) as error:
            raise ValueError(f"{str(path)!r} holds an invalid network: {error}") from None


def _check_weights(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights)
    if w.dtype.kind != "f":
        raise TypeError(f"weights must be a float array, got dtype {w.dtype}")
    if w.ndim != 5 or w.shape[1] != w.shape[2] or w.shape[3] != w.shape[4]:
        raise ValueError(f"weights must have shape (maps, k, k, r, r), got {w.shape}")
    if min(w.shape) < 1:
        raise ValueError(f"maps, tile and field must all be >= 1, got weights of shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain NaN or infinite values")
    return np.ascontiguousarray(w, dtype=np.float64)
