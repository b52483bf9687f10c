// @ts-check
/**
 * Honesty about a tied least invariant end: when the least invariant directions form one
 * degenerate group, no member of it is "the" least invariant direction (only their span
 * is meaningful). Kept in this one function so that the choice of the alternative can
 * follow tcnn_widgets.selection in Python.
 */

/**
 * The tie at the least invariant end, and the most informative distinct direction
 * outside it.
 *
 * @param {{groups: Int32Array, count: number, total: number, endsTied: boolean[]}} unit
 *   decoded unit (stored order: most invariant first, so index count - 1 is the least)
 * @returns {null | {members: number, atLeast: boolean, alternative: number}} null when
 *   the least invariant direction is unique; else the kept tie size `members`,
 *   `atLeast` (the tie may extend beyond the kept directions), and `alternative`: the
 *   stored index of the least invariant direction outside the tie that is unique (not
 *   itself tied), else the first outside the tie, from the least invariant end only;
 *   -1 when there is none
 */
export function leastTie(unit) {
  const last = unit.count - 1;
  const tied = unit.groups[last];
  let first = last;
  while (first > 0 && unit.groups[first - 1] === tied) first -= 1;
  const members = last - first + 1;
  const atLeast = Boolean(unit.endsTied[1]);
  if (members === 1 && !atLeast) return null;
  const floor = unit.count < unit.total ? unit.count / 2 : 0; // stay at the least end
  let alternative = -1;
  for (let index = first - 1; index >= floor; index--) {
    const unique = unit.groups[index] !== unit.groups[index + 1] && (index === 0 || unit.groups[index] !== unit.groups[index - 1]);
    if (unique) {
      alternative = index;
      break;
    }
    if (alternative === -1) alternative = index;
  }
  return { members, atLeast, alternative };
}
