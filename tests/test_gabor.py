"""Gabor fits: recover known Gabors, refuse bad input, and separate Gabors from noise."""

from __future__ import annotations

import numpy as np
import pytest

from tcnn_widgets.training.gabor import PARAMETERS, fit_gabor, gabor_image


def test_gabor_image_closed_form():
    image = gabor_image(
        (5, 7),
        amplitude=2.0,
        x0=3.0,
        y0=2.0,
        sigma_u=1.5,
        sigma_v=1.0,
        theta=0.0,
        frequency=0.25,
        phase=0.0,
        offset=0.5,
    )
    # along the row through the centre: 2 exp(-dx^2 / 4.5) cos(pi dx / 2) + 0.5
    dx = np.arange(7) - 3.0
    np.testing.assert_allclose(image[2], 2 * np.exp(-(dx**2) / 4.5) * np.cos(np.pi * dx / 2) + 0.5)
    # across rows (v direction) the envelope is exp(-dy^2 / 2)
    dy = np.arange(5) - 2.0
    np.testing.assert_allclose(image[:, 3], 2 * np.exp(-(dy**2) / 2) + 0.5)


@pytest.mark.parametrize(
    "truth",
    [
        dict(
            amplitude=1.3,
            x0=4.2,
            y0=5.1,
            sigma_u=1.8,
            sigma_v=2.6,
            theta=0.7,
            frequency=0.21,
            phase=0.4,
            offset=0.05,
        ),
        dict(
            amplitude=-0.7,
            x0=5.5,
            y0=3.9,
            sigma_u=1.2,
            sigma_v=3.0,
            theta=2.2,
            frequency=0.32,
            phase=1.9,
            offset=0.0,
        ),
    ],
)
def test_fit_recovers_a_noisy_gabor(truth):
    rng = np.random.default_rng(0)
    clean = gabor_image((10, 10), **truth)
    noisy = clean + 0.01 * rng.standard_normal(clean.shape)
    fit = fit_gabor(noisy)
    assert set(fit.params) == set(PARAMETERS)
    assert fit.r2 > 0.995
    # the fitted model, not the parameters (which have symmetries), matches the truth
    np.testing.assert_allclose(fit.model(), clean, atol=0.05)
    assert abs(fit.params["x0"] - truth["x0"]) < 0.1
    assert abs(fit.params["frequency"] - truth["frequency"]) < 0.01
    # r2 is what it claims to be
    residual = ((fit.model() - noisy) ** 2).sum()
    total = ((noisy - noisy.mean()) ** 2).sum()
    assert fit.r2 == pytest.approx(1 - residual / total, abs=1e-9)


def test_noise_fits_badly():
    rng = np.random.default_rng(1)
    r2 = [fit_gabor(rng.standard_normal((10, 10))).r2 for _ in range(5)]
    assert max(r2) < 0.5


def test_bad_input():
    with pytest.raises(ValueError, match="constant"):
        fit_gabor(np.ones((6, 6)))
    with pytest.raises(ValueError, match="2-D"):
        fit_gabor(np.ones((6,)))
    with pytest.raises(ValueError, match="NaN"):
        fit_gabor(np.full((6, 6), np.nan))


def test_phases_must_be_a_positive_int():
    with pytest.raises(ValueError, match="phases must be an int >= 1"):
        fit_gabor(np.random.default_rng(0).standard_normal((6, 6)), phases=0)
