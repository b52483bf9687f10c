"""Naming invariances: translation, rotation, scale or other (docs/method.md section 9).

A direction w in the tangent plane at the optimal stimulus x* is compared with the
*generators* of small image transformations of x*, with u along columns and v along
rows (all projected onto the tangent plane: the part along x* only changes the
contrast, which the sphere removes):

- translation: ``Du = dx*/du`` and ``Dv = dx*/dv``, and, as translation's own second
  order, ``Duu``, ``Duv`` and ``Dvv``;
- rotation about a centre c: ``R_c = (v - c_v) Du - (u - c_u) Dv``;
- scale about c: ``S_c = (u - c_u) Du + (v - c_v) Dv``.

Names do not depend on where the pattern sits
---------------------------------------------
``R_c`` and ``S_c`` are the same motions about any other point plus a translation, so
the *similarity span* {Du, Dv, R, S} is the same for every centre. A direction is fitted
inside that span (least squares), ``w ~ a Du + b Dv + r R_0 + s S_0``; when r or s is
nonzero, the motion is exactly ``r R_c + s S_c`` about the one centre c that cancels the
translation part (a rotation-and-scaling always has a fixed point). If c lies farther
than :data:`REACH` standard deviations outside the pattern's energy envelope (the
distribution of ``x*^2`` over pixels, summed over channels), that motion is, over the
pattern, a translation, and it is named so.

Second-order translation terms (``Duu``, ``Duv``, ``Dvv``) count as translation, but only
for a unit that is translation invariant to first order: when the translations Du and
Dv already lie (on average at least :data:`CAPTURED`, more than one axis alone) in the
span of the *more invariant* directions listed before w, and w is in the more invariant
half of the directions given (the k most invariant of a matrix-free result). The reason
is measured, not assumed: for a Gabor in a Gaussian envelope the second-order shift
terms span 88-96 % of the true rotation and scaling generators (for a Gaussian,
``u d/du`` and ``d2/du2`` differ by a contrast change), so they cannot tell the families
apart on their own; but a unit that pools shifted copies is invariant to first-order
shifts before second-order ones, and a unit that pools rotated copies is not invariant
to shifts at all.

A quadrature pair (an energy unit of a Gabor and its 90-degree phase partner) is
invariant to the carrier's phase. A phase shift moves the stripes across themselves
while the envelope stays; to first order that is a translation across the stripes, and
the similarity span cannot tell the two apart, so it is named "translation".

A colour stimulus (c, h, w) moves all its channels together: each generator is the same
motion applied to every channel, and the envelope sums the channels' energies.

Fractions partition the explained energy
----------------------------------------
``fractions[i]`` = (translation, rotation, scale) parts of the energy of w_i that the
span explains; they sum to that explained share (at most 1). Without second-order
translation, the rotation and scale parts ``r R_c`` and ``s S_c`` share the explained
energy in proportion to their squared norms (the translation part is zero about c, or
all of it when c is far outside the envelope). With it, translation takes what the
translation span {Du, Dv, Duu, Duv, Dvv} explains, and rotation and scale share the
rest the same way. The best family names the direction when its fraction is at least
``min_fraction``; otherwise it is "other".

Smooth derivatives
------------------
The derivatives are spectral derivatives of the mirror-symmetric extension of the
stimulus (the DCT-II extension ``x0 .. x_{n-1}, x_{n-1} .. x0``). The mirrored
signal is continuous, so, unlike a plain periodic FFT derivative, it has no jump
at the border to ring; and, unlike finite differences or derivative-of-Gaussian
filters, it neither damps nor blurs the short wavelengths that small optimal
stimuli contain (a 10 x 10 Gabor often has a wavelength of 3 to 5 pixels). On
random Gabor patches cut by the border, its derivative is several times closer to
the analytic one than central differences, cubic splines, sinc interpolation or
derivative-of-Gaussian filters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate

FAMILIES = ("translation", "rotation", "scale")
REACH = 3.0  # centres beyond this many envelope standard deviations make a translation
CAPTURED = 0.75  # share of Du, Dv in earlier directions: translation invariant (both axes)
_LABELS = np.array([*FAMILIES, "other"])
_SPANS = {  # columns of the generator matrix G: Du, Dv, R, S, Duu, Duv, Dvv
    "shifts": (0, 1),
    "similarity": (0, 1, 2, 3),
    "full": (0, 1, 2, 3, 4, 5, 6),
    "translation": (0, 1, 4, 5, 6),
}


@dataclass
class DirectionNames:
    """Names of tangent directions and what they rest on.

    Attributes
    ----------
    labels : ndarray of str, shape (m,)
        "translation", "rotation", "scale" or "other".
    fractions : ndarray, shape (m, 3)
        Parts of each direction's energy explained by translation, rotation and scale
        (:data:`FAMILIES` order); they partition the explained energy, so each row
        sums to at most 1.
    centres : ndarray, shape (m, 2)
        ``(row, column)`` in pixels of the centre of the rotation or scaling, for
        directions labelled "rotation" or "scale"; NaN for the others.
    """

    labels: np.ndarray
    fractions: np.ndarray
    centres: np.ndarray


def name_directions(
    stimulus: np.ndarray,
    directions: np.ndarray,
    *,
    min_fraction: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Label tangent directions as translation, rotation, scale or other.

    The labels and fractions of :func:`describe_directions` (which also returns the
    centres of rotations and scalings).

    Returns
    -------
    labels : ndarray of str, shape (m,)
    fractions : ndarray, shape (m, 3)
    """
    names = describe_directions(stimulus, directions, min_fraction=min_fraction)
    return names.labels, names.fractions


