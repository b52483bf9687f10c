// @ts-check
/**
 * Frame maths of an invariance video (METHOD section 6): points on the geodesic
 * x(t) = cos t x* + sin t rho w of the sphere ||x|| = rho.
 */

/**
 * Fill `out` with cos(angle) * stimulus + sin(angle) * radius * direction.
 * Same operation order as Invariances.frame in Python.
 * @param {Float64Array} out output, same length as stimulus
 * @param {ArrayLike<number>} stimulus the optimal stimulus x*
 * @param {ArrayLike<number>} direction a unit tangent direction w
 * @param {number} radius rho
 * @param {number} angle t in radians
 * @returns {Float64Array} out
 */
export function frameInto(out, stimulus, direction, radius, angle) {
  const along = Math.cos(angle);
  const across = Math.sin(angle) * radius;
  for (let i = 0; i < out.length; i++) out[i] = along * stimulus[i] + across * direction[i];
  return out;
}

/**
 * Index into the stored arrays (most invariant first) of the rank-th direction in an order.
 * @param {number} rank 0-based rank in the chosen order
 * @param {"most"|"least"} order most or least invariant first
 * @param {number} count number of directions
 * @returns {number}
 */
export function directionIndex(rank, order, count) {
  return order === "least" ? count - 1 - rank : rank;
}

/**
 * Linear interpolation of samples (xs increasing), clamped to the end values.
 * @param {ArrayLike<number>} xs sample positions, increasing
 * @param {ArrayLike<number>} ys sample values
 * @param {number} x where to evaluate
 * @returns {number}
 */
export function interpolate(xs, ys, x) {
  const last = xs.length - 1;
  if (x <= xs[0]) return ys[0];
  if (x >= xs[last]) return ys[last];
  let low = 0;
  let high = last;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (xs[middle] <= x) low = middle;
    else high = middle;
  }
  const share = (x - xs[low]) / (xs[high] - xs[low]);
  return ys[low] + share * (ys[high] - ys[low]);
}
