"""Naming invariances (METHOD section 9): generators, fractions and labels."""

import numpy as np
import pytest

from tcnn_widgets import CallableUnit, PoolingUnit, analyze
from tcnn_widgets.naming import (
    FAMILIES,
    derivative_matrix,
    describe_directions,
    mirror_derivative,
    name_directions,
)

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


@pytest.mark.parametrize("m", [1, 2, 3, 10, 17])
def test_derivative_matrix_is_the_mirror_derivative(m):
    np.testing.assert_allclose(
        derivative_matrix(m), mirror_derivative(np.eye(m), axis=0), rtol=0, atol=1e-13
    )


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
    for family, move in zip(FAMILIES, moves, strict=True):  # one at a time: they are not orthogonal
        labels, fractions = name_directions(x, tangent(x, move)[None])
        assert labels[0] == family
        assert fractions[0, FAMILIES.index(family)] > 0.97, fractions
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


def test_the_centre_of_a_rotation_and_scaling_is_found_exactly():
    # cosine basis images have exact mirror derivatives, so a motion built from them
    # about a chosen centre must give back that centre, and the fractions must
    # partition what a direct least-squares fit in the similarity span explains
    x, d_du, d_dv = cosine_image(3, 2)
    rows, cols = np.indices(x.shape, dtype=float)
    centre = (4.3, 5.6)
    v, u = rows - centre[0], cols - centre[1]
    turn, zoom = v * d_du - u * d_dv, u * d_du + v * d_dv
    span = [tangent(x, g) for g in (d_du, d_dv, turn, zoom)]
    rng = np.random.default_rng(2)
    noise = tangent(x, rng.standard_normal(x.shape))
    A = np.column_stack([g.ravel() for g in span])
    noise -= (A @ np.linalg.lstsq(A, noise.ravel(), rcond=None)[0]).reshape(x.shape)
    for r, s in [(1.0, 0.0), (0.0, 1.0), (0.8, -0.5)]:
        w = tangent(x, r * turn + s * zoom)
        w = w / np.linalg.norm(w) + 0.3 * noise / np.linalg.norm(noise)
        names = describe_directions(x, w[None])
        np.testing.assert_allclose(names.centres[0], centre, atol=1e-8)
        expected = least_squares_fraction(w, span)
        assert np.sum(names.fractions[0]) == pytest.approx(expected, abs=1e-10)
        assert names.fractions[0, 0] == pytest.approx(0.0, abs=1e-12)  # no translation left
        assert names.labels[0] == ("scale" if abs(s) > abs(r) else "rotation")


def test_a_rotation_about_a_far_point_is_a_translation():
    # over the pattern, a rotation about a point 40 px away is a shift; closer than the
    # envelope's reach it stays a rotation about that point
    x = gabor(U, V, wavelength=4.5, across=1.5, along=1.5)
    d_du = mirror_derivative(x, axis=1)
    d_dv = mirror_derivative(x, axis=0)
    for distance, label in [(40.0, "translation"), (1.0, "rotation")]:
        row, col = (SIDE - 1) / 2 + distance, (SIDE - 1) / 2
        rows, cols = np.indices(x.shape, dtype=float)
        w = tangent(x, (rows - row) * d_du - (cols - col) * d_dv)
        names = describe_directions(x, w[None])
        assert names.labels[0] == label, names.fractions
        assert np.sum(names.fractions[0]) == pytest.approx(1.0, abs=1e-10)
        if label == "rotation":
            np.testing.assert_allclose(names.centres[0], (row, col), atol=1e-6)
        else:
            assert np.all(np.isnan(names.centres[0]))


# ---- ground truth: energy units that pool transformed copies of one analytic Gabor ----


def sampled_gabor(shape, centre, *, shift=(0.0, 0.0), turn=0.0, zoom=1.0, **kw):
    """The continuous Gabor centred at ``centre`` (row, col), shifted by ``shift`` (rows,
    cols), rotated by ``turn`` and scaled by ``zoom`` about its own centre, sampled on the
    pixel grid (no interpolation of images)."""
    rows, cols = np.indices(shape, dtype=float)
    u = (cols - centre[1] - shift[1]) / zoom
    v = (rows - centre[0] - shift[0]) / zoom
    c, s = np.cos(turn), np.sin(turn)
    return gabor(c * u + s * v, -s * u + c * v, **kw)


