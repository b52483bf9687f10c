// @ts-check
/** The text of the readouts beside the stimulus, as pure functions of the selection. */
import { groupSize, labelOf } from "./buffers.js";
import { formatDegrees, formatNumber } from "./plots.js";
import { leastTie } from "./tie.js";

/**
 * Which end of the spectrum a rank shows, for a result that keeps only its two ends.
 * @param {{count: number, total: number}} data decoded unit
 * @param {number} index stored index
 * @returns {string} e.g. "kept: 10 most + 10 least invariant of 99; this one: most
 *   invariant end, #3 from it", or "" for a complete result
 */
export function endText(data, index) {
  if (data.count >= data.total) return "";
  const k = data.count / 2;
  const most = index < k;
  const fromEnd = most ? index : data.count - 1 - index;
  return `kept: the ${k} most and ${k} least invariant of ${data.total} directions; this one: ${most ? "most" : "least"} invariant end, #${fromEnd} from it`;
}

/**
 * What to say about a tied least invariant end, or "" when it is not tied.
 * @param {object} data decoded unit
 * @param {number} index stored index of the direction shown
 * @returns {string}
 */
export function tieText(data, index) {
  const tie = leastTie(data);
  if (tie === null) return "";
  const size = tie.atLeast ? `at least ${tie.members}` : String(tie.members);
  const inside = index >= data.count - tie.members ? "This direction is one member of it. " : "";
  const outside = tie.alternative >= 0
    ? `The most informative distinct direction outside the tie is least-first rank ${data.count - 1 - tie.alternative}.`
    : "No distinct direction outside the tie was kept at this end.";
  return `a tie of ${size} directions: no single image is the least invariant direction, only their span is meaningful. ${inside}${outside}`;
}

/**
 * The readout rows: [term, text] pairs.
 * @param {object} selection a ready selection (state.js) plus `group` (the unit's group
 *   name, or "")
 * @param {number} activation g(x(θ)) at the shown angle
 * @returns {Array<[string, string]>}
 */
export function readoutRows(selection, activation) {
  const { data, index, rank, order, angle, start, stop } = selection;
  const members = groupSize(data, index);
  const tiedBeyond = (index === 0 && data.endsTied[0]) || (index === data.count - 1 && data.endsTied[1]);
  const unit = `${selection.unit}${data.name ? ` (${data.name})` : ""}${selection.group ? `, ${selection.group}` : ""}`;
  const rankText = `${rank} (0 to ${data.count - 1}, ${order} invariant first)`;
  const ends = endText(data, index);
  const rows = [
    ["Unit", unit],
    ["Activation g(x(θ))", `${formatNumber(activation)} (optimum g* = ${formatNumber(data.activation)})`],
    ["Curvature ν", formatNumber(data.curvatures[index])],
    ["Named invariance", labelOf(data, index)],
    ["Angle θ", `${formatDegrees(angle)}, video range [${formatDegrees(start)}, ${formatDegrees(stop)}]`],
    ["Rank", ends ? `${rankText}; ${ends}` : rankText],
    [
      "Degenerate group",
      members > 1 || tiedBeyond
        ? `${tiedBeyond ? "at least " : ""}${members} directions share this curvature`
        : "none (unique curvature)",
    ],
  ];
  const tie = tieText(data, index);
  if (order === "least" && tie) rows.push(["Least invariant end", tie]);
  return /** @type {Array<[string, string]>} */ (rows);
}
