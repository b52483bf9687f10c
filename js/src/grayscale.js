/**
 * The one gray-scale rule shared with Python (tcnn_widgets/grayscale.py).
 *
 * A frame is shown on a gray scale symmetric about 0: -limit is black, 0 is
 * mid-gray, +limit is white. byte = clip(floor((v / limit + 1) * 127.5 + 0.5), 0, 255),
 * which is JavaScript's Math.round of (v / limit + 1) * 127.5, clipped.
 */

/**
 * Gray level (0..255) of one pixel value.
 * @param {number} value pixel value
 * @param {number} limit positive half-width of the scale
 * @returns {number} integer gray level; NaN maps to 0 like a Uint8ClampedArray does
 */
export function grayByte(value, limit) {
  const level = Math.floor((value / limit + 1) * 127.5 + 0.5);
  if (!(level >= 0)) return 0;
  return level > 255 ? 255 : level;
}

/**
 * Write a frame as opaque gray RGBA pixels.
 * @param {ArrayLike<number>} frame pixel values, row-major
 * @param {number} limit positive half-width of the scale
 * @param {Uint8ClampedArray} rgba output of length 4 * frame.length
 * @returns {Uint8ClampedArray} rgba
 */
export function grayRGBA(frame, limit, rgba) {
  if (rgba.length !== 4 * frame.length) {
    throw new RangeError(`rgba has length ${rgba.length}, expected ${4 * frame.length}`);
  }
  for (let i = 0; i < frame.length; i++) {
    const level = grayByte(frame[i], limit);
    rgba[4 * i] = level;
    rgba[4 * i + 1] = level;
    rgba[4 * i + 2] = level;
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

/**
 * Symmetric limit that shows a single image on its own scale: max |v| (at least 1e-300).
 * @param {ArrayLike<number>} values
 * @returns {number}
 */
export function absMax(values) {
  let best = 1e-300;
  for (let i = 0; i < values.length; i++) {
    const size = Math.abs(values[i]);
    if (size > best) best = size;
  }
  return best;
}
