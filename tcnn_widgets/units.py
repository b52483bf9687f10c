"""Units: scalar functions of a stimulus with their gradients (docs/method.md §1).

A stimulus has shape ``(h, w)`` or ``(c, h, w)`` (channels first). `Unit` is the
interface the analysis needs. `CallableUnit` wraps any user function
and gradient; `PoolingUnit` is a square-root pooling unit of a tiled CNN, with
Numba kernels and its exact Hessian.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _kernels as kernels
from ._validate import image_shape


class Unit:
    """A scalar function g(x) of a stimulus x of shape ``shape``, with its gradient.

    ``shape`` is ``(h, w)`` or ``(c, h, w)`` (channels first). Subclasses implement
    :meth:`values_and_grads` (and may override the others for speed). :meth:`hvp`
    gives Hessian-vector products: central differences of the gradient unless a
    subclass overrides it with exact ones (then ``has_exact_hvp`` is True).
    :meth:`hessian` exists only where a closed form is known (``has_exact_hessian``).

    Example
    -------
    >>> class Energy(Unit):  # g(x) = sum x^2 / 2 on 3 x 8 x 8 colour stimuli
    ...     shape = (3, 8, 8)
    ...     def values_and_grads(self, X):
    ...         return 0.5 * np.sum(X**2, axis=(1, 2, 3)), X.copy()
    >>> Energy().hvp(np.ones((3, 8, 8)), np.ones((1, 3, 8, 8))).shape
    (1, 3, 8, 8)
    """

    shape: tuple[int, ...]
    name: str = ""
    has_exact_hessian: bool = False
    # True when hvp comes from automatic differentiation of the same function as the
    # gradient: then it is not checked against differences of the gradient, which are
    # wrong across the kinks of ReLU and max-pool networks (tcnn_widgets.torch)
    hvp_by_autodiff: bool = False
    # True when a stack of m stimuli or products costs much less than m calls of one
    # (values_and_grads takes stacks); the matrix-free ends then ask for products in
    # blocks. A CallableUnit of per-image callables sets it False.
    batched: bool = True

    @property
    def has_exact_hvp(self) -> bool:
        """True when :meth:`hvp` is exact (a closed form or user code), not differences."""
        return type(self).hvp is not Unit.hvp

    # ---- to implement ---------------------------------------------------------------
    def values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activations (N,) and gradients (N, *shape) for a stack ``X`` (N, *shape)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement values_and_grads(X): for a stack X of "
            f"shape (N, {', '.join(map(str, self.shape))}) return the activations (N,) and the "
            "gradients of X's shape"
        )

    # ---- derived --------------------------------------------------------------------
    def checked_values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`values_and_grads` with its outputs checked; the analysis calls only this.

        Returns
        -------
        values : ndarray (N,), float64
        grads : ndarray (N, *shape), float64

        Raises
        ------
        TypeError
            For complex or non-numeric outputs.
        ValueError
            For outputs of the wrong shape, or NaN or infinite values (named with the
            norm of the inputs, which shows a radius too large for the unit).
        """
        return self.check_outputs(X, *self.values_and_grads(X))

    def check_outputs(self, X: np.ndarray, values, grads) -> tuple[np.ndarray, np.ndarray]:
        """The outputs of :meth:`values_and_grads` at ``X``, checked as
        :meth:`checked_values_and_grads` describes (same returns and errors)."""
        if _finite_float64(values, (len(X),)) and _finite_float64(grads, X.shape):
            return values, grads
        who = f"{type(self).__name__}.values_and_grads"
        for name, output, shape in (
            ("activations", values, (len(X),)),
            ("gradients", grads, X.shape),
        ):
            output = np.asarray(output)
            if output.dtype.kind not in "fiu":
                raise TypeError(f"{who} returned {name} of dtype {output.dtype}; they must be real")
            if output.shape != shape:
                raise ValueError(f"{who} returned {name} of shape {output.shape}, expected {shape}")
            if not np.all(np.isfinite(output)):
                largest = float(np.max(np.abs(X))) if X.size else 0.0
                raise ValueError(
                    f"{who} returned NaN or infinite {name} at inputs with entries up to "
                    f"{largest:.3g}; check the unit there (a smaller radius helps if it overflows)"
                )
        return np.asarray(values, dtype=np.float64), np.asarray(grads, dtype=np.float64)

    def values(self, X: np.ndarray) -> np.ndarray:
        """Activations (N,) for a stack ``X`` (N, *shape)."""
        return self.checked_values_and_grads(X)[0]

    def value(self, x: np.ndarray) -> float:
        """The activation g(x) of one image."""
        return float(self.values(self.check_input(x)[None])[0])

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The gradient of g at one stimulus, of the unit's shape."""
        return self.checked_values_and_grads(self.check_input(x)[None])[1][0]

    def geodesic_values(
        self, x: np.ndarray, directions: np.ndarray, rho: float, angles: np.ndarray
    ) -> np.ndarray:
        """Activations ``g(cos t x + sin t rho w_d)`` along geodesics of the sphere.

        Parameters
        ----------
        x : ndarray (*shape)
            The point the geodesics start from.
        directions : ndarray (D, *shape)
            Unit tangent directions.
        rho : float
            Sphere radius.
        angles : ndarray (D, K)
            The angles t at which to evaluate each direction's geodesic.

        Returns
        -------
        ndarray (D, K)
        """
        D, K = angles.shape
        n = x.size
        points = np.cos(angles)[:, :, None] * x.reshape(1, 1, n) + rho * np.sin(angles)[
            :, :, None
        ] * directions.reshape(D, 1, n)
        return self.values(points.reshape(D * K, *self.shape)).reshape(D, K)

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """The exact Hessian (n, n) at ``x``, where a closed form is known."""
        raise NotImplementedError(
            f"{type(self).__name__} has no closed-form Hessian; use hessian='fd'"
        )

    def fd_hessian(self, x: np.ndarray, step: float, chunk: int = 256) -> np.ndarray:
        """Central differences of the gradient (METHOD section 5).

        Returns the unsymmetrized (n, n) matrix; column i is
        ``(grad(x + step e_i) - grad(x - step e_i)) / (2 step)``. The 2n points go
        to :meth:`values_and_grads` ``chunk`` columns at a time, so a unit that
        evaluates stacks at once (a vectorized callable) gets few, large calls.
        """
        n = x.size
        H = np.empty((n, n))
        for start in range(0, n, chunk):
            columns = np.arange(start, min(start + chunk, n))
            points = np.repeat(x.reshape(1, n), 2 * len(columns), axis=0)
            points[2 * np.arange(len(columns)), columns] += step
            points[2 * np.arange(len(columns)) + 1, columns] -= step
            grads = self.checked_values_and_grads(points.reshape(len(points), *self.shape))[1]
            grads = grads.reshape(len(columns), 2, n)
            H[:, columns] = ((grads[:, 0] - grads[:, 1]) / (2 * step)).T
        return H

    def hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Hessian-vector products ``H(x) v`` for the m vectors of ``V`` (m, *shape).

        Subclasses with a closed form (or autodiff) override this; the default is
        :meth:`fd_hvp` with a step of ``1e-5 ||x||`` (docs/method.md §10).

        Returns
        -------
        ndarray (m, *shape)

        Example
        -------
        >>> HV = unit.hvp(x, np.stack([x, -x]))  # doctest: +SKIP
        """
        x = self.check_input(x)
        V = self.check_stack(V)
        return self.fd_hvp(x, V, 1e-5 * max(float(np.linalg.norm(x)), 1e-300))

    def fd_hvp(
        self, x: np.ndarray, V: np.ndarray, step: float, chunk_values: int = 1 << 22
    ) -> np.ndarray:
        """Central differences of the gradient along each vector (docs/method.md §10).

        ``H v ~ (grad(x + h v) - grad(x - h v)) / 2h`` with ``h = step / ||v||``, so that
        every evaluation point lies ``step`` away from x. The 2m points go to
        :meth:`values_and_grads` in stacks of at most ``chunk_values`` entries, so a
        vectorized unit gets few, large calls.

        Parameters
        ----------
        x : ndarray (*shape)
        V : ndarray (m, *shape)
        step : float
            Distance of the evaluation points from x.

        Returns
        -------
        ndarray (m, *shape); zero rows for zero vectors.
        """
        n = x.size
        V = np.asarray(V, dtype=np.float64).reshape(-1, n)
        sizes = np.sqrt(np.einsum("ij,ij->i", V, V))
        h = step / np.where(sizes > 0, sizes, 1.0)
        out = np.zeros_like(V)
        per_chunk = max(1, chunk_values // (2 * n))
        for start in range(0, len(V), per_chunk):
            rows = slice(start, start + per_chunk)
            offsets = h[rows, None] * V[rows]
            points = np.empty((2 * len(offsets), n))
            points[0::2] = x.reshape(1, n) + offsets
            points[1::2] = x.reshape(1, n) - offsets
            grads = self.checked_values_and_grads(points.reshape(len(points), *self.shape))[1]
            grads = grads.reshape(len(offsets), 2, n)
            out[rows] = (grads[:, 0] - grads[:, 1]) / (2 * h[rows, None])
        out[sizes == 0] = 0.0
        return out.reshape(len(V), *self.shape)

    def check_stack(self, X: np.ndarray) -> np.ndarray:
        """``X`` as a C-contiguous float64 stack (N, *shape) of this unit's stimuli."""
        if (
            isinstance(X, np.ndarray)
            and X.ndim > 0
            and X.flags.c_contiguous
            and _finite_float64(X, (X.shape[0], *self.shape))
        ):
            return X  # already what is asked for: no copy, as np.ascontiguousarray
        X = np.asarray(X)
        if X.ndim != 1 + len(self.shape) or X.shape[1:] != tuple(self.shape):
            wanted = ", ".join(str(s) for s in self.shape)
            raise ValueError(f"expected a stack of images of shape (N, {wanted}), got {X.shape}")
        if X.dtype.kind not in "fiu":
            raise TypeError(f"images must be real-valued, got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not np.isfinite(X).all():
            raise ValueError("the images contain NaN or infinite values")
        return X

    def check_input(self, x: np.ndarray) -> np.ndarray:
        """``x`` as a float64 array of this unit's shape; a clear error otherwise."""
        x = np.asarray(x)
        if x.dtype.kind not in "fiu":
            raise TypeError(f"x must be a real-valued array, got dtype {x.dtype}")
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.shape != tuple(self.shape):
            raise ValueError(f"x has shape {x.shape}; this unit takes images of shape {self.shape}")
        if not np.isfinite(x).all():
            raise ValueError("x contains NaN or infinite values")
        return x


class CallableUnit(Unit):
    """A unit given as plain callables ``f(x) -> float`` and ``grad(x) -> shape``.

    Parameters
    ----------
    f, grad : callable
        The activation and its gradient, on float64 stimuli of shape ``shape``.
    shape : (int, int) or (int, int, int)
        Stimulus shape (h, w), or (c, h, w) with channels first.
    vectorized : bool
        If True, ``f`` and ``grad`` accept a stack (N, *shape) and return (N,) and
        (N, *shape); the analysis then evaluates many points per call.
    hessian : callable, optional
        ``hessian(x)`` returning the (n, n) or (*shape, *shape) Hessian, used by
        ``analyze(..., hessian="exact")``.
    hvp : callable, optional
        ``hvp(x, V)`` returning the Hessian-vector products (m, *shape) of the m
        vectors ``V`` (m, *shape) at x (exact: a closed form or autodiff); used by
        ``analyze(..., hessian="exact")``, which first checks one product against
        finite differences of ``grad``.
    name : str
        Shown in results and figures.
    """

    def __init__(
        self,
        f: Callable,
        grad: Callable,
        shape: tuple[int, ...],
        *,
        vectorized: bool = False,
        hessian: Callable | None = None,
        hvp: Callable | None = None,
        name: str = "",
    ) -> None:
        if not callable(f):
            raise TypeError(f"f must be callable, got {type(f).__name__}")
        if not callable(grad):
            raise TypeError(f"grad must be callable, got {type(grad).__name__}")
        if hessian is not None and not callable(hessian):
            raise TypeError(f"hessian must be callable or None, got {type(hessian).__name__}")
        if hvp is not None and not callable(hvp):
            raise TypeError(f"hvp must be callable or None, got {type(hvp).__name__}")
        self.shape = image_shape(shape)
        self._f, self._grad, self._hessian, self._hvp = f, grad, hessian, hvp
        self.vectorized = bool(vectorized)
        self.batched = self.vectorized
        self.has_exact_hessian = hessian is not None
        self.name = name

    def values(self, X: np.ndarray) -> np.ndarray:
        """Activations (N,) of a stack of images, checked (see :meth:`values_and_grads`)."""
        if self.vectorized:
            values = np.asarray(self._f(X), dtype=np.float64)
        else:
            values = np.array([self._f(x) for x in X], dtype=np.float64)
        if values.shape != (len(X),):
            raise ValueError(
                f"f returned shape {values.shape} for {len(X)} image(s); expected a scalar per "
                "image (set vectorized=True only if f takes a stack of images)"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError("f returned NaN or infinite values; check the unit near this input")
        return values

    def values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activations (N,) and gradients (N, *shape), with clear errors for bad output.

        A gradient may also come flat, with n entries per stimulus.
        """
        values = self.values(X)
        if self.vectorized:
            grads = np.asarray(self._grad(X), dtype=np.float64)
        else:
            try:
                grads = np.array([np.asarray(self._grad(x), dtype=np.float64) for x in X])
            except ValueError:  # gradients of different shapes
                grads = np.array(None)
        n = int(np.prod(self.shape))
        if grads.shape == (len(X), n):
            grads = grads.reshape(X.shape)
        if grads.shape != X.shape:
            got = grads.shape if self.vectorized else grads.shape[1:]
            want = X.shape if self.vectorized else X.shape[1:]
            raise ValueError(
                f"grad returned shape {got}, expected {want}: the gradient must have the "
                "image's shape"
            )
        if not np.all(np.isfinite(grads)):
            raise ValueError("grad returned NaN or infinite values; check the gradient function")
        return values, grads

    def hessian(self, x: np.ndarray) -> np.ndarray:
        if self._hessian is None:
            return super().hessian(x)
        return checked_hessian(self._hessian(x), self.shape, "hessian")

    @property
    def has_exact_hvp(self) -> bool:
        return self._hvp is not None

    def hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """The user's ``hvp(x, V)``, checked (shape, finite); differences without one."""
        if self._hvp is None:
            return super().hvp(x, V)
        V = self.check_stack(V)
        return checked_products(self._hvp(self.check_input(x), V), V.shape, "hvp")


class PoolingUnit(Unit):
    """A square-root pooling unit ``g(x) = sqrt(eps + sum_uv (F[u, v] . x[u:u+r, v:v+r])^2)``.

    Its field is ``(r + P - 1)`` pixels square. It equals ``sqrt(eps + x^T A x)`` with
    ``A`` the sum of ``w w^T`` over its P^2 filters embedded in the field, so it has
    an exact Hessian ``A / g - (A x)(A x)^T / g^3`` (METHOD section 8).

    Parameters
    ----------
    filters : ndarray, shape (P, P, r, r)
        ``filters[u, v]`` acts on the patch at offset (u, v).
    eps : float
        Smoothing constant, >= 0.
    name : str
        Shown in results and figures.
    """

    has_exact_hessian = True

    def __init__(self, filters: np.ndarray, eps: float, name: str = "") -> None:
        filters = np.ascontiguousarray(filters, dtype=np.float64)
        if filters.ndim != 4 or filters.shape[0] != filters.shape[1]:
            raise ValueError(f"filters must have shape (P, P, r, r), got {filters.shape}")
        if filters.shape[2] != filters.shape[3]:
            raise ValueError(f"filters must be square, got {filters.shape[2:]}")
        if not np.all(np.isfinite(filters)):
            raise ValueError("filters contain NaN or infinite values")
        if not np.isfinite(eps) or eps < 0:
            raise ValueError(f"eps must be finite and >= 0, got {eps!r}")
        self.filters = filters
        self.eps = float(eps)
        side = filters.shape[0] + filters.shape[2] - 1
        self.shape = (side, side)
        self.name = name

    def values(self, X: np.ndarray) -> np.ndarray:
        """Activations (N,) for a stack ``X`` of N fields (Numba kernel)."""
        return kernels.unit_values(self.filters, self.eps, self.check_stack(X))

    def values_and_grads(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activations (N,) and gradients (N, h, w) for a stack of fields (Numba kernel)."""
        return kernels.unit_values_grads(self.filters, self.eps, self.check_stack(X))

    def fd_hessian(self, x: np.ndarray, step: float, chunk: int = 0) -> np.ndarray:
        """Central-difference Hessian (Numba kernel; see :meth:`Unit.fd_hessian`).

        ``chunk`` is accepted for the interface and not needed here.
        """
        return kernels.unit_fd_hessian(self.filters, self.eps, self.check_input(x), step)

    def geodesic_values(
        self, x: np.ndarray, directions: np.ndarray, rho: float, angles: np.ndarray
    ) -> np.ndarray:
        """Activations along geodesics (Numba kernel; see :meth:`Unit.geodesic_values`)."""
        directions = self.check_stack(directions)
        angles = np.ascontiguousarray(angles, dtype=np.float64)
        if angles.ndim != 2 or len(angles) != len(directions):
            raise ValueError(f"angles must have shape ({len(directions)}, K), got {angles.shape}")
        return kernels.unit_geodesic_values(
            self.filters, self.eps, self.check_input(x), directions, float(rho), angles
        )

    def hvp(self, x: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Exact products ``H v = A v / g - (A x)(A x . v) / g^3`` (docs/method.md §8).

        ``A v`` is computed by applying the P^2 filters (O(P^2 r^2) per vector),
        without forming A.
        """
        x = self.check_input(x)
        V = self.check_stack(V)
        Ax = self._apply_a(x[None])[0]
        g = np.sqrt(self.eps + float(np.sum(x * Ax)))
        AV = self._apply_a(V)
        along = np.einsum("mij,ij->m", V, Ax)
        return AV / g - along[:, None, None] * Ax / g**3

    def _apply_a(self, V: np.ndarray) -> np.ndarray:
        """``A v`` (m, s, s) for a stack of fields: filter responses, then the filters back."""
        P, r = self.filters.shape[0], self.filters.shape[2]
        windows = np.lib.stride_tricks.sliding_window_view(V, (r, r), axis=(1, 2))
        responses = np.einsum("mpqab,pqab->mpq", windows, self.filters)
        out = np.zeros_like(V)
        for u in range(P):
            for v in range(P):
                out[:, u : u + r, v : v + r] += responses[:, u, v, None, None] * self.filters[u, v]
        return out

    def quadratic_matrix(self) -> np.ndarray:
        """The matrix ``A = sum_uv w_uv w_uv^T`` (n, n), filters embedded in the field."""
        P, r = self.filters.shape[0], self.filters.shape[2]
        embedded = np.zeros((P, P, *self.shape))
        for u in range(P):
            for v in range(P):
                embedded[u, v, u : u + r, v : v + r] = self.filters[u, v]
        w = embedded.reshape(P * P, -1)
        return w.T @ w

    def hessian(self, x: np.ndarray) -> np.ndarray:
        x = self.check_input(x).ravel()
        A = self.quadratic_matrix()
        Ax = A @ x
        g = np.sqrt(self.eps + x @ Ax)
        return A / g - np.outer(Ax, Ax) / g**3


def _finite_float64(output, shape: tuple[int, ...]) -> bool:
    """True for a float64 ndarray of ``shape`` with only finite entries: the common
    case, told in a few microseconds; otherwise the caller runs its full checks, which
    say what is wrong."""
    return (
        type(output) is np.ndarray
        and output.dtype == np.float64
        and output.shape == shape
        and bool(np.isfinite(output).all())
    )


def checked_hessian(H, shape: tuple[int, ...], source: str) -> np.ndarray:
    """A Hessian from user code as a finite (n, n) float64 array, or a clear error.

    Parameters
    ----------
    H : array-like
        Shape (n, n) or (*shape, *shape).
    shape : tuple of int
        The stimulus shape.
    source : str
        What produced H, for the message (e.g. ``"the hessian callable"``).
    """
    n = int(np.prod(shape))
    H = np.asarray(H, dtype=np.float64)
    if H.shape not in ((n, n), (*shape, *shape)):
        raise ValueError(f"{source} returned shape {H.shape}, expected ({n}, {n})")
    if not np.all(np.isfinite(H)):
        raise ValueError(f"{source} returned NaN or infinite values")
    return H.reshape(n, n)


def checked_products(HV, expected: tuple[int, ...], source: str) -> np.ndarray:
    """Hessian-vector products from user code as a finite float64 array, or a clear error.

    Parameters
    ----------
    HV : array-like
        Shape ``expected`` (m, *shape), or flat (m, n).
    expected : tuple of int
        The shape of the stack of vectors V.
    source : str
        What produced the products, for the message.

    Raises
    ------
    ValueError
        For another shape, NaN or infinite values.
    """
    HV = np.asarray(HV, dtype=np.float64)
    flat = (expected[0], int(np.prod(expected[1:])))
    if HV.shape == flat:
        HV = HV.reshape(expected)
    if HV.shape != tuple(expected):
        raise ValueError(
            f"{source} returned shape {HV.shape} for vectors V of shape {tuple(expected)}; "
            "it must return one product per vector, of V's shape"
        )
    if not np.all(np.isfinite(HV)):
        raise ValueError(f"{source} returned NaN or infinite values")
    return HV
