"""Numba kernels of the search for where the activation along a geodesic crosses a level.

docs/method.md §7. :func:`tcnn_widgets.analysis.video_ranges` brackets each crossing
on the angle grid (:func:`crossing_brackets`), then narrows all brackets together by
the Anderson-Bjorck variant of regula falsi: :func:`falsi_propose` picks the next
angle of every unfinished end, the unit evaluates them in one call, and
:func:`falsi_accept` moves the brackets. Arrays of shape (D, 2) hold one entry per direction and side
(column 0: negative angles, column 1: positive angles).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def crossing_brackets(along, angles, zero, level, inside, outside, f_in, f_out, found):
    """The first grid angles either side of ``angles[zero]`` where ``along < level``.

    Fills, per direction and side: ``outside`` the first angle below the level (the
    grid's end on that side when there is none), ``inside`` the angle before it,
    ``f_out``/``f_in`` the activations there minus ``level``, and ``found`` (a
    crossing exists, beyond the angle 0 itself).
    """
    D, K = along.shape
    for d in range(D):
        for side in range(2):
            sign = -1 if side == 0 else 1
            count = zero + 1 if side == 0 else K - zero
            first = -1
            for s in range(count):
                if along[d, zero + sign * s] < level:
                    first = s
                    break
            found[d, side] = first > 0
            first = max(first, 0)
            before = max(first - 1, 0)
            at_first, at_before = zero + sign * first, zero + sign * before
            last = zero + sign * (count - 1)
            outside[d, side] = angles[at_first] if found[d, side] else angles[last]
            inside[d, side] = angles[at_before]
            f_out[d, side] = along[d, at_first] - level
            f_in[d, side] = along[d, at_before] - level


@njit(cache=True)
def falsi_propose(
    inside, outside, f_in, f_out, found, residual, tolerance, value_tolerance, active, rows, trial
):
    """The next trial angle of every direction with an unfinished end.

    An end is active while its bracket is wider than ``tolerance`` and the last
    activation there differed from the level by more than ``value_tolerance``. Fills
    ``active`` (D, 2), the directions with an active end in ``rows[:count]`` and their
    trial angles in ``trial[:count]`` (the secant of the bracket where it lies inside,
    else the midpoint; finished ends of those rows get a trial that is ignored).
    Returns ``count``.
    """
    count = 0
    for d in range(inside.shape[0]):
        any_active = False
        for side in range(2):
            a, b = inside[d, side], outside[d, side]
            active[d, side] = (
                found[d, side] and abs(b - a) > tolerance and residual[d, side] > value_tolerance
            )
            any_active = any_active or active[d, side]
        if not any_active:
            continue
        for side in range(2):
            a, b = inside[d, side], outside[d, side]
            fa, fb = f_in[d, side], f_out[d, side]
            slope = fb - fa
            secant = b - fb * (b - a) / (slope if slope != 0 else 1.0)
            usable = slope != 0 and secant > min(a, b) and secant < max(a, b)
            trial[count, side] = secant if usable else 0.5 * (a + b)
        rows[count] = d
        count += 1
    return count


@njit(cache=True)
def falsi_accept(
    rows, trial, values, level, active, inside, outside, f_in, f_out, last_moved, estimate, residual
):
    """Move the brackets of ``rows`` by the activations ``values`` at ``trial``.

    The end whose activation is on the trial's side of ``level`` moves to the trial;
    when the same end moves twice in a row, the other end's value is scaled down by
    :func:`shrink` (Anderson-Bjorck). ``last_moved`` is +1 when the outside end moved
    last, -1 when the inside one did. Updates the arrays in place.
    """
    for i in range(len(rows)):
        d = rows[i]
        for side in range(2):
            if not active[d, side]:
                continue
            t = trial[i, side]
            f = values[i, side] - level
            fa, fb = f_in[d, side], f_out[d, side]
            low, high = f < 0, f >= 0  # both False for NaN: the end stops
            if low:
                if last_moved[d, side] == 1:
                    fa *= shrink(f, fb)
                f_in[d, side] = fa
                f_out[d, side] = f
                outside[d, side] = t
                last_moved[d, side] = 1
            elif high:
                if last_moved[d, side] == -1:
                    fb *= shrink(f, fa)
                f_in[d, side] = f
                f_out[d, side] = fb
                inside[d, side] = t
                last_moved[d, side] = -1
            estimate[d, side] = t
            residual[d, side] = abs(f)


@njit(cache=True)
def shrink(f_new, f_old):
    """Anderson-Bjorck's factor for the value of the end that stays: ``1 - f_new / f_old``
    (the moving end's values before and after, of one sign), or 1/2 (Illinois) where
    that is not positive."""
    m = 1.0 - f_new / f_old
    return m if m > 0 else 0.5
