"""Naming invariances: translation, rotation, scale or other (METHOD section 9).

A direction w in the tangent plane at the optimal stimulus x* is compared with the
*generators* of small image transformations of x*: with image coordinates (u, v)
centred in the stimulus (u along columns, v along rows),

- translation: ``dx*/du`` and ``dx*/dv`` (a two-dimensional family),
- rotation: ``v dx*/du - u dx*/dv``,
- scale: ``u dx*/du + v dx*/dv``.

Each generator is projected onto the tangent plane (the part along x* only changes
the contrast, which the sphere removes). The fraction of w's energy that a family
explains is ``||P_family w||^2 / ||w||^2``, with ``P_family`` the orthogonal
projector onto the span of its projected generators.

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

import numpy as np

FAMILIES = ("translation", "rotation", "scale")


def name_directions(
    stimulus: np.ndarray,
    directions: np.ndarray,
    *,
    min_fraction: float = 0.5,
    centre: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Label tangent directions as translation, rotation, scale or other.

    Parameters
    ----------
    stimulus : ndarray, shape (h, w) or (c, h, w)
        The optimal stimulus x* (any nonzero norm); channels first for colour.
    directions : ndarray, shape (m, *stimulus.shape)
        Any number m >= 1 of tangent directions at x* (``w . x* = 0``); usually
        ``Invariances.directions`` (all n - 1, or the 2k of a matrix-free result).
        They need not have unit norm: fractions are relative to each one's energy.
    min_fraction : float
        A direction is named after the family that explains the largest fraction
        of its energy if that fraction is at least ``min_fraction``, else "other".
    centre : (float, float), optional
        ``(row, column)`` of the origin of rotations and scalings, in pixels; the
        stimulus centre ``((h - 1) / 2, (w - 1) / 2)`` by default (METHOD section 9).

    Returns
    -------
    labels : ndarray of str, shape (m,)
        "translation", "rotation", "scale" or "other".
    fractions : ndarray, shape (m, 3)
        Energy fractions explained by the translation, rotation and scale
        generators, in that order (see :data:`FAMILIES`). Each is in [0, 1]; they
        need not sum to 1, since the generators are not orthogonal to each other.
    """
    x, W = _check_inputs(stimulus, directions, min_fraction)
    if centre is None:
        centre = ((x.shape[-2] - 1) / 2, (x.shape[-1] - 1) / 2)
    elif np.shape(centre) != (2,) or not np.all(np.isfinite(centre)):
        raise ValueError(f"centre must be two finite numbers (row, column), got {centre!r}")
    tolerance = 1e-10 * np.linalg.norm(x) * max(x.shape)
    bases = [gram_schmidt(G, tolerance) for G in projected_generators(x, centre).values()]
    flat = W.reshape(len(W), -1)
    energy = np.sum(flat**2, axis=1)
    explained = [np.sum((flat @ basis) ** 2, axis=1) for basis in bases]
    fractions = np.column_stack(explained) / energy[:, None]
    fractions = np.clip(fractions, 0.0, 1.0)
    best = np.argmax(fractions, axis=1)
    named = np.array(FAMILIES)[best]
    labels = np.where(fractions[np.arange(len(W)), best] >= min_fraction, named, "other")
    return labels.astype(str), fractions


def projected_generators(
    stimulus: np.ndarray, centre: tuple[float, float]
) -> dict[str, np.ndarray]:
    """The generators of translation, rotation and scale at x*, in the tangent plane.

    Parameters
    ----------
    stimulus : ndarray, shape (h, w) or (c, h, w)
        A colour stimulus moves all its channels together: each generator is the
        same motion applied to every channel.
    centre : (float, float)
        ``(row, column)`` of the origin of the coordinates (u, v), in pixels.

    Returns
    -------
    dict
        ``"translation"``: (n, 2) array with columns ``dx*/du`` and ``dx*/dv``;
        ``"rotation"`` and ``"scale"``: (n, 1) arrays. All are flattened images with
        their component along x* removed. Keys are in the order of :data:`FAMILIES`.
    """
    h, w = stimulus.shape[-2:]
    d_du = mirror_derivative(stimulus, axis=-1)
    d_dv = mirror_derivative(stimulus, axis=-2)
    v, u = np.meshgrid(np.arange(h) - centre[0], np.arange(w) - centre[1], indexing="ij")
    raw = {
        "translation": np.column_stack([d_du.ravel(), d_dv.ravel()]),
        "rotation": (v * d_du - u * d_dv).ravel()[:, None],
        "scale": (u * d_du + v * d_dv).ravel()[:, None],
    }
    x = stimulus.ravel() / np.linalg.norm(stimulus)
    return {family: G - np.outer(x, x @ G) for family, G in raw.items()}


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


def gram_schmidt(G: np.ndarray, tolerance: float) -> np.ndarray:
    """Orthonormal basis (n, rank) of the columns of G; columns with a residual norm
    below ``tolerance`` (absent generators, e.g. rotation of a round stimulus) drop."""
    basis: list[np.ndarray] = []
    for column in G.T:
        for e in basis:
            column = column - (e @ column) * e
        size = np.linalg.norm(column)
        if size > tolerance:
            basis.append(column / size)
    return np.column_stack(basis) if basis else np.zeros((len(G), 0))


def _check_inputs(
    stimulus: np.ndarray, directions: np.ndarray, min_fraction: float
) -> tuple[np.ndarray, np.ndarray]:
    """Validated float64 copies of the inputs, or a clear error."""
    x, W = np.asarray(stimulus), np.asarray(directions)
    for name, array in (("stimulus", x), ("directions", W)):
        if array.dtype.kind not in "fiu":
            raise TypeError(f"{name} must be a real-valued array, got dtype {array.dtype}")
    if x.ndim not in (2, 3):
        raise ValueError(
            f"stimulus must be an image of shape (h, w) or (c, h, w), got shape {x.shape}"
        )
    if W.ndim != x.ndim + 1 or W.shape[1:] != x.shape or len(W) == 0:
        raise ValueError(
            f"directions must have shape (m, {', '.join(map(str, x.shape))}) with m >= 1 to "
            f"match the stimulus, got {W.shape}"
        )
    x, W = x.astype(np.float64), W.astype(np.float64)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(W))):
        raise ValueError("stimulus and directions must not contain NaN or infinite values")
    if not np.any(x):
        raise ValueError("stimulus is all zeros: it has no tangent plane to name directions in")
    if np.any(np.all(W.reshape(len(W), -1) == 0, axis=1)):
        raise ValueError("directions contain an all-zero image; each needs a nonzero norm")
    if not (np.isfinite(min_fraction) and 0 <= min_fraction <= 1):
        raise ValueError(f"min_fraction must be in [0, 1], got {min_fraction!r}")
    return x, W
