// @ts-check
/**
 * What the widget should show, worked out from the model's values: picks the unit,
 * clamps unit, rank, order and angle into range, and reports a pending or failed unit.
 */
import { decodeUnit, videoRangeOf } from "./buffers.js";
import { clampAngle, clampIndex, clampOrder } from "./clamp.js";
import { directionIndex } from "./frame.js";

/**
 * Resolve the model values into a consistent selection.
 *
 * @param {Array<object|null>} units one wire record per unit; null while not yet analyzed
 * @param {{unit: number, rank: number, order: string, angle: number}} values model values
 * @param {(record: object) => object} [decode] record decoder (pass a memoized one)
 * @returns {object} `status` ("empty", "pending", "error" or "ready"), the clamped `unit`
 *   and `order`; when ready also `data` (decoded unit), `rank`, `index` (stored direction
 *   index), `start`, `stop` (video range) and `angle`; otherwise a `message`.
 */
export function resolveSelection(units, values, decode = decodeUnit) {
  if (units.length === 0) return { status: "empty", message: "There are no units to show." };
  const unit = clampIndex(values.unit, 0, units.length - 1);
  const order = clampOrder(values.order);
  const record = units[unit];
  if (record == null) {
    const message = `Analyzing unit ${unit}… (this needs a running kernel: a static page holds only the units analyzed before it was saved)`;
    return { status: "pending", unit, order, message };
  }
  const label = record.name ? `unit ${unit} (${record.name})` : `unit ${unit}`;
  if (record.error) {
    return { status: "error", unit, order, message: `Analysis of ${label} failed: ${record.error}` };
  }
  let data;
  try {
    data = decode(record);
  } catch (error) {
    return { status: "error", unit, order, message: `The data of ${label} cannot be read: ${error.message}` };
  }
  const rank = clampIndex(values.rank, 0, data.count - 1);
  const index = directionIndex(rank, order, data.count);
  const [start, stop] = videoRangeOf(data, index);
  const angle = clampAngle(values.angle, start, stop);
  return { status: "ready", unit, order, data, rank, index, start, stop, angle };
}
