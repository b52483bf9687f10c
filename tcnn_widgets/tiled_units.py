"""Layer-2 units of two-layer tiled CNNs (docs/method.md §11).

:class:`LayerTwoUnit` is a layer-2 pooling unit of a two-layer tiled CNN; no closed-form
Hessian matrix, but exact Hessian-vector products (forward over reverse differentiation
by hand, in Numba) beside the central differences of its gradient that the analysis uses
by default. It comes from :meth:`tcnn_widgets.TiledCNN.unit` with
``layer=2``; its Numba kernels are in :mod:`tcnn_widgets._kernels2`. Layer-1 units, with
or without channels, are :class:`tcnn_widgets.PoolingUnit`.
"""

from __future__ import annotations

import numpy as np

from . import _kernels2 as kernels
from . import _validate as check
from .units import _PARALLEL_FROM, _FieldUnit


class LayerTwoUnit(_FieldUnit):
    """A layer-2 pooling unit of a two-layer tiled CNN, on its field of pixels.

    ``g(x) = sqrt(eps2 + sum_uv h2_uv^2)`` with ``h2_uv = F2[u, v] . p1[:, u:u+r2, v:v+r2]``
    and ``p1`` the layer-1 pooled maps of the field (see :mod:`tcnn_widgets._kernels2`).
    No closed-form Hessian matrix. :meth:`hvp` gives exact Hessian-vector products (the
    directional derivative of the gradient's computation, one parallel Numba call), used
    by ``analyze(..., hessian="exact")``; the default ``hessian="fd"`` takes central
    differences of the gradient, batched in one parallel Numba call (:meth:`fd_hvp`).

    Parameters
    ----------
    filters1 : ndarray, shape (M1, L, L, c, r, r)
        Layer-1 filter of each layer-1 simple unit inside the field.
    eps1 : float
        Layer-1 smoothing constant.
    filters2 : ndarray, shape (P2, P2, M1, r2, r2)
        This unit's layer-2 filters; needs ``L - pool + 1 = r2 + P2 - 1``.
    eps2 : float
        Layer-2 smoothing constant.
    pool : int
        Layer-1 pooling P1.
    gray : bool
        One channel, shown as (s, s) instead of (1, s, s).
    name : str
        Shown in results and figures.

    Example
    -------
    >>> net = TiledCNN.random(maps=4, field=4, channels=3, seed=0, layer2=dict(maps=2, field=2))
    >>> unit = net.unit(1, 0, 1, layer=2)
    >>> unit.hvp(np.ones(unit.shape), np.ones((3, *unit.shape))).shape
    (3, 3, 9, 9)
    """

    def __init__(
        self,
        filters1: np.ndarray,
        eps1: float,
        filters2: np.ndarray,
        eps2: float,
        *,
        pool: int,
        gray: bool = False,
        name: str = "",
    ) -> None:
        self.filters1 = check.array(filters1, "filters1", ndim=6)
        self.filters2 = check.array(filters2, "filters2", ndim=5)
        self.eps1 = check.real(eps1, "eps1", minimum=0)
        self.eps2 = check.real(eps2, "eps2", minimum=0)
        self.pool = check.integer(pool, "pool", minimum=1)
        M1, L, _, c, r, _ = self.filters1.shape
        P2, _, M1b, r2, _ = self.filters2.shape
        if M1b != M1 or L - self.pool + 1 != r2 + P2 - 1:
            raise ValueError(
                f"filters1 {self.filters1.shape}, pool {self.pool} and filters2 "
                f"{self.filters2.shape} do not fit together"
            )
        side = L + r - 1
        self._field_shape = (c, side, side)
        self.shape = (side, side) if check.flag(gray, "gray") and c == 1 else self._field_shape
        self.name = name

    def _run(self, fields: np.ndarray, grads: np.ndarray) -> np.ndarray:
        kernel = (
            kernels.layer2_values_grads
            if len(fields) >= _PARALLEL_FROM
            else kernels.layer2_values_grads_serial
        )
        return kernel(self.filters1, self.eps1, self.pool, self.filters2, self.eps2, fields, grads)

    def geodesic_values(
        self, x: np.ndarray, directions: np.ndarray, rho: float, angles: np.ndarray
    ) -> np.ndarray:
        """Activations along geodesics (Numba kernel; layer-1 responses are linear in x,
        so only pooling and layer 2 run per angle)."""
        W = self._directions(directions)
        angles = check.array(angles, "angles", shape=(len(W), None))
        return kernels.layer2_geodesic_values(
            self.filters1,
            self.eps1,
            self.pool,
            self.filters2,
            self.eps2,
            self._field(x),
            W,
            float(rho),
            angles,
        )

    def hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Exact Hessian-vector products ``H v`` (m, *shape) for the vectors ``V`` (m, *shape).

        Forward over reverse by hand (:func:`tcnn_widgets._kernels2.layer2_hvp`): the pass
        at x runs once, then each direction's derivative of the gradient, in parallel.
        """
        V = self._directions(V)
        out = kernels.layer2_hvp(
            self.filters1, self.eps1, self.pool, self.filters2, self.eps2, self._field(x), V
        )
        return out.reshape(len(V), *self.shape)

    def fd_hvp(
        self, x: np.ndarray, V: np.ndarray, step: float, chunk_values: int = 0
    ) -> np.ndarray:
        """Central differences of the gradient along each vector (docs/method.md §5, §10).

        ``H v ~ (grad(x + h v) - grad(x - h v)) / 2h`` with ``h = step / ||v||`` (every
        point lies ``step`` from x), as :meth:`Unit.fd_hvp`; here the 2m gradients run in
        one parallel Numba call. The analysis's ``hessian="fd"`` (the default) comes here.
        Zero vectors give zero products; ``chunk_values`` is accepted for the interface.

        Returns
        -------
        ndarray (m, *shape)
        """
        x = self._field(x)
        V = self._directions(V)
        step = check.real(step, "step", above=0)
        flat = V.reshape(len(V), -1)
        norms = np.sqrt(np.einsum("ij,ij->i", flat, flat))
        steps = step / np.where(norms > 0, norms, 1.0)
        out = kernels.layer2_fd_hvp(
            self.filters1, self.eps1, self.pool, self.filters2, self.eps2, x, V, steps
        )
        return out.reshape(len(V), *self.shape)