KINDS = {  # the copies a unit pools, and the Gabor's shape
    "translation": ({"shift": [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)]}, {}),
    "rotation": ({"turn": np.linspace(-0.4, 0.4, 5)}, {"across": 1.5, "along": 3.0}),
    "scale": ({"zoom": np.geomspace(0.75, 1.33, 5)}, {"across": 1.6, "along": 1.6}),
}


def energy_unit(shape, filters):
    """g(x) = sqrt(eps + x^T A x), A = F^T F over unit-norm filters, eps = 1e-12: with
    its gradient and exact Hessian (docs/method.md section 8)."""
    F = np.array([f.ravel() / np.linalg.norm(f) for f in filters])
    A = F.T @ F

    def values(X):
        flat = X.reshape(len(X), -1)
        return np.sqrt(1e-12 + np.maximum(np.einsum("ij,ij->i", flat @ A, flat), 0))

    def grads(X):
        flat = X.reshape(len(X), -1)
        return (flat @ A / values(X)[:, None]).reshape(X.shape)

    def hessian(x):
        Ax = A @ x.ravel()
        g = np.sqrt(1e-12 + x.ravel() @ Ax)
        return A / g - np.outer(Ax, Ax) / g**3

    return CallableUnit(values, grads, shape, vectorized=True, hessian=hessian)


def analyzed(kind, shape, centre, **kw):
    """tw.analyze of the energy unit pooling copies of the given kind."""
    moves, look = KINDS[kind]
    ((parameter, values),) = moves.items()
    copies = [sampled_gabor(shape, centre, **{parameter: p}, **look, **kw) for p in values]
    return analyze(energy_unit(shape, copies), seed=0, restarts=2, hessian="exact", progress=False)


def generator(kind, shape, centre, **kw):
    """The analytic generator of the kind's motion at the unit's centre copy (central
    differences in the motion's parameter of the continuous function, step 1e-5)."""
    look = KINDS[kind][1]
    h = 1e-5
    plus, minus = {
        "rotation": ({"turn": h}, {"turn": -h}),
        "scale": ({"zoom": 1 + h}, {"zoom": 1 - h}),
    }[kind]
    return (
        sampled_gabor(shape, centre, **plus, **look, **kw)
        - sampled_gabor(shape, centre, **minus, **look, **kw)
    ) / (2 * h)


def overlap(w, g, x):
    """|cos| of the angle between w and the tangent part of g."""
    g = tangent(x, g)
    return abs(np.sum(w * g)) / np.linalg.norm(w) / np.linalg.norm(g)


PLACES = [  # (shape, centre of the pattern)
    ((20, 20), (9.5, 9.5)),
    ((20, 20), (6.0, 13.0)),  # off centre
    ((20, 20), (2.0, 17.0)),  # cut by two borders
    ((14, 24), (5.0, 16.0)),  # not square
]


@pytest.mark.parametrize(("shape", "centre"), PLACES)
@pytest.mark.parametrize("kind", ["rotation", "scale"])
def test_rotation_and_scale_units_are_named_about_their_own_centre(kind, shape, centre):
    result = analyzed(kind, shape, centre)
    assert result.labels[0] == kind, result.label_fractions[0]
    assert result.label_fractions[0, FAMILIES.index(kind)] > 0.6
    assert np.sum(result.label_fractions[0]) <= 1 + 1e-12
    np.testing.assert_allclose(result.label_centres[0], centre, atol=0.5)
    # the top direction really is (mostly) that motion, checked without the naming (the
    # copies span +-0.4 rad or 0.75-1.33 x, so it is not the infinitesimal one exactly)
    assert overlap(result.directions[0], generator(kind, shape, centre), result.stimulus) > 0.75
    assert not np.any(np.isin(result.labels[1:5], ("rotation", "scale")))


