"""The widget's order of directions (tcnn_widgets.selection): a tie has no single image."""

import dataclasses

import numpy as np
import pytest

from tcnn_widgets import QuadraticUnit, analyze
from tcnn_widgets.figures import shown_directions
from tcnn_widgets.pretrained import load_pretrained
from tcnn_widgets.selection import least_tie, ordered_index


@pytest.fixture(scope="module")
def base():
    """A 4 x 4 quadratic unit with distinct curvatures (15 directions)."""
    rng = np.random.default_rng(0)
    M = rng.standard_normal((16, 16))
    return analyze(QuadraticUnit(M + M.T, shape=(4, 4)), seed=0, restarts=2, progress=False)


def with_groups(inv, sizes, **fields):
    """The result with its directions grouped into consecutive ties of the given sizes
    (most invariant first) and equal curvatures within each tie."""
    groups = np.repeat(np.arange(len(sizes)), sizes)
    assert len(groups) == inv.n_directions
    curvatures = -1.0 - groups.astype(float)
    return dataclasses.replace(inv, groups=groups, curvatures=curvatures, **fields)


def least_first(inv):
    return [ordered_index(inv, rank, "least") for rank in range(inv.n_directions)]


def test_without_a_tie_least_first_is_the_reversed_spectrum(base):
    inv = with_groups(base, [1] * 15)
    assert least_tie(inv) == 0
    assert least_first(inv) == list(range(14, -1, -1))
    assert [ordered_index(inv, rank, "most") for rank in range(15)] == list(range(15))


def test_least_first_starts_beyond_the_tie_and_shows_it_last(base):
    inv = with_groups(base, [1] * 10 + [5])
    assert least_tie(inv) == 5
    order = least_first(inv)
    assert order == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 14, 13, 12, 11, 10]
    assert sorted(order) == list(range(15))  # every direction stays reachable
    # the first one shown is the one the figures show as the least invariant
    least = [d.index for d in shown_directions(inv, 1) if d.order == "least"]
    assert order[0] == least[0]


def test_a_tie_of_every_direction_is_not_passed_over(base):
    inv = with_groups(base, [15])
    assert least_tie(inv) == 0
    assert least_first(inv) == list(range(14, -1, -1))


def test_an_open_tie_of_a_matrix_free_result_is_passed_over(base):
    keep = [0, 1, 2, 12, 13, 14]  # 2k = 6 kept: 3 most, then 3 least invariant
    small = dataclasses.replace(
        base,
        curvatures=base.curvatures[keep],
        directions=base.directions[keep],
        groups=np.array([0, 1, 2, 3, 4, 4]),
        video_ranges=base.video_ranges[keep],
        geodesic_activations=base.geodesic_activations[keep],
        labels=base.labels[keep],
        label_fractions=base.label_fractions[keep],
        label_centres=base.label_centres[keep],
        hessian=None,
        complete=False,
        method="matrix-free",
        ends_tied=np.array([False, True]),
    )
    assert least_tie(small) == 2
    assert least_first(small) == [3, 2, 1, 0, 5, 4]


def test_bad_ranks_and_orders_get_clear_errors(base):
    with pytest.raises(IndexError, match="rank"):
        ordered_index(base, base.n_directions, "least")
    with pytest.raises(ValueError, match="order"):
        ordered_index(base, 0, "middle")


def test_shipped_unit_least_first_order_matches_the_figures():
    result = analyze(load_pretrained().unit(3, 0, 1), seed=0, restarts=2, progress=False)
    tie = result.group_members(result.n_directions - 1)
    assert least_tie(result) == len(tie) > 50
    shown = [d.index for d in shown_directions(result, 3) if d.order == "least"]
    assert least_first(result)[: len(shown)] == shown
    assert not np.isin(least_first(result)[: -len(tie)], tie).any()
