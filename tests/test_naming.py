"""Naming invariances (METHOD section 9): generators, fractions and labels."""

import numpy as np
import pytest

from tcnn_widgets import CallableUnit, PoolingUnit, analyze
from tcnn_widgets.naming import FAMILIES, mirror_derivative, name_directions

SIDE = 10
COORDS = np.arange(SIDE) - (SIDE - 1) / 2
V, U = np.meshgrid(COORDS, COORDS, indexing="ij")  # u along columns, v along rows


def gabor(u, v, *, wavelength=4.0, angle=0.4, phase=0.0, across=2.0, along=2.0):
    """A Gabor function at continuous coordinates (u, v), centred at the origin."""
    a = u * np.cos(angle) + v * np.sin(angle)
    b = -u * np.sin(angle) + v * np.cos(angle)
    envelope = np.exp(-(a**2) / (2 * across**2) - b**2 / (2 * along**2))
    return envelope * np.cos(2 * np.pi * a / wavelength + phase)


def tangent(x, w):
    """The part of w orthogonal to x."""
    return w - (np.sum(w * x) / np.sum(x * x)) * x


def pooled_unit(filters):
    """The unit g(x) = sqrt(eps + sum_k (f_k . x)^2) over unit-norm filters f_k."""
    F = np.array([f.ravel() / np.linalg.norm(f) for f in filters])

    def f(x):
        return float(np.sqrt(1e-8 + np.sum((F @ x.ravel()) ** 2)))

    def grad(x):
        r = F @ x.ravel()
        return (F.T @ r / np.sqrt(1e-8 + np.sum(r**2))).reshape(x.shape)

    return CallableUnit(f, grad, (SIDE, SIDE))


def top_label(unit):
    result = analyze(unit, seed=0, progress=False)
    labels, fractions = name_directions(result.stimulus, result.directions)
    return labels[0], fractions[0]


# ---- synthetic units with a known invariance -------------------------------------------


def test_pooling_over_shifted_copies_is_translation_invariant():
    # a one-map tiled CNN unit with tile size 1: the same 8 x 8 Gabor at 3 x 3 offsets
    r = 8
    c = np.arange(r) - (r - 1) / 2
    vv, uu = np.meshgrid(c, c, indexing="ij")
    filters = np.broadcast_to(gabor(uu, vv, wavelength=5.0), (3, 3, r, r))
    label, fractions = top_label(PoolingUnit(filters, eps=1e-8))
    assert label == "translation", fractions
    assert fractions[0] > 0.7


def test_pooling_over_rotated_copies_is_rotation_invariant():
    copies = [gabor(U, V, angle=0.4 + t, across=1.5, along=3.0) for t in np.linspace(-0.4, 0.4, 5)]
    label, fractions = top_label(pooled_unit(copies))
    assert label == "rotation", fractions
    assert fractions[1] > 0.8


def test_pooling_over_scaled_copies_is_scale_invariant():
    copies = [gabor(U / s, V / s, across=1.6, along=1.6) for s in np.linspace(0.75, 1.33, 5)]
    label, fractions = top_label(pooled_unit(copies))
    assert label == "scale", fractions
    assert fractions[2] > 0.8


def test_random_tangent_directions_are_other():
    rng = np.random.default_rng(3)
    x = gabor(U, V)
    W = np.array([tangent(x, w) for w in rng.standard_normal((200, SIDE, SIDE))])
    labels, fractions = name_directions(x, W)
    assert np.all(labels == "other")
    # a random direction puts about dim/99 of its energy in a dim-dimensional span
    assert np.mean(fractions[:, 0]) == pytest.approx(2 / 99, rel=0.35)
    assert np.mean(fractions[:, 1]) == pytest.approx(1 / 99, rel=0.35)


# ---- the generators and fractions against independent computations ---------------------


def test_mirror_derivative_is_exact_on_cosine_basis_images():
    # cos(pi k (i + 1/2) / m) is a mirror-symmetric trigonometric polynomial: the
    # spectral derivative must return its analytic derivative
    m = SIDE
    i = np.arange(m) + 0.5
    for k in range(1, m):
        column = np.cos(np.pi * k * i / m)
        expected = -np.pi * k / m * np.sin(np.pi * k * i / m)
        image = np.outer(np.cos(np.pi * 2 * i / m), column)  # varies along both axes
        got = mirror_derivative(image, axis=1)
        np.testing.assert_allclose(got, np.outer(np.cos(np.pi * 2 * i / m), expected), atol=1e-12)
        got_rows = mirror_derivative(image.T, axis=0)
        np.testing.assert_allclose(got_rows, got.T, atol=1e-12)