def describe_directions(
    stimulus: np.ndarray, directions: np.ndarray, *, min_fraction: float = 0.5
) -> DirectionNames:
    """Name tangent directions, independently of where the pattern sits (module docstring).

    Parameters
    ----------
    stimulus : ndarray, shape (h, w) or (c, h, w)
        The optimal stimulus x* (any nonzero norm); channels first for colour. A colour
        stimulus moves all its channels together.
    directions : ndarray, shape (m, *stimulus.shape)
        Any number m >= 1 of tangent directions at x* (``w . x* = 0``), most invariant
        first and orthogonal to each other, as ``Invariances.directions`` (all n - 1, or
        the 2k of a matrix-free result). They need not have unit norm: fractions are
        relative to each one's energy. The order matters only for second-order
        translation terms, which count for a direction of the more invariant half when
        the translations lie in the span of the directions before it.
    min_fraction : float
        A direction is named after the family with the largest fraction if that
        fraction is at least ``min_fraction``, else "other".

    Returns
    -------
    DirectionNames

    Raises
    ------
    ValueError, TypeError
        For shapes that do not match, non-finite values, an all-zero stimulus or
        direction, or ``min_fraction`` outside [0, 1].

    Example
    -------
    >>> import numpy as np
    >>> rows, cols = np.mgrid[:20, :20] - np.array([6.0, 13.0])[:, None, None]
    >>> x = np.exp(-(rows**2 + cols**2) / 8) * np.cos(1.5 * cols + 0.3 * rows)
    >>> turn = rows * np.gradient(x, axis=1) - cols * np.gradient(x, axis=0)
    >>> turn -= (turn * x).sum() / (x * x).sum() * x
    >>> names = describe_directions(x, turn[None])
    >>> str(names.labels[0]), np.round(names.centres[0])
    ('rotation', array([ 6., 13.]))
    """
    x, W = _check_inputs(stimulus, directions, min_fraction)
    if x.ndim == 2:
        x, W = x[None], W[:, None]
    basis = _Generators(x)
    flat = W.reshape(len(W), -1)
    energy = np.sum(flat**2, axis=1)
    products = flat @ basis.G  # (m, 7): everything the fits need of the directions
    second = basis.translation_invariant_from(products, energy)
    fractions, centres = basis.explain(products, second)
    fractions /= energy[:, None]
    best = np.argmax(fractions, axis=1)
    named = fractions[np.arange(len(W)), best] >= min_fraction
    centres[~named | (best == 0)] = np.nan  # centres only for rotations and scalings
    return DirectionNames(_LABELS[np.where(named, best, 3)], fractions, centres)


