"""Fit a 2-D Gabor function to an image and report the fraction of variance it explains.

The model, with pixel coordinates ``x`` (column) and ``y`` (row)::

    g(x, y) = amplitude * exp(-u^2 / (2 sigma_u^2) - v^2 / (2 sigma_v^2))
                        * cos(2 pi frequency u + phase) + offset
    u =  (x - x0) cos(theta) + (y - y0) sin(theta)
    v = -(x - x0) sin(theta) + (y - y0) cos(theta)

``theta`` is the direction of the carrier wave (across the stripes) and ``frequency``
is in cycles per pixel. The fit is least squares (``scipy.optimize.least_squares``)
from several starts seeded by the peak of the image's Fourier spectrum and by the
centre of its energy; the best fit is kept.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import least_squares

PARAMETERS = (
    "amplitude",
    "x0",
    "y0",
    "sigma_u",
    "sigma_v",
    "theta",
    "frequency",
    "phase",
    "offset",
)


@dataclasses.dataclass
class GaborFit:
    """Result of :func:`fit_gabor`.

    Attributes
    ----------
    params : dict of str to float
        The fitted parameters (see the module docstring; names in ``PARAMETERS``).
    r2 : float
        Coefficient of determination ``1 - SS_residual / SS_total`` of the fit.
    shape : tuple of int
        Shape of the fitted image.
    """

    params: dict
    r2: float
    shape: tuple

    def model(self) -> np.ndarray:
        """The fitted Gabor as an image of the fitted shape."""
        return gabor_image(self.shape, **self.params)


def gabor_image(
    shape: tuple[int, int],
    *,
    amplitude: float,
    x0: float,
    y0: float,
    sigma_u: float,
    sigma_v: float,
    theta: float,
    frequency: float,
    phase: float,
    offset: float = 0.0,
) -> np.ndarray:
    """Evaluate the Gabor model on a ``shape`` grid of pixels (rows y, columns x)."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    u = (x - x0) * np.cos(theta) + (y - y0) * np.sin(theta)
    v = -(x - x0) * np.sin(theta) + (y - y0) * np.cos(theta)
    envelope = np.exp(-(u**2) / (2 * sigma_u**2) - v**2 / (2 * sigma_v**2))
    return amplitude * envelope * np.cos(2 * np.pi * frequency * u + phase) + offset


def fit_gabor(image: np.ndarray, *, phases: int = 4) -> GaborFit:
    """Least-squares fit of a 2-D Gabor to ``image``.

    Parameters
    ----------
    image : ndarray, shape (h, w)
        A real image with h, w >= 3 and not constant.
    phases : int
        Number of starting phases tried (spread over [0, pi)) for each of two
        starting frequencies.

    Returns
    -------
    GaborFit
    """
    if isinstance(phases, bool) or not isinstance(phases, (int, np.integer)) or phases < 1:
        raise ValueError(f"phases must be an int >= 1, got {phases!r}")
    z = np.asarray(image)
    if z.dtype.kind not in "fiu" or z.ndim != 2 or min(z.shape) < 3:
        raise ValueError(f"image must be a real 2-D array of at least 3x3, got {z.shape}")
    z = z.astype(np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("image contains NaN or infinite values")
    total = float(np.sum((z - z.mean()) ** 2))
    if total <= 1e-300:
        raise ValueError("image is constant; a Gabor fit needs some contrast")
    h, w = z.shape
    size = max(h, w)

    def residual(p: np.ndarray) -> np.ndarray:
        return (gabor_image(z.shape, **dict(zip(PARAMETERS, p, strict=True))) - z).ravel()

    lower = [-np.inf, -0.5, -0.5, 0.3, 0.3, -np.inf, 0.0, -np.inf, -np.inf]
    upper = [np.inf, w - 0.5, h - 0.5, 2.0 * size, 2.0 * size, np.inf, 0.5, np.inf, np.inf]
    best = None
    for start in _starts(z, phases):
        start = np.clip(start, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
        fit = least_squares(residual, start, bounds=(lower, upper), x_scale="jac", max_nfev=400)
        if best is None or fit.cost < best.cost:
            best = fit
    params = dict(zip(PARAMETERS, (float(v) for v in best.x), strict=True))
    r2 = 1.0 - 2.0 * float(best.cost) / total
    return GaborFit(params=params, r2=r2, shape=(h, w))


def _starts(z: np.ndarray, phases: int) -> list[np.ndarray]:
    """Starting points: spectrum peak (frequency, orientation), energy centre, phase grid."""
    h, w = z.shape
    pad = 4 * max(h, w)
    spectrum = np.abs(np.fft.fft2(z - z.mean(), s=(pad, pad)))
    fy = np.fft.fftfreq(pad)[:, None] * np.ones((1, pad))
    fx = np.ones((pad, 1)) * np.fft.fftfreq(pad)[None, :]
    peak = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    frequency = float(np.hypot(fx[peak], fy[peak]))
    theta = float(np.arctan2(fy[peak], fx[peak]))
    energy = (z - z.mean()) ** 2
    y, x = np.mgrid[0:h, 0:w]
    x0 = float((energy * x).sum() / energy.sum())
    y0 = float((energy * y).sum() / energy.sum())
    spread = float(np.sqrt((energy * ((x - x0) ** 2 + (y - y0) ** 2)).sum() / energy.sum()))
    sigma = max(spread / np.sqrt(2), 0.5)
    amplitude = float(np.abs(z - z.mean()).max())
    starts = []
    for f in (frequency, 0.5 * frequency):
        for k in range(phases):
            starts.append(
                np.array(
                    [amplitude, x0, y0, sigma, sigma, theta, f, np.pi * k / phases, float(z.mean())]
                )
            )
    return starts
