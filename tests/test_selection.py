"""Which directions to show (tcnn_widgets.selection): ties have no single image."""

import dataclasses

import numpy as np
import pytest

from tcnn_widgets import QuadraticUnit, analyze
from tcnn_widgets.display import player_data
from tcnn_widgets.figures import invariance_strips
from tcnn_widgets.pretrained import load_pretrained
from tcnn_widgets.selection import caption, choose_directions


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


def picks(rows):
    return [(row.order, row.rank, row.tie) for row in rows]


def test_without_ties_the_ends_are_shown(base):
    inv = with_groups(base, [1] * 15)
    rows = choose_directions(inv, 2)
    assert picks(rows) == [("most", 0, 0), ("most", 1, 0), ("least", 0, 0), ("least", 1, 0)]
    assert [row.index for row in rows] == [0, 1, 14, 13]
    assert "beyond" not in caption(inv, rows[2])


def test_a_tied_least_end_is_passed_over_and_its_size_told(base):
    inv = with_groups(base, [1] * 10 + [5])
    rows = choose_directions(inv, 2)
    assert picks(rows) == [("most", 0, 0), ("most", 1, 0), ("least", 5, 5), ("least", 6, 5)]
    least = rows[2]
    assert least.index == 9  # the least invariant direction outside the tie
    assert inv.curvatures[least.index] > inv.curvatures[-1]
    text = caption(inv, least)
    assert text.startswith("least invariant #6: ")
    assert "beyond a tie of 5 directions, which has no single image" in text


def test_a_tied_most_end_is_passed_over_too(base):
    inv = with_groups(base, [3] + [1] * 12)
    rows = choose_directions(inv, 1)
    assert picks(rows) == [("most", 3, 3), ("least", 0, 0)]
    assert rows[0].index == 3


def test_inner_ties_are_shown_as_one_of_their_group(base):
    inv = with_groups(base, [1, 2] + [1] * 12)
    rows = choose_directions(inv, 3)
    assert [row.group_size for row in rows[:3]] == [1, 2, 2]
    assert "1 of 2 equal" in caption(inv, rows[1])


def test_one_tie_everywhere_shows_one_member_as_such(base):
    inv = with_groups(base, [15])
    rows = choose_directions(inv, 2)
    # nothing lies beyond the tie: its members are shown, each captioned as one of it
    assert picks(rows) == [("most", 0, 0), ("most", 1, 0), ("least", 0, 0), ("least", 1, 0)]
    assert all("1 of 15 equal" in caption(inv, row) for row in rows)


def test_no_direction_is_shown_twice(base):
    for sizes in ([1] * 15, [1] * 10 + [5], [4] + [1] * 11, [7, 8]):
        inv = with_groups(base, sizes)
        for top in (1, 3, 8, 20):
            indices = [row.index for row in choose_directions(inv, top)]
            assert len(indices) == len(set(indices))


def test_matrix_free_ties_stay_within_the_kept_end(base):
    # 2k = 6 kept directions: 3 most invariant, then 3 least invariant
    keep = [0, 1, 2, 12, 13, 14]
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
    rows = choose_directions(small, 2)
    assert picks(rows) == [("most", 0, 0), ("most", 1, 0), ("least", 2, 2)]
    assert rows[2].tie_open
    assert "beyond a tie of at least 2 directions" in caption(small, rows[2])
    # the whole kept least end tied: nothing known beyond it, so a member is shown
    whole = dataclasses.replace(small, groups=np.array([0, 1, 2, 3, 3, 3]))
    rows = choose_directions(whole, 1)
    assert picks(rows) == [("most", 0, 0), ("least", 0, 0)]
    assert "1 of at least 3 equal" in caption(whole, rows[1])


def test_bad_arguments_get_clear_errors(base):
    with pytest.raises(TypeError, match="Invariances"):
        choose_directions("result", 1)
    with pytest.raises(ValueError, match="top"):
        choose_directions(base, 0)


@pytest.fixture(scope="module")
def pooling():
    """A unit of the shipped network: its 91 least invariant directions tie."""
    return analyze(load_pretrained().unit(3, 0, 1), seed=0, restarts=2, progress=False)


def test_shipped_unit_strips_and_player_pass_over_the_tie(pooling):
    tie = pooling.group_members(pooling.index(0, "least"))
    assert len(tie) > 50
    rows = choose_directions(pooling, 2)
    least = [row for row in rows if row.order == "least"]
    assert [row.rank for row in least] == [len(tie), len(tie) + 1]
    assert not np.isin([row.index for row in least], tie).any()
    fig = invariance_strips(pooling, top=2, frames=3)
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert f"beyond a tie of {len(tie)} directions" in labels[2]
    assert labels[2].startswith(f"least invariant #{len(tie) + 1}")
    data = player_data(pooling, top=2, count=3)
    assert [entry["label"] for entry in data["directions"]] == [
        caption(pooling, row) for row in rows
    ]


def test_report_gifs_show_the_direction_beyond_the_tie(pooling, tmp_path):
    from tcnn_widgets.report import write_section

    section = write_section(tmp_path, "net", "net", [pooling], featured=1)
    captions = [text for text, _ in section.units[0].gifs]
    tie = len(pooling.group_members(pooling.index(0, "least")))
    assert captions[1].startswith(f"least invariant #{tie + 1}")
    assert f"beyond a tie of {tie} directions, which has no single image" in captions[1]


def test_matrix_free_pooling_unit_says_its_tie_is_larger_than_kept(pooling):
    result = analyze(
        load_pretrained().unit(3, 0, 1),
        seed=0,
        restarts=2,
        method="matrix-free",
        directions=4,
        progress=False,
    )
    assert result.ends_tied[1] and not result.complete
    rows = choose_directions(result, 1)
    least = rows[-1]
    assert least.order == "least" and least.tie_open
    assert "1 of at least 4 equal" in caption(result, least)
    # the most invariant end is named like the complete analysis' (same directions)
    assert result.labels[0] == pooling.labels[0]
