// @ts-check
/** Clamping of control values that may arrive out of range (from Python or stored state). */

/**
 * Nearest integer in lo..hi; non-numbers give lo.
 * @param {number} value
 * @param {number} lo
 * @param {number} hi
 * @returns {number}
 */
export function clampIndex(value, lo, hi) {
  if (!Number.isFinite(value)) return lo;
  return Math.min(hi, Math.max(lo, Math.round(value)));
}

/**
 * Angle clamped to [start, stop]; a non-finite angle gives 0 clamped.
 * @param {number} angle
 * @param {number} start
 * @param {number} stop
 * @returns {number}
 */
export function clampAngle(angle, start, stop) {
  const value = Number.isFinite(angle) ? angle : 0;
  return Math.min(stop, Math.max(start, value));
}

/**
 * "most" or "least"; anything else gives "most".
 * @param {unknown} order
 * @returns {"most"|"least"}
 */
export function clampOrder(order) {
  return order === "least" ? "least" : "most";
}
