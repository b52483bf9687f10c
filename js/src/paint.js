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
