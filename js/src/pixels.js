// @ts-check
/**
 * The one display rule shared with Python (tcnn_widgets/pixels.py, docs/method.md §11).
 *
 * A frame is shown on a scale symmetric about 0: -limit is black, 0 is
 * mid-gray, +limit is white. A (3, h, w) frame is RGB, each channel through the same
 * byte rule with one limit for all three; other channel counts are shown channel by
 * channel, side by side, separated by CHANNEL_GAP columns of GAP_BYTE. byte = clip(floor((v / limit + 1) * 127.5 + 0.5), 0, 255),
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

/** Columns between channel tiles (as pixels.CHANNEL_GAP in Python). */
export const CHANNEL_GAP = 1;
/** Byte value of those columns (as pixels.GAP_BYTE in Python). */
export const GAP_BYTE = 255;

/**
 * Size of the displayed image of a (channels, height, width) frame.
 * @param {number} channels 1 for a gray (h, w) stimulus
 * @param {number} height
 * @param {number} width
 * @returns {{width: number, height: number}}
 */
export function displaySize(channels, height, width) {
  if (channels === 1 || channels === 3) return { width, height };
  return { width: channels * width + (channels - 1) * CHANNEL_GAP, height };
}

/**
 * Write a channels-first frame as opaque RGBA pixels of its displayed image.
 * @param {ArrayLike<number>} frame values in (channels, height, width) order
 * @param {number} limit positive half-width of the scale, shared by all channels
 * @param {number} channels
 * @param {number} height
 * @param {number} width
 * @param {Uint8ClampedArray} rgba output, 4 * displayed width * height values
 * @returns {Uint8ClampedArray} rgba
 */
export function displayRGBA(frame, limit, channels, height, width, rgba) {
  const size = height * width;
  const shown = displaySize(channels, height, width);
  if (frame.length !== channels * size) {
    throw new RangeError(`frame has ${frame.length} values, expected ${channels * size}`);
  }
  if (rgba.length !== 4 * shown.width * shown.height) {
    throw new RangeError(`rgba has length ${rgba.length}, expected ${4 * shown.width * shown.height}`);
  }
  if (channels === 3) {
    for (let i = 0; i < size; i++) {
      rgba[4 * i] = grayByte(frame[i], limit);
      rgba[4 * i + 1] = grayByte(frame[size + i], limit);
      rgba[4 * i + 2] = grayByte(frame[2 * size + i], limit);
      rgba[4 * i + 3] = 255;
    }
    return rgba;
  }
  rgba.fill(GAP_BYTE);
  for (let channel = 0; channel < channels; channel++) {
    const left = channel * (width + CHANNEL_GAP);
    for (let row = 0; row < height; row++) {
      for (let column = 0; column < width; column++) {
        const level = grayByte(frame[channel * size + row * width + column], limit);
        const at = 4 * (row * shown.width + left + column);
        rgba[at] = level;
        rgba[at + 1] = level;
        rgba[at + 2] = level;
      }
    }
  }
  return rgba;
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