class _Generators:
    """The tangent-projected generators of one stimulus (c, h, w), and fits in their span.

    Columns of ``G`` (n, 7): Du, Dv, R and S about the energy centre, Duu, Duv, Dvv.
    """

    def __init__(self, x: np.ndarray) -> None:
        energy = np.sum(x**2, axis=0)
        h, w = energy.shape
        coordinates = np.indices((h, w), dtype=float).reshape(2, -1)  # rows, columns
        weights = energy.ravel() / energy.sum()
        self.mean = coordinates @ weights
        coordinates -= self.mean[:, None]
        self.spread = (coordinates * weights) @ coordinates.T + np.eye(2) / 12  # >= 1 pixel
        v, u = coordinates.reshape(2, h, w)
        along_u = derivative_matrix(w)
        along_v = along_u if h == w else derivative_matrix(h)
        du, dv = x @ along_u.T, along_v @ x
        raw = [du, dv, v * du - u * dv, u * du + v * dv, du @ along_u.T, along_v @ du, along_v @ dv]
        G = np.stack(raw, axis=-1).reshape(-1, len(raw))
        unit = x.ravel() / np.linalg.norm(x)
        self.G = G - np.outer(unit, unit @ G)
        self.gram = self.G.T @ self.G  # fits go through the 7 x 7 Gram matrix: O(m) each
        inverses, ranks = _pseudo_inverses(self.gram, _MASKS)
        self.inverse = dict(zip(_SPANS, inverses, strict=True))
        self.rank = dict(zip(_SPANS, ranks, strict=True))

    def translation_invariant_from(self, products: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """For each direction of the more invariant half: do the directions before it hold
        Du and Dv (at least :data:`CAPTURED` of their energy, on average)? Assumes
        orthogonal directions, most invariant first. (Near the least invariant end, the
        directions before hold almost the whole tangent space, translations included,
        whatever the unit: there the rule would say nothing about invariance.)

        ``products``: the directions' inner products with the generators, (m, 7);
        ``energy``: their squared norms, (m,)."""
        rank = self.rank["shifts"]
        if rank == 0:
            return np.zeros(len(products), dtype=bool)
        held = self.explained(products, "shifts") / energy
        before = np.cumsum(held) - held
        more_invariant_half = np.arange(len(products)) < (len(products) + 1) // 2
        return (before / rank >= CAPTURED) & more_invariant_half

    def explained(self, products: np.ndarray, span: str) -> np.ndarray:
        """Squared norms (m,) of the directions' projections onto one of :data:`_SPANS`."""
        return np.sum((products @ self.inverse[span]) * products, axis=1)

    def explain(
        self, products: np.ndarray, second_order: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Explained energy of each direction split into (translation, rotation, scale),
        shape (m, 3), and the centres (m, 2) (row, column) of their rotation or scaling
        parts (NaN where there is none).

        ``products`` as in :meth:`translation_invariant_from`; ``second_order`` (m,) bool:
        which directions also count second-order translation terms."""
        similarity = products @ self.inverse["similarity"]  # least squares, minimum norm
        full = products @ self.inverse["full"]
        chosen = np.where(second_order[:, None], full, similarity)
        coefficients = chosen[:, :4]
        explained = np.sum(chosen * products, axis=1)
        translated = np.zeros(len(products))
        if np.any(second_order):
            shifts = self.explained(products, "translation")
            translated = np.where(second_order, np.minimum(shifts, explained), 0.0)
        a, b, r, s = coefficients.T
        centres = self.centres(a, b, r, s)
        c_v, c_u = (centres - self.mean).T
        # squared norms of r R_c = r (R - c_v Du + c_u Dv) and s S_c = s (S - c_u Du - c_v Dv)
        K = self.gram
        parts = np.empty((len(products), 2))
        parts[:, 0] = r * r * (
            K[2, 2] + c_v * c_v * K[0, 0] + c_u * c_u * K[1, 1]
            - 2 * c_v * K[0, 2] + 2 * c_u * K[1, 2] - 2 * c_v * c_u * K[0, 1]
        )  # fmt: skip
        parts[:, 1] = s * s * (
            K[3, 3] + c_u * c_u * K[0, 0] + c_v * c_v * K[1, 1]
            - 2 * c_u * K[0, 3] - 2 * c_v * K[1, 3] + 2 * c_u * c_v * K[0, 1]
        )  # fmt: skip
        total = parts.sum(axis=1)
        moving = np.isfinite(total) & (total > 0)
        fractions = np.zeros((len(products), 3))
        fractions[:, 0] = np.where(moving, translated, explained)
        share = np.divide(parts, total[:, None], out=np.zeros_like(parts), where=moving[:, None])
        fractions[:, 1:] = (explained - translated)[:, None] * share
        centres[~moving] = np.nan
        return np.maximum(fractions, 0.0), centres

    def centres(self, a: np.ndarray, b: np.ndarray, r: np.ndarray, s: np.ndarray) -> np.ndarray:
        """The fixed points (m, 2) (row, column) of ``a Du + b Dv + r R + s S``; NaN where
        there is none (no rotation or scaling) or where it lies beyond :data:`REACH`
        envelope standard deviations (over the pattern, that motion is a translation)."""
        size = r * r + s * s
        (p, q), (_, t) = self.spread  # symmetric 2 x 2: its inverse in closed form
        with np.errstate(divide="ignore", invalid="ignore"):  # no fixed point: NaN
            offsets = np.column_stack([-r * a - s * b, r * b - s * a]) / size[:, None]
            d_v, d_u = offsets.T
            reach = (t * d_v * d_v - 2 * q * d_v * d_u + p * d_u * d_u) / (p * t - q * q)
        offsets[~(reach <= REACH**2)] = np.nan  # NaN compares false: stays NaN
        return self.mean + offsets


_MASKS = np.array([[float(i in columns) for i in range(7)] for columns in _SPANS.values()])


def _pseudo_inverses(gram: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pseudo-inverses (k, 7, 7) of the Gram matrix restricted to each of k spans of
    columns (``masks`` (k, 7): 1 in the span, 0 outside; the inverse is zero outside), and
    their ranks, in one batched eigen-decomposition on unit-norm columns, so that absent
    generators (e.g. the rotation of a round stimulus) drop out."""
    size = np.sqrt(np.diag(gram))
    size[size == 0] = 1.0
    restricted = gram / np.outer(size, size) * masks[:, :, None] * masks[:, None, :]
    values, vectors = np.linalg.eigh(restricted)
    keep = values > 1e-12 * np.maximum(values.max(axis=1, keepdims=True), np.finfo(float).tiny)
    scaled = np.where(keep, 1 / np.where(keep, values, 1.0), 0.0)
    inverses = (vectors * scaled[:, None, :]) @ np.swapaxes(vectors, 1, 2)
    return inverses / np.outer(size, size), keep.sum(axis=1)


def derivative_matrix(m: int) -> np.ndarray:
    """The matrix D (m, m) of :func:`mirror_derivative` along an axis of m samples:
    ``D @ s`` is the derivative of the samples ``s``, from the cosine series of the
    mirror-extended samples, ``s_j = sum_k a_k cos(pi k (j + 1/2) / m)``, differentiated
    term by term (the same numbers as the FFT route, without the FFT's overhead)."""
    j, k = np.arange(m) + 0.5, np.arange(m)
    angles = np.pi * np.outer(k, j) / m
    return -(2 * np.pi / m**2) * (np.sin(angles).T * k) @ np.cos(angles)


def mirror_derivative(image: np.ndarray, axis: int) -> np.ndarray:
    """Spectral derivative along ``axis`` of the mirror-extended image (unit pixel spacing).

    Along the axis, the samples ``s0 .. s_{m-1}`` are extended to
    ``s0 .. s_{m-1}, s_{m-1} .. s0`` (period 2m); the result is the derivative of
    that sequence's trigonometric interpolant at the original samples.
    """
    m = image.shape[axis]
    extended = np.concatenate([image, np.flip(image, axis=axis)], axis=axis)
    k = 2 * np.pi * np.fft.rfftfreq(2 * m)  # irfft drops the Nyquist term's imaginary part
    shape = [1] * image.ndim
    shape[axis] = m + 1
    spectrum = np.fft.rfft(extended, axis=axis) * (1j * k).reshape(shape)
    return np.take(np.fft.irfft(spectrum, n=2 * m, axis=axis), np.arange(m), axis=axis)


def _check_inputs(
    stimulus: np.ndarray, directions: np.ndarray, min_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 copies of the inputs, or a clear error."""
    x = _validate.array(stimulus, "stimulus", ndim=(2, 3))
    W = _validate.array(directions, "directions", shape=(None, *x.shape))
    if len(W) == 0:
        raise ValueError("directions holds no direction: give at least one (m >= 1)")
    if not np.any(x):
        raise ValueError("stimulus is all zeros: it has no tangent plane to name directions in")
    if np.any(np.all(W.reshape(len(W), -1) == 0, axis=1)):
        raise ValueError("directions contain an all-zero image; each needs a nonzero norm")
    _validate.real(min_fraction, "min_fraction", minimum=0.0, maximum=1.0)
    return x, W