@pytest.mark.parametrize(("shape", "centre"), PLACES)
def test_translation_units_get_no_rotation_or_scale_names(shape, centre):
    # the cases: off centre the top directions were named "scale", cut by the
    # border "scale", and the second-order shift terms "rotation" / "scale"
    result = analyzed("translation", shape, centre)
    top = result.labels[:5]
    assert top[0] == "translation", result.label_fractions[:5]
    assert np.sum(top == "translation") >= 3, (top, result.label_fractions[:5])
    assert not np.any(np.isin(top, ("rotation", "scale"))), (top, result.label_fractions[:5])
    assert np.all(np.isnan(result.label_centres[:5]))
    # fractions partition the explained energy, for every direction
    assert np.all(result.label_fractions >= 0)
    assert np.all(np.sum(result.label_fractions, axis=1) <= 1 + 1e-9)
    # the five most invariant directions hold most of the analytic shifts (a random
    # 5-dimensional subspace would hold about 5 / n of them)
    x = result.stimulus
    look = KINDS["translation"][1]
    h = 1e-5
    basis = result.directions[:5].reshape(5, -1)
    for axis in (0, 1):
        step = np.zeros(2)
        step[axis] = h
        shift = (
            sampled_gabor(shape, centre, shift=step, **look)
            - sampled_gabor(shape, centre, shift=-step, **look)
        ) / (2 * h)
        g = tangent(x, shift).ravel()
        assert np.sum((basis @ g) ** 2) / np.sum(g**2) > 0.7


def test_names_do_not_depend_on_where_the_pattern_sits():
    # the same sampled pattern (same sub-pixel offset) in the middle and off centre: the
    # top direction's fractions agree to what the border's small cut changes (the old
    # naming about the image centre gave scale 0.45 here against 0.99 centred)
    for kind in KINDS:
        results = [analyzed(kind, (20, 20), c) for c in [(9.5, 9.5), (6.5, 13.5)]]
        np.testing.assert_allclose(
            results[0].label_fractions[0], results[1].label_fractions[0], atol=0.05
        )
        np.testing.assert_array_equal(results[0].labels[:3], results[1].labels[:3])


def test_a_quadrature_pair_is_named_translation_across_its_stripes():
    # phase invariance: g = sqrt((f_0 . x)^2 + (f_90 . x)^2). Shifting the carrier's
    # phase by d moves the stripes by d wavelength / 2 pi across themselves while the
    # envelope stays: to first order that is a translation across the stripes (less
    # the envelope's own small motion), and the similarity span cannot tell the two
    # apart. So the name is "translation", and its direction is across the stripes.
    shape, centre, angle = (20, 20), (6.0, 13.0), 0.4
    pair = [sampled_gabor(shape, centre, phase=p, angle=angle) for p in (0.0, np.pi / 2)]
    result = analyze(energy_unit(shape, pair), seed=0, restarts=2, hessian="exact", progress=False)
    assert result.labels[0] == "translation", result.label_fractions[0]
    assert result.label_fractions[0, 0] > 0.9
    h = 1e-5
    across = np.array([np.sin(angle), np.cos(angle)]) * h  # (row, col) step across stripes
    shift = (
        sampled_gabor(shape, centre, shift=across, angle=angle)
        - sampled_gabor(shape, centre, shift=-across, angle=angle)
    ) / (2 * h)
    assert overlap(result.directions[0], shift, result.stimulus) > 0.9


def test_random_controls_are_other():
    # a unit pooling 9 random filters, and random orthonormal tangent directions
    rng = np.random.default_rng(7)
    shape = (12, 12)
    result = analyze(
        energy_unit(shape, rng.standard_normal((9, *shape))),
        seed=0,
        restarts=2,
        hessian="exact",
        progress=False,
    )
    assert np.all(result.labels[:5] == "other"), result.label_fractions[:5]
    x = gabor(U, V)
    Q = np.linalg.qr(
        np.column_stack([tangent(x, w).ravel() for w in rng.standard_normal((60, SIDE, SIDE))])
    )[0]
    names = describe_directions(x, Q.T.reshape(-1, SIDE, SIDE))
    assert np.all(names.labels == "other")
    # an orthonormal set's explained energies sum to at most the span's dimension (7)
    assert np.sum(names.fractions) <= 7 + 1e-9
    assert np.mean(np.sum(names.fractions, axis=1)) < 7 / 99 * 1.5


def test_colour_energy_unit_names_like_its_gray_version():
    # a colour unit pooling rotated copies of a tinted Gabor off centre: closed form
    # (A's top eigenvectors), named with the same rule as gray
    tint = np.array([0.9, -0.4, 0.2])[:, None, None]
    shape, centre = (12, 15), (4.0, 9.0)
    look = KINDS["rotation"][1]
    copies = [
        tint * sampled_gabor(shape, centre, turn=t, **look) for t in KINDS["rotation"][0]["turn"]
    ]
    F = np.array([c.ravel() / np.linalg.norm(c) for c in copies])
    _, vectors = np.linalg.eigh(F.T @ F)
    x, top = vectors[:, -1], vectors[:, -2:-5:-1].T
    names = describe_directions(x.reshape(3, *shape), top.reshape(-1, 3, *shape))
    assert names.labels[0] == "rotation", names.fractions
    np.testing.assert_allclose(names.centres[0], centre, atol=0.5)


