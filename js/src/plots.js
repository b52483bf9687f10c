// @ts-check
/**
 * Layout of the two plots (curvature spectrum, activation along the geodesic) as plain
 * numbers; view.js turns them into SVG.
 */
import { directionIndex } from "./frame.js";

/**
 * A linear map from [d0, d1] to [r0, r1]; a zero-width domain maps to the middle.
 * @returns {(value: number) => number}
 */
export function linearScale(d0, d1, r0, r1) {
  if (!(d1 !== d0)) return () => (r0 + r1) / 2;
  const slope = (r1 - r0) / (d1 - d0);
  return (value) => r0 + (value - d0) * slope;
}

/**
 * Smallest and largest finite value.
 * @param {ArrayLike<number>} values
 * @returns {[number, number]}
 */
export function extent(values) {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < low) low = values[i];
    if (values[i] > high) high = values[i];
  }
  return [low, high];
}

/**
 * Positions of the curvature spectrum in display order. Consecutive directions of one
 * degenerate group share ONE slot (a tie of 91 is one band, not 91 bars); a result that
 * keeps only its two ends (2k of n - 1 directions) gets a gap slot between them. The
 * vertical scale is zoomed to the curvatures' own range (plus 8% either side), so that
 * values close to one another stay apart; view.js draws them as marks, not bars from 0.
 *
 * @param {{curvatures: Float32Array, groups: Int32Array, count: number, total: number}} unit
 *   decoded unit
 * @param {"most"|"least"} order display order
 * @param {{left: number, top: number, width: number, height: number}} box plot area
 * @returns {{slots: Array<{first: number, last: number, members: number, index: number,
 *   value: number, x0: number, x1: number, y: number, gap: boolean}>, low: number,
 *   high: number, y: (value: number) => number}} slots hold ranks
 *   `first..last` (gap slots: the `members` directions not computed, index -1)
 */
export function spectrumLayout(unit, order, box) {
  const [low, high] = extent(unit.curvatures);
  const pad = 0.08 * (high - low || Math.abs(high) || 1);
  const y = linearScale(low - pad, high + pad, box.top + box.height, box.top);
  const half = unit.count / 2;
  /** @type {Array<{first: number, last: number, members: number, index: number, value: number, gap: boolean, x0?: number, x1?: number, y?: number}>} */
  const slots = [];
  for (let rank = 0; rank < unit.count; rank++) {
    const index = directionIndex(rank, order, unit.count);
    const previous = slots[slots.length - 1];
    if (unit.count < unit.total && rank === half) {
      slots.push({ first: rank, last: rank - 1, members: unit.total - unit.count, index: -1, value: 0, gap: true });
    } else if (previous && !previous.gap && unit.groups[index] === unit.groups[previous.index]) {
      previous.last = rank;
      previous.members += 1;
      continue;
    }
    slots.push({ first: rank, last: rank, members: 1, index, value: unit.curvatures[index], gap: false });
  }
  const width = box.width / slots.length;
  slots.forEach((slot, i) => {
    Object.assign(slot, { x0: box.left + i * width, x1: box.left + (i + 1) * width, y: y(slot.value) });
  });
  return { slots: /** @type {any} */ (slots), low, high, y };
}

/**
 * The slot of the spectrum that holds a rank.
 * @param {Array<{first: number, last: number, gap: boolean}>} slots
 * @param {number} rank
 * @returns {number} slot position, or -1
 */
export function slotOfRank(slots, rank) {
  return slots.findIndex((slot) => !slot.gap && slot.first <= rank && rank <= slot.last);
}

/**
 * An angle in radians as degrees, e.g. "12.5°".
 * @param {number} radians
 * @returns {string}
 */
export function formatDegrees(radians) {
  return `${formatNumber((radians * 180) / Math.PI)}°`;
}

/**
 * Scales and polyline of the activation along one direction's geodesic.
 *
 * @param {{geodesicAngles: Float32Array, activation: number, videoLevel: number}} unit
 * @param {Float32Array} activations g(x(t)) at unit.geodesicAngles for the direction
 * @param {{left: number, top: number, width: number, height: number}} box plot area
 * @returns {{x: (angle: number) => number, y: (value: number) => number, points: string,
 *   angles: [number, number], values: [number, number], thresholdValue: number}}
 */
export function geodesicLayout(unit, activations, box) {
  const angles = extent(unit.geodesicAngles);
  const thresholdValue = unit.videoLevel;
  const [lowest, highest] = extent(activations);
  /** @type {[number, number]} */
  const values = [Math.min(lowest, thresholdValue), Math.max(highest, unit.activation)];
  const x = linearScale(angles[0], angles[1], box.left, box.left + box.width);
  const y = linearScale(values[0], values[1], box.top + box.height, box.top);
  const points = [];
  for (let i = 0; i < activations.length; i++) {
    points.push(`${x(unit.geodesicAngles[i]).toFixed(2)},${y(activations[i]).toFixed(2)}`);
  }
  return { x, y, points: points.join(" "), angles, values, thresholdValue };
}

/**
 * A short, readable number.
 * @param {number} value
 * @returns {string}
 */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const size = Math.abs(value);
  if (size >= 1e4 || size < 1e-3) return value.toExponential(2);
  return value.toPrecision(4).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
}
