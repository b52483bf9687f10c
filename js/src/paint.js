// @ts-check
/** Drawing a stimulus into a canvas at its own resolution (CSS enlarges it, pixelated). */
import { displayRGBA, displaySize } from "./pixels.js";

/**
 * Draw a channels-first frame by the shared display rule (gray, RGB or channel tiles).
 * The canvas gets the displayed image's size in pixels; CSS `image-rendering: pixelated`
 * enlarges it without smoothing.
 * @param {HTMLCanvasElement} canvas
 * @param {ArrayLike<number>} values (channels, height, width) values
 * @param {number} limit symmetric scale, shared by all channels
 * @param {{channels: number, height: number, width: number}} shape
 */
export function paint(canvas, values, limit, shape) {
  const { width, height } = displaySize(shape.channels, shape.height, shape.width);
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext("2d");
  if (context === null) return;
  const image = context.createImageData(width, height);
  displayRGBA(values, limit, shape.channels, shape.height, shape.width, image.data);
  context.putImageData(image, 0, 0);
}

/**
 * CSS height of the stimulus canvas: the largest whole multiple of the stimulus height
 * up to 256 px (never below its own height), so that nearest-neighbour enlargement
 * keeps every pixel the same size and a 224 x 224 stimulus is never shrunk.
 * @param {number} height stimulus height in pixels
 * @returns {number}
 */
export function frameHeight(height) {
  return height * Math.max(1, Math.floor(256 / height));
}
