"""`TiledCNN`: a tiled convolutional network with square-root pooling (docs/method.md §2, §11).

One layer on grayscale or colour images, or two layers: a second tiled convolution with
square-root pooling on the first layer's pooled maps (Le et al., "Tiled convolutional
neural networks", NIPS 2010).
"""

from __future__ import annotations

import os

import numpy as np

from . import _kernels as kernels
from . import _validate as check
from ._storage import load_npz, save_npz_atomic
from .tiled_units import LayerTwoUnit
from .units import PoolingUnit

FORMAT_VERSION = 2  # files without a "version" array are version 1 (one grayscale layer)


def orthonormalize(weights: np.ndarray) -> np.ndarray:
    """Symmetric orthogonalization ``W <- (W W^T)^(-1/2) W`` per tile position.

    Parameters
    ----------
    weights : ndarray, shape (M, k, k, r, r) or (M, k, k, c, r, r)
        Needs ``M <= c r^2`` and, per tile position, linearly independent filters.

    Returns
    -------
    ndarray, same shape
        For every tile position (a, b), the M filters ``W[:, a, b]`` (as an M x c r^2
        matrix) have orthonormal rows: the nearest such matrix in Frobenius norm.
    """
    weights = _check_weights(weights)
    M, k = weights.shape[:2]
    d = int(np.prod(weights.shape[3:]))
    if M > d:
        sizes = "x".join(str(s) for s in weights.shape[3:])
        raise ValueError(
            f"{M} maps cannot be orthonormal in {sizes} = {d} dimensions; "
            f"use at most {d} maps or a larger field"
        )
    out = np.empty_like(weights)
    for a in range(k):
        for b in range(k):
            U, s, Vt = np.linalg.svd(weights[:, a, b].reshape(M, d), full_matrices=False)
            if s[-1] <= 1e-12 * s[0]:
                raise ValueError(
                    f"the filters at tile position ({a}, {b}) are linearly dependent; "
                    "they cannot be orthonormalized"
                )
            out[:, a, b] = (U @ Vt).reshape(M, *weights.shape[3:])
    return out