def test_colour_matrix_free_analysis_names_the_rotation_about_its_centre():
    # end to end: tw.analyze of a colour energy unit (rotated copies of a tinted Gabor,
    # off centre, 3 x 16 x 18), matrix-free with the 3 most and 3 least invariant kept
    tint = np.array([0.9, -0.4, 0.2])[:, None, None]
    shape, centre = (16, 18), (5.0, 11.0)
    moves, look = KINDS["rotation"]
    copies = [tint * sampled_gabor(shape, centre, turn=t, **look) for t in moves["turn"]]
    unit = energy_unit((3, *shape), copies)
    result = analyze(unit, seed=0, restarts=2, method="matrix-free", directions=3, progress=False)
    assert result.method == "matrix-free" and result.n_directions == 6
    assert result.labels[0] == "rotation", result.label_fractions[0]
    np.testing.assert_allclose(result.label_centres[0], centre, atol=0.5)
    gray = analyzed("rotation", shape, centre)
    assert result.label_fractions[0, 1] == pytest.approx(gray.label_fractions[0, 1], abs=0.05)


def test_matrix_free_results_are_named_like_complete_ones():
    # the k most and k least invariant directions alone (as a matrix-free result keeps
    # them) get the names and fractions they have among all n - 1 directions
    for kind in ("translation", "rotation"):
        full = analyzed(kind, (20, 20), (6.0, 13.0))
        k = 5
        kept = np.r_[0:k, full.n_directions - k : full.n_directions]
        names = describe_directions(full.stimulus, full.directions[kept])
        np.testing.assert_array_equal(names.labels, full.labels[kept])
        np.testing.assert_allclose(names.fractions, full.label_fractions[kept], atol=1e-9)
        np.testing.assert_allclose(names.centres, full.label_centres[kept], atol=1e-9)


def test_centres_are_stored_and_old_files_are_named_again(tmp_path):
    from tcnn_widgets.results import Invariances

    result = analyzed("rotation", (14, 16), (5.0, 9.0))
    path = tmp_path / "unit.npz"
    result.save(path)
    loaded = Invariances.load(path)
    np.testing.assert_array_equal(loaded.label_centres, result.label_centres)
    np.testing.assert_array_equal(loaded.labels, result.labels)
    # a file from before this naming (no centres; labels about the image centre)
    arrays = {k: v for k, v in result.to_arrays().items() if k != "label_centres"}
    arrays["labels"] = np.full(result.n_directions, "scale")
    renamed = Invariances.from_arrays(arrays)
    np.testing.assert_array_equal(renamed.labels, result.labels)
    np.testing.assert_allclose(renamed.label_centres, result.label_centres)


# ---- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stimulus", "directions", "kwargs", "error", "match"),
    [
        (np.ones(10), np.ones((2, 10)), {}, ValueError, "stimulus must have 2 or 3 dim"),
        (np.ones((3, 4, 4)), np.ones((2, 4, 4)), {}, ValueError, "directions must have shape"),
        (np.ones((4, 4)), np.ones((0, 4, 4)), {}, ValueError, "at least one"),
        (np.ones((4, 4)), np.ones((2, 4, 5)), {}, ValueError, "directions must have shape"),
        (np.zeros((4, 4)), np.ones((2, 4, 4)), {}, ValueError, "all zeros"),
        (np.ones((4, 4)), np.zeros((2, 4, 4)), {}, ValueError, "all-zero image"),
        (np.full((4, 4), np.nan), np.ones((2, 4, 4)), {}, ValueError, "NaN"),
        (np.ones((4, 4)), np.ones((2, 4, 4)), {"min_fraction": 1.5}, ValueError, "min_fraction"),
        (np.array([["a"]]), np.ones((1, 1, 1)), {}, TypeError, "real-valued"),
    ],
)
def test_bad_input_gets_a_clear_error(stimulus, directions, kwargs, error, match):
    with pytest.raises(error, match=match):
        name_directions(stimulus, directions, **kwargs)
