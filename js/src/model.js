// @ts-check
/** The explorer's model (types from @anywidget/types) and writing to it. */

/**
 * The synced state of an InvarianceExplorer (tcnn_widgets/widget.py).
 * @typedef {object} ExplorerState
 * @property {Array<object|null>} units one wire record per unit (buffers.js)
 * @property {Array<{name: string, start: number, stop: number}>} groups named groups
 * @property {number} unit
 * @property {number} rank
 * @property {string} order "most" or "least"
 * @property {number} angle radians
 * @property {boolean} playing
 */

/** @typedef {import("@anywidget/types").AnyModel<ExplorerState>} Model */

/**
 * Set several model values and send them to Python: one `model.set(key, value)` per key,
 * then one `save_changes()`. anywidget's contract (which marimo follows exactly) has no
 * object form of `set`.
 * @param {Model} model
 * @param {Partial<ExplorerState>} changes
 */
export function setAll(model, changes) {
  const keys = Object.keys(changes);
  if (keys.length === 0) return;
  for (const key of /** @type {Array<keyof ExplorerState>} */ (keys)) model.set(key, changes[key]);
  model.save_changes();
}