def cosine_image(ku, kv):
    """A cosine basis image and its analytic derivatives along u (columns) and v (rows)."""
    i = np.arange(SIDE) + 0.5
    cu, cv = np.cos(np.pi * ku * i / SIDE), np.cos(np.pi * kv * i / SIDE)
    du = -np.pi * ku / SIDE * np.sin(np.pi * ku * i / SIDE)
    dv = -np.pi * kv / SIDE * np.sin(np.pi * kv * i / SIDE)
    x = np.outer(cv, cu) + 0.5 * np.outer(np.cos(np.pi * i / SIDE), cu)
    d_du = np.outer(cv, du) + 0.5 * np.outer(np.cos(np.pi * i / SIDE), du)
    d_dv = np.outer(dv, cu) + 0.5 * np.outer(-np.pi / SIDE * np.sin(np.pi * i / SIDE), cu)
    return x, d_du, d_dv


def least_squares_fraction(w, columns):
    """Energy fraction of w explained by the span of the columns (NumPy lstsq)."""
    A = np.column_stack([c.ravel() for c in columns])
    coefficients = np.linalg.lstsq(A, w.ravel(), rcond=None)[0]
    return np.sum((A @ coefficients) ** 2) / np.sum(w**2)


def test_fractions_match_a_direct_least_squares_computation():
    x, d_du, d_dv = cosine_image(3, 2)
    generators = {
        "translation": [tangent(x, d_du), tangent(x, d_dv)],
        "rotation": [tangent(x, V * d_du - U * d_dv)],
        "scale": [tangent(x, U * d_du + V * d_dv)],
    }
    rng = np.random.default_rng(0)
    W = np.array([tangent(x, w) for w in rng.standard_normal((20, SIDE, SIDE))])
    # mix in generators so that the fractions span a useful range
    W[:5] += 3 * generators["translation"][0] + 2 * generators["translation"][1]
    W[5:10] += 4 * generators["rotation"][0]
    W[10:15] += 4 * generators["scale"][0]
    _, fractions = name_directions(x, W)
    expected = np.array([[least_squares_fraction(w, generators[f]) for f in FAMILIES] for w in W])
    np.testing.assert_allclose(fractions, expected, atol=1e-10)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_generator_itself_has_fraction_one(family):
    x, d_du, d_dv = cosine_image(2, 3)
    generator = {
        "translation": 0.3 * d_du - 0.8 * d_dv,
        "rotation": V * d_du - U * d_dv,
        "scale": U * d_du + V * d_dv,
    }[family]
    w = tangent(x, generator)
    labels, fractions = name_directions(x, (w / np.linalg.norm(w))[None])
    assert labels[0] == family
    assert fractions[0, FAMILIES.index(family)] == pytest.approx(1.0, abs=1e-12)


def test_analytic_transformations_of_a_gabor_are_named():
    # the true derivative of a continuous Gabor under each transformation, sampled
    # on the grid: checks the smooth derivatives and the coordinate conventions
    def stimulus(shift=0.0, turn=0.0, zoom=1.0):
        u, v = (U - shift) / zoom, V / zoom
        c, s = np.cos(turn), np.sin(turn)
        return gabor(c * u + s * v, -s * u + c * v, wavelength=4.5, angle=0.5, phase=0.7)

    x, h = stimulus(), 1e-5
    moves = {
        "translation": (stimulus(shift=h) - stimulus(shift=-h)) / (2 * h),
        "rotation": (stimulus(turn=h) - stimulus(turn=-h)) / (2 * h),
        "scale": (stimulus(zoom=1 + h) - stimulus(zoom=1 - h)) / (2 * h),
    }
    W = np.array([tangent(x, w) for w in moves.values()])
    labels, fractions = name_directions(x, W)
    assert list(labels) == list(FAMILIES)
    assert np.all(np.diag(fractions) > 0.97), fractions


def test_rotation_about_an_off_centre_point_needs_that_centre():
    # a Gabor centred at (row 3, col 6) rotating about its own centre
    row, col = 3.0, 6.0
    rows, cols = np.mgrid[:SIDE, :SIDE].astype(float)

    def stimulus(turn):
        u, v = cols - col, rows - row
        c, s = np.cos(turn), np.sin(turn)
        return gabor(c * u + s * v, -s * u + c * v, angle=0.3, across=1.2, along=2.5)

    x, h = stimulus(0.0), 1e-5
    w = tangent(x, (stimulus(h) - stimulus(-h)) / (2 * h))
    labels, fractions = name_directions(x, w[None], centre=(row, col))
    assert labels[0] == "rotation"
    assert fractions[0, 1] > 0.95  # the Gabor is cut by the border, so not quite 1
    # about the image centre the same motion is a rotation plus a translation
    _, about_middle = name_directions(x, w[None])
    assert about_middle[0, 1] < fractions[0, 1] - 0.1


