"""Units of tiled CNNs with channels or a second layer (docs/method.md §11).

- :class:`ChannelPoolingUnit`: a layer-1 square-root pooling unit on a field of c
  channels, shape (c, s, s); exact Hessian and Hessian-vector products (closed form,
  docs/method.md §8).
- :class:`LayerTwoUnit`: a layer-2 pooling unit of a two-layer tiled CNN; no closed-form
  Hessian, so Hessian-vector products are central differences of its gradient, batched
  in one parallel Numba call.

Both come from :meth:`tcnn_widgets.TiledCNN.unit`; the Numba kernels are in
:mod:`tcnn_widgets._kernels2`.
"""

from __future__ import annotations

import numpy as np

from . import _kernels2 as kernels
from . import _validate as check
from .units import Unit

_PARALLEL_FROM = 32  # stacks at least this large go to the parallel kernels


class _FieldUnit(Unit):
    """Shared plumbing: stacks of fields as float64 (N, c, s, s) for the kernels."""

    def _fields(self, X: np.ndarray) -> np.ndarray:
        X = check.array(X, "X", shape=(None, *self.shape))
        return X.reshape(len(X), *self._field_shape)

    def _field(self, x: np.ndarray) -> np.ndarray:
        return check.array(x, "x", shape=self.shape).reshape(self._field_shape)

    def _directions(self, V: np.ndarray) -> np.ndarray:
        V = check.array(V, "V", ndim=(len(self.shape), len(self.shape) + 1))
        if V.ndim == len(self.shape):
            V = V[None]
        if V.shape[1:] != tuple(self.shape):
            raise ValueError(
                f"V must have shape (m, {', '.join(map(str, self.shape))}), got {V.shape}"
            )
        return V.reshape(len(V), *self._field_shape)

    def values(self, X: np.ndarray) -> np.ndarray:
        """Activations (N,) for a stack ``X`` of N fields (Numba kernel)."""
        fields = self._fields(X)
        return self._run(fields, np.empty((0, *self._field_shape)))

    def values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activations (N,) and gradients (N, *shape) for a stack of fields (Numba kernel)."""
        fields = self._fields(X)
        grads = np.empty(fields.shape)
        values = self._run(fields, grads)
        return values, grads.reshape(len(fields), *self.shape)

    def geodesic_values(
        self, x: np.ndarray, directions: np.ndarray, rho: float, angles: np.ndarray
    ) -> np.ndarray:
        """Activations ``g(cos t x + sin t rho w_d)`` along geodesics, shape (D, K).

        ``x`` of :attr:`shape`, ``directions`` (D, *shape), ``angles`` (D, K).
        """
        x = self._field(x).ravel()
        W = self._directions(directions).reshape(-1, x.size)
        angles = check.array(angles, "angles", shape=(len(W), None))
        D, K = angles.shape
        points = np.cos(angles)[:, :, None] * x + rho * np.sin(angles)[:, :, None] * W[:, None]
        return self.values(points.reshape(D * K, *self.shape)).reshape(D, K)

    def fd_hessian(self, x: np.ndarray, step: float, chunk: int = 0) -> np.ndarray:
        """Central-difference Hessian (n, n), not symmetrized: column i is
        ``(grad(x + step e_i) - grad(x - step e_i)) / (2 step)``.

        All 2n gradients go to one parallel Numba call through :meth:`hvp`-style
        batching; ``chunk`` is accepted for the interface.
        """
        x = self._field(x)
        n = x.size
        step = check.real(step, "step", above=0)
        return self._fd_products(x, np.eye(n).reshape(n, *self._field_shape), step).reshape(n, n).T

    def _fd_products(self, x: np.ndarray, V: np.ndarray, step: float) -> np.ndarray:
        """``(grad(x + step v) - grad(x - step v)) / (2 step)`` for every row v of ``V``."""
        points = np.concatenate([x + step * V, x - step * V])
        grads = np.empty(points.shape)
        self._run(points, grads)
        return (grads[: len(V)] - grads[len(V) :]) / (2 * step)


class ChannelPoolingUnit(_FieldUnit):
    """A layer-1 square-root pooling unit on a field of c channels.

    ``g(x) = sqrt(eps + sum_uv (F[u, v] . x[:, u:u+r, v:v+r])^2)`` on fields of shape
    (c, s, s), ``s = r + P - 1``. It equals ``sqrt(eps + x^T A x)`` with ``A`` the sum
    of ``w w^T`` over its P^2 filters embedded in the field, so it has the exact
    Hessian ``A / g - (A x)(A x)^T / g^3`` (docs/method.md §8).

    Parameters
    ----------
    filters : ndarray, shape (P, P, c, r, r)
        ``filters[u, v]`` acts on the patch at offset (u, v), all channels.
    eps : float
        Smoothing constant, >= 0.
    name : str
        Shown in results and figures.

    Example
    -------
    >>> net = TiledCNN.random(maps=4, field=4, channels=3, seed=0)
    >>> unit = net.unit(0, 0, 0)
    >>> unit.shape, unit.hvp(np.ones(unit.shape), np.ones((2, *unit.shape))).shape
    ((3, 6, 6), (2, 3, 6, 6))
    """

    has_exact_hessian = True

    def __init__(self, filters: np.ndarray, eps: float, name: str = "") -> None:
        filters = check.array(filters, "filters", ndim=5)
        P, P2, c, r, r2 = filters.shape
        if P != P2 or r != r2:
            raise ValueError(f"filters must have shape (P, P, c, r, r), got {filters.shape}")
        self.filters = filters
        self.eps = check.real(eps, "eps", minimum=0)
        self.shape = (c, P + r - 1, P + r - 1)
        self._field_shape = self.shape
        self.name = name

    def _run(self, fields: np.ndarray, grads: np.ndarray) -> np.ndarray:
        return kernels.channel_unit_values_grads(self.filters, self.eps, fields, grads)

    def hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Exact Hessian-vector products ``H v`` at ``x`` for the m vectors ``V`` (m, *shape)."""
        return kernels.channel_unit_hvp(self.filters, self.eps, self._field(x), self._directions(V))

    def geodesic_values(
        self, x: np.ndarray, directions: np.ndarray, rho: float, angles: np.ndarray
    ) -> np.ndarray:
        """Activations along geodesics (Numba kernel; responses are linear in x)."""
        W = self._directions(directions)
        angles = check.array(angles, "angles", shape=(len(W), None))
        return kernels.channel_unit_geodesic_values(
            self.filters, self.eps, self._field(x), W, float(rho), angles
        )

    def quadratic_matrix(self) -> np.ndarray:
        """The matrix ``A = sum_uv w_uv w_uv^T`` (n, n), filters embedded in the field."""
        P, r = self.filters.shape[0], self.filters.shape[3]
        embedded = np.zeros((P, P, *self.shape))
        for u in range(P):
            for v in range(P):
                embedded[u, v, :, u : u + r, v : v + r] = self.filters[u, v]
        w = embedded.reshape(P * P, -1)
        return w.T @ w

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The exact Hessian (n, n) at ``x``."""
        x = self._field(x).ravel()
        A = self.quadratic_matrix()
        Ax = A @ x
        g = np.sqrt(self.eps + x @ Ax)
        return A / g - np.outer(Ax, Ax) / g**3


class LayerTwoUnit(_FieldUnit):
    """A layer-2 pooling unit of a two-layer tiled CNN, on its field of pixels.

    ``g(x) = sqrt(eps2 + sum_uv h2_uv^2)`` with ``h2_uv = F2[u, v] . p1[:, u:u+r2, v:v+r2]``
    and ``p1`` the layer-1 pooled maps of the field (see :mod:`tcnn_widgets._kernels2`).
    No closed-form Hessian: Hessian-vector products (:meth:`hvp`, and the analysis's
    finite-difference path) are central differences of the gradient, batched in one
    parallel Numba call (:meth:`fd_hvp`); ``has_exact_hvp`` is False.

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

    def fd_hvp(
        self, x: np.ndarray, V: np.ndarray, step: float, chunk_values: int = 0
    ) -> np.ndarray:
        """Central differences of the gradient along each vector (docs/method.md §5, §10).

        ``H v ~ (grad(x + h v) - grad(x - h v)) / 2h`` with ``h = step / ||v||`` (every
        point lies ``step`` from x), as :meth:`Unit.fd_hvp`; here the 2m gradients run in
        one parallel Numba call. :meth:`Unit.hvp` (``step = 1e-5 ||x||``) and the
        analysis's ``hessian="fd"`` both come here. Zero vectors give zero products;
        ``chunk_values`` is accepted for the interface.

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
