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
 * Positions of the curvature spectrum: one mark per direction in display order, and one
 * band for each degenerate group of more than one direction.
 *
 * @param {{curvatures: Float32Array, groups: Int32Array, count: number}} unit decoded unit
 * @param {"most"|"least"} order display order
 * @param {{left: number, top: number, width: number, height: number}} box plot area
 * @returns {{marks: Array<{rank: number, index: number, x: number, y: number}>,
 *   bands: Array<{first: number, last: number, x0: number, x1: number, members: number}>,
 *   zeroY: number, low: number, high: number, step: number}}
 */
export function spectrumLayout(unit, order, box) {
  const [lowest, highest] = extent(unit.curvatures);
  const low = Math.min(lowest, 0);
  const high = Math.max(highest, 0);
  const y = linearScale(low, high, box.top + box.height, box.top);
  const step = box.width / unit.count;
  const marks = [];
  for (let rank = 0; rank < unit.count; rank++) {
    const index = directionIndex(rank, order, unit.count, unit.leastTie);
    marks.push({ rank, index, x: box.left + (rank + 0.5) * step, y: y(unit.curvatures[index]) });
  }
  const bands = [];
  let first = 0;
  for (let rank = 1; rank <= unit.count; rank++) {
    const same = rank < unit.count && unit.groups[marks[rank].index] === unit.groups[marks[first].index];
    if (same) continue;
    if (rank - first > 1) {
      bands.push({ first, last: rank - 1, x0: box.left + first * step, x1: box.left + rank * step, members: rank - first });
    }
    first = rank;
  }
  return { marks, bands, zeroY: y(0), low, high, step };
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