def test_min_fraction_decides_between_a_name_and_other():
    x, d_du, _ = cosine_image(3, 2)
    rng = np.random.default_rng(1)
    t = tangent(x, d_du)
    t /= np.linalg.norm(t)
    noise = tangent(x, rng.standard_normal((SIDE, SIDE)))
    noise -= np.sum(noise * t) * t  # orthogonal to the generator too
    noise /= np.linalg.norm(noise)
    w = np.sqrt(0.6) * t + np.sqrt(0.4) * noise  # translation explains at least 60%
    labels, fractions = name_directions(x, w[None], min_fraction=0.5)
    assert labels[0] == "translation"
    assert fractions[0, 0] >= 0.6 - 1e-12
    labels, _ = name_directions(x, w[None], min_fraction=fractions[0, 0] + 0.01)
    assert labels[0] == "other"


def test_colour_stimuli_move_all_channels_together():
    # a colour Gabor (channels scaled copies with an offset pattern) and the analytic
    # derivative of each channel under a shift, a rotation and a scaling
    tints = np.array([1.0, -0.5, 0.3])[:, None, None]

    def stimulus(shift=0.0, turn=0.0, zoom=1.0):
        u, v = (U - shift) / zoom, V / zoom
        c, s = np.cos(turn), np.sin(turn)
        a, b = c * u + s * v, -s * u + c * v
        return tints * gabor(a, b, wavelength=4.5, angle=0.5) + 0.4 * gabor(a, b, phase=1.0)

    x, h = stimulus(), 1e-5
    moves = [
        (stimulus(shift=h) - stimulus(shift=-h)) / (2 * h),
        (stimulus(turn=h) - stimulus(turn=-h)) / (2 * h),
        (stimulus(zoom=1 + h) - stimulus(zoom=1 - h)) / (2 * h),
    ]
    W = np.array([tangent(x, w) for w in moves])
    labels, fractions = name_directions(x, W)
    assert list(labels) == list(FAMILIES)
    assert np.all(np.diag(fractions) > 0.97), fractions
    # a motion of one channel alone is not a motion of the colour image
    alone = np.zeros_like(x)
    alone[1] = moves[0][1]
    labels, fractions = name_directions(x, tangent(x, alone)[None])
    assert fractions[0, 0] < 0.5, fractions


def test_one_channel_names_like_gray_and_any_number_of_directions_works():
    x = gabor(U, V, phase=0.3)
    rng = np.random.default_rng(5)
    W = np.array([tangent(x, w) for w in rng.standard_normal((4, SIDE, SIDE))])
    W[0] += 5 * tangent(x, mirror_derivative(x, axis=1))
    gray = name_directions(x, W)
    for count in (1, 2, 4):  # e.g. the 2k directions of a matrix-free result
        labels, fractions = name_directions(x[None], W[:count, None])
        np.testing.assert_array_equal(labels, gray[0][:count])
        np.testing.assert_allclose(fractions, gray[1][:count], atol=1e-12)
    assert gray[0][0] == "translation"


# ---- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stimulus", "directions", "kwargs", "error", "match"),
    [
        (np.ones(10), np.ones((2, 10)), {}, ValueError, "stimulus must be an image"),
        (np.ones((3, 4, 4)), np.ones((2, 4, 4)), {}, ValueError, "directions must have shape"),
        (np.ones((4, 4)), np.ones((0, 4, 4)), {}, ValueError, "m >= 1"),
        (np.ones((4, 4)), np.ones((2, 4, 5)), {}, ValueError, "directions must have shape"),
        (np.zeros((4, 4)), np.ones((2, 4, 4)), {}, ValueError, "all zeros"),
        (np.ones((4, 4)), np.zeros((2, 4, 4)), {}, ValueError, "all-zero image"),
        (np.full((4, 4), np.nan), np.ones((2, 4, 4)), {}, ValueError, "NaN"),
        (np.ones((4, 4)), np.ones((2, 4, 4)), {"min_fraction": 1.5}, ValueError, "min_fraction"),
        (np.array([["a"]]), np.ones((1, 1, 1)), {}, TypeError, "real-valued"),
        (np.ones((4, 4)), np.ones((2, 4, 4)), {"centre": (1.0,)}, ValueError, "centre"),
    ],
)
def test_bad_input_gets_a_clear_error(stimulus, directions, kwargs, error, match):
    with pytest.raises(error, match=match):
        name_directions(stimulus, directions, **kwargs)
