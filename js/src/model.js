/** Writing to the anywidget model. */

/**
 * Set several model values and send them to Python: one `model.set(key, value)` per key,
 * then one `save_changes()`. anywidget's contract (which marimo follows exactly) has no
 * object form of `set`.
 */
export function setAll(model, changes) {
  const keys = Object.keys(changes);
  if (keys.length === 0) return;
  for (const key of keys) model.set(key, changes[key]);
  model.save_changes();
}