class TiledCNN:
    """A tiled CNN with square-root pooling: one layer, or two.

    Layer 1: simple unit (m, i, j) applies filter ``weights[m, i % k, j % k]`` to the
    image patch at (i, j); pooling unit (m, i, j) is ``sqrt(eps + sum of the squares of
    the P x P simple units of map m from (i, j))``. Layer 2 (optional) does the same
    on the layer-1 pooled maps, its M1 maps being the input channels: filter
    ``weights2[m, i % k2, j % k2]`` of shape (M1, r2, r2).

    Parameters
    ----------
    weights : ndarray, shape (M, k, k, r, r) or (M, k, k, c, r, r)
        Layer-1 filters: grayscale images (S, S) for the 5-D form, images of c
        channels (c, S, S), channels first, for the 6-D form.
    pool : int
        Layer-1 pooling neighbourhood P (P x P simple units of one map).
    image_size : int
        Side S of the square input images.
    eps : float
        Smoothing constant of the layer-1 pooling square root, >= 0.
    weights2 : ndarray, shape (M2, k2, k2, M, r2, r2), optional
        Layer-2 filters on the M layer-1 pooled maps; None for a one-layer network.
    pool2 : int
        Layer-2 pooling neighbourhood.
    eps2 : float
        Smoothing constant of the layer-2 pooling square root, >= 0.

    Raises
    ------
    TypeError, ValueError
        For weights of the wrong shape or with NaN, and settings out of range or too
        large for the image.

    Example
    -------
    >>> net = TiledCNN.random(maps=8, channels=3, seed=0, layer2=dict(maps=4, field=3))
    >>> net.unit(0, 0, 0, layer=2).shape
    (3, 14, 14)
    """

    def __init__(
        self,
        weights: np.ndarray,
        *,
        pool: int = 3,
        image_size: int = 32,
        eps: float = 1e-4,
        weights2: np.ndarray | None = None,
        pool2: int = 3,
        eps2: float = 1e-4,
    ) -> None:
        self.weights = _check_weights(weights)
        self.pool = check.integer(pool, "pool", minimum=1)
        self.image_size = check.integer(image_size, "image_size", minimum=1)
        self.eps = check.real(eps, "eps", minimum=0)
        if self.field + self.pool - 1 > self.image_size:
            raise ValueError(
                f"a pooling unit sees {self.field + self.pool - 1} pixels square (field "
                f"{self.field} + pool {self.pool} - 1), more than the {self.image_size}-pixel "
                "image; use a larger image_size or a smaller field or pool"
            )
        self.weights2 = None
        self.pool2 = check.integer(pool2, "pool2", minimum=1)
        self.eps2 = check.real(eps2, "eps2", minimum=0)
        if weights2 is not None:
            self.weights2 = _check_weights(weights2, "weights2")
            if self.weights2.ndim != 6 or self.weights2.shape[3] != self.maps:
                raise ValueError(
                    f"weights2 must have shape (maps2, k2, k2, {self.maps}, r2, r2): its "
                    f"channels are the {self.maps} layer-1 maps; got {self.weights2.shape}"
                )
            if self.field2 + self.pool2 - 1 > self.grid:
                raise ValueError(
                    f"a layer-2 pooling unit sees {self.field2 + self.pool2 - 1} layer-1 "
                    f"units square (field2 {self.field2} + pool2 {self.pool2} - 1), more than "
                    f"the {self.grid} x {self.grid} layer-1 grid; use a smaller field2 or pool2"
                )

    # ---- architecture ---------------------------------------------------------------
    @property
    def layers(self) -> int:
        """Number of layers, 1 or 2."""
        return 1 if self.weights2 is None else 2

    @property
    def channels(self) -> int:
        """Input channels c (1 for a grayscale network)."""
        return 1 if self.weights.ndim == 5 else self.weights.shape[3]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input image: (S, S) for grayscale weights, else (c, S, S)."""
        S = self.image_size
        return (S, S) if self.weights.ndim == 5 else (self.channels, S, S)

    @property
    def maps(self) -> int:
        """Number of layer-1 maps M."""
        return self.weights.shape[0]

    @property
    def tile(self) -> int:
        """Layer-1 tile size k."""
        return self.weights.shape[1]

    @property
    def field(self) -> int:
        """Receptive field r of a layer-1 simple unit."""
        return self.weights.shape[-1]

    @property
    def grid(self) -> int:
        """Side G of each layer-1 map's grid of pooling units."""
        return self.image_size - self.field - self.pool + 2

    @property
    def maps2(self) -> int:
        """Number of layer-2 maps (0 for a one-layer network)."""
        return 0 if self.weights2 is None else self.weights2.shape[0]

    @property
    def tile2(self) -> int:
        """Layer-2 tile size k2 (0 for a one-layer network)."""
        return 0 if self.weights2 is None else self.weights2.shape[1]

    @property
    def field2(self) -> int:
        """Layer-2 receptive field r2, in layer-1 units (0 for a one-layer network)."""
        return 0 if self.weights2 is None else self.weights2.shape[-1]

    @property
    def grid2(self) -> int:
        """Side of each layer-2 map's grid of pooling units (0 for a one-layer network)."""
        return 0 if self.weights2 is None else self.grid - self.field2 - self.pool2 + 2

    def field_size(self, layer: int = 1) -> int:
        """Side in pixels of the field of a pooling unit of ``layer``."""
        side = self.field + self.pool - 1
        if self._check_layer(layer) == 2:
            side += self.field2 + self.pool2 - 2
        return side

    def __repr__(self) -> str:
        text = (
            f"TiledCNN(maps={self.maps}, tile={self.tile}, field={self.field}, pool={self.pool}, "
            f"image_size={self.image_size}, eps={self.eps}"
        )
        if self.channels > 1 or self.weights.ndim == 6:
            text += f", channels={self.channels}"
        if self.layers == 2:
            text += (
                f", layer2=dict(maps={self.maps2}, tile={self.tile2}, field={self.field2}, "
                f"pool={self.pool2}, eps={self.eps2})"
            )
        return text + ")"

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
        channels: int | None = None,
        layer2: dict | None = None,
    ) -> TiledCNN:
        """A network with Gaussian random filters, orthonormalized per tile position.

        Parameters
        ----------
        maps, tile, field, pool : int
            M, k, r and P of layer 1.
        seed : int, optional
            Seed of the random generator.
        image_size, eps
            As for :class:`TiledCNN`.
        orthogonal : bool
            Orthonormalize the filters (docs/method.md §3); needs ``maps <= c field**2``
            (and the same for layer 2).
        channels : int, optional
            None: a grayscale network (images (S, S)); else images (channels, S, S).
        layer2 : dict, optional
            A second layer: keys ``maps``, ``tile``, ``field``, ``pool``, ``eps``
            (defaults 16, 2, 4, 3, 1e-4).

        Example
        -------
        >>> TiledCNN.random(seed=0).unit_types()[0].shape
        (10, 10)
        """
        maps = check.integer(maps, "maps", minimum=1)
        tile = check.integer(tile, "tile", minimum=1)
        field = check.integer(field, "field", minimum=1)
        check.flag(orthogonal, "orthogonal")
        rng = np.random.default_rng(seed)
        shape = (maps, tile, tile, field, field)
        if channels is not None:
            channels = check.integer(channels, "channels", minimum=1)
            shape = (maps, tile, tile, channels, field, field)
        weights = _random_filters(rng, shape, orthogonal)
        settings = {}
        if layer2 is not None:
            if not isinstance(layer2, dict):
                raise TypeError(f"layer2 must be a dict of settings or None, got {layer2!r}")
            unknown = set(layer2) - {"maps", "tile", "field", "pool", "eps"}
            if unknown:
                raise ValueError(
                    f"layer2 takes the keys maps, tile, field, pool, eps; got {sorted(unknown)}"
                )
            maps2 = check.integer(layer2.get("maps", 16), "layer2['maps']", minimum=1)
            tile2 = check.integer(layer2.get("tile", 2), "layer2['tile']", minimum=1)
            field2 = check.integer(layer2.get("field", 4), "layer2['field']", minimum=1)
            shape2 = (maps2, tile2, tile2, maps, field2, field2)
            settings = {
                "weights2": _random_filters(rng, shape2, orthogonal),
                "pool2": layer2.get("pool", 3),
                "eps2": layer2.get("eps", 1e-4),
            }
        return cls(weights, pool=pool, image_size=image_size, eps=eps, **settings)

    # ---- forward and gradients ------------------------------------------------------
    def simple(self, images: np.ndarray) -> np.ndarray:
        """Layer-1 simple responses, shape (N, M, S - r + 1, S - r + 1)."""
        return kernels.simple_forward(self._check_images(images), self._filters())

    def forward(self, images: np.ndarray, layer: int | None = None) -> np.ndarray:
        """Pooling outputs of ``layer`` (default: the top layer), shape (N, maps, G, G).

        ``images`` is one image of :attr:`input_shape` or a stack of them.
        """
        layer = self._check_layer(self.layers if layer is None else layer)
        p = kernels.pool_forward(self.simple(images), self.pool, self.eps)
        if layer == 2:
            p = kernels.pool_forward(
                kernels.simple_forward(p, self.weights2), self.pool2, self.eps2
            )
        return p

    def input_gradient(self, images: np.ndarray, layer: int | None = None) -> np.ndarray:
        """Gradient of the summed pooling outputs of ``layer`` (default: the top layer)
        with respect to each image, shape (N, *input_shape)."""
        layer = self._check_layer(self.layers if layer is None else layer)
        X = self._check_images(images)
        W = self._filters()
        H = kernels.simple_forward(X, W)
        p = kernels.pool_forward(H, self.pool, self.eps)
        if layer == 1:
            dH = kernels.simple_backward(H, p, self.pool)
        else:
            H2 = kernels.simple_forward(p, self.weights2)
            dH2 = kernels.simple_backward(
                H2, kernels.pool_forward(H2, self.pool2, self.eps2), self.pool2
            )
            dp = kernels.input_backward(dH2, self.weights2, self.grid)
            dH = kernels.pool_backward(H, p, self.pool, dp)
        dX = kernels.input_backward(dH, W, self.image_size)
        return dX.reshape(len(X), *self.input_shape)

    def weight_gradient(self, images: np.ndarray) -> np.ndarray:
        """Gradient of the summed layer-1 pooling outputs (over all images) with respect
        to the layer-1 weights, shape of :attr:`weights`."""
        X = self._check_images(images)
        W = self._filters()
        H = kernels.simple_forward(X, W)
        dH = kernels.simple_backward(H, kernels.pool_forward(H, self.pool, self.eps), self.pool)
        return kernels.weight_backward(dH, X, self.tile, self.field).reshape(self.weights.shape)

    def _filters(self) -> np.ndarray:
        """Layer-1 weights with a channel axis, (M, k, k, c, r, r)."""
        return self.weights if self.weights.ndim == 6 else self.weights[:, :, :, None]

    def _check_images(self, images: np.ndarray) -> np.ndarray:
        """Images as a float64 stack (N, c, S, S)."""
        shape = self.input_shape
        X = check.array(images, "images", ndim=(len(shape), len(shape) + 1), finite=False)
        if X.ndim == len(shape):
            X = X[None]
        if X.shape[1:] != shape:
            listed = ", ".join(str(s) for s in shape)
            raise ValueError(
                f"images must have shape (N, {listed}) or ({listed}), got {np.shape(images)}"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("images contain NaN or infinite values")
        return X.reshape(len(X), self.channels, self.image_size, self.image_size)

    def _check_layer(self, layer) -> int:
        return check.integer(layer, "layer", minimum=1, maximum=self.layers)

    # ---- units ----------------------------------------------------------------------
    def unit(self, map: int, row: int, col: int, layer: int = 1):
        """The pooling unit of ``map`` at grid position (row, col) of ``layer``, on its field.

        Its field is the image region ``[row : row + s, col : col + s]`` (all channels),
        with ``s = field_size(layer)``.

        Returns
        -------
        PoolingUnit
            Layer 1: shape (s, s) for a grayscale network, (c, s, s) with channels;
            exact Hessian.
        LayerTwoUnit
            Layer 2 (shape (c, s, s), or (s, s) for grayscale; finite-difference HVPs).
        """
        layer = self._check_layer(layer)
        maps, grid = (self.maps, self.grid) if layer == 1 else (self.maps2, self.grid2)
        map = check.integer(map, "map", minimum=0, maximum=maps - 1)
        row = check.integer(row, "row", minimum=0, maximum=grid - 1)
        col = check.integer(col, "col", minimum=0, maximum=grid - 1)
        name = f"map {map}, row {row}, col {col}"
        if layer == 2:
            return LayerTwoUnit(
                self._local_filters(
                    self._filters(), row, col, self.field2 + self.pool2 + self.pool - 2
                ),
                self.eps,
                self._local_filters(self.weights2[map : map + 1], row, col, self.pool2)[0],
                self.eps2,
                pool=self.pool,
                gray=self.weights.ndim == 5,
                name=f"layer 2, {name}",
            )
        # (P, P, r, r) for a grayscale network, (P, P, c, r, r) with channels
        filters = self._local_filters(self.weights[map : map + 1], row, col, self.pool)[0]
        return PoolingUnit(filters, self.eps, name=name)

    @staticmethod
    def _local_filters(weights: np.ndarray, row: int, col: int, size: int) -> np.ndarray:
        """``out[m, u, v] = weights[m, (row + u) % k, (col + v) % k]`` for u, v < size."""
        k = weights.shape[1]
        rows = (row + np.arange(size)) % k
        cols = (col + np.arange(size)) % k
        return np.ascontiguousarray(weights[:, rows[:, None], cols[None, :]])

    def unit_types(self, layer: int = 1) -> list:
        """The distinct pooling units of ``layer`` (all others are translated copies).

        Layer 1: the M k^2 units ``unit(m, a, b)`` for a, b < k. Layer 2: the
        M2 K^2 units ``unit(m, a, b, layer=2)`` for a, b < K, K = lcm(k, k2) (a
        layer-2 unit's filters depend on its position modulo both tiles). Ordered by
        map, then row, then column.
        """
        layer = self._check_layer(layer)
        if layer == 1:
            maps, K = self.maps, self.tile
        else:
            maps, K = self.maps2, int(np.lcm(self.tile, self.tile2))
            if K > self.grid2:
                raise ValueError(
                    f"the layer-2 grid ({self.grid2} units square) is smaller than the "
                    f"period {K} of its unit types; use a larger image_size"
                )
        return [self.unit(m, a, b, layer) for m in range(maps) for a in range(K) for b in range(K)]

    # ---- files ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save the weights and settings to a `.npz` file (atomic, no pickle, versioned)."""
        arrays = {
            "version": np.asarray(FORMAT_VERSION),
            "weights": self.weights,
            "pool": np.asarray(self.pool),
            "image_size": np.asarray(self.image_size),
            "eps": np.asarray(self.eps),
        }
        if self.weights2 is not None:
            arrays |= {
                "weights2": self.weights2,
                "pool2": np.asarray(self.pool2),
                "eps2": np.asarray(self.eps2),
            }
        save_npz_atomic(path, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TiledCNN:
        """Load a network written by :meth:`save` (any version); shapes and dtypes are checked.

        Version 1 files (no ``version`` array) hold one grayscale layer; version 2 adds
        channels and an optional second layer (``weights2``, ``pool2``, ``eps2``).

        Raises
        ------
        ValueError
            For a file of a newer version, or one that holds an invalid network.
        """
        arrays = load_npz(path, {"weights": "f", "pool": "i", "image_size": "i", "eps": "f"})
        version = int(arrays["version"]) if "version" in arrays else 1
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{str(path)!r} is a version {version} network file; this tcnn_widgets reads "
                f"versions up to {FORMAT_VERSION}: upgrade tcnn_widgets"
            )
        scalars = ["pool", "image_size", "eps"]
        settings = {}
        if version >= 2 and "weights2" in arrays:
            scalars += ["pool2", "eps2"]
            missing = [key for key in ("pool2", "eps2") if key not in arrays]
            if missing:
                raise ValueError(f"{str(path)!r} has weights2 but lacks {missing}")
            settings = {
                "weights2": arrays["weights2"],
                "pool2": int(arrays["pool2"]),
                "eps2": float(arrays["eps2"]),
            }
        for key in scalars:
            if arrays[key].shape != ():
                raise ValueError(f"{str(path)!r}: {key!r} should be a scalar")
        try:
            return cls(
                arrays["weights"],
                pool=int(arrays["pool"]),
                image_size=int(arrays["image_size"]),
                eps=float(arrays["eps"]),
                **settings,
            )
        except (ValueError, TypeError) as error:
            raise ValueError(f"{str(path)!r} holds an invalid network: {error}") from None


def _random_filters(rng: np.random.Generator, shape: tuple, orthogonal: bool) -> np.ndarray:
    """Gaussian filters, orthonormalized per tile position (or scaled to unit mean norm)."""
    weights = rng.standard_normal(shape)
    if orthogonal:
        return orthonormalize(weights)
    return weights / np.sqrt(np.prod(shape[3:]))


def _check_weights(weights: np.ndarray, name: str = "weights") -> np.ndarray:
    w = np.asarray(weights)
    if w.dtype.kind != "f":
        raise TypeError(f"{name} must be a float array, got dtype {w.dtype}")
    if w.ndim not in (5, 6) or w.shape[1] != w.shape[2] or w.shape[-1] != w.shape[-2]:
        raise ValueError(
            f"{name} must have shape (maps, k, k, r, r) or (maps, k, k, channels, r, r), "
            f"got {w.shape}"
        )
    if min(w.shape) < 1:
        raise ValueError(f"maps, tile and field must all be >= 1, got {name} of shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} contain NaN or infinite values")
    return check.array(w, name)
