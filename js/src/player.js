/** Playback of an invariance video: the angle loops over the direction's [a, b] range. */

/** Seconds for one sweep from a to b. */
export const SWEEP_SECONDS = 3;

/**
 * The angle `elapsed` seconds after `angle` when sweeping [start, stop] in a loop.
 * @param {number} angle current angle (clamped into the range first)
 * @param {number} start a
 * @param {number} stop b
 * @param {number} elapsed seconds since the last step (>= 0)
 * @param {number} [sweep] seconds per sweep
 * @returns {number} the next angle, in [start, stop)
 */
export function nextAngle(angle, start, stop, elapsed, sweep = SWEEP_SECONDS) {
  const width = stop - start;
  if (!(width > 0)) return start;
  const inside = Math.min(stop, Math.max(start, angle));
  let position = (inside - start) / width + elapsed / sweep;
  position -= Math.floor(position);
  return start + position * width;
}

/**
 * Run the play loop of a model: while `playing` is true, advance `angle` every animation
 * frame over the current direction's video range. The angle is set locally on every frame
 * (all views redraw) and sent to Python once, when playback stops.
 *
 * @param {object} model anywidget model
 * @param {(values: object) => object} resolve resolves the model values into a selection
 *   (see state.js), giving the current `start`, `stop` and `angle`
 * @returns {() => void} stops the loop and removes the listener
 */
export function startPlayer(model, resolve) {
  let request = 0;
  let previous = 0;

  function step(now) {
    const selection = resolve();
    if (selection.status === "ready") {
      const elapsed = previous === 0 ? 0 : Math.min(0.25, (now - previous) / 1000);
      model.set("angle", nextAngle(selection.angle, selection.start, selection.stop, elapsed));
    }
    previous = now;
    request = requestAnimationFrame(step);
  }

  function update() {
    cancelAnimationFrame(request);
    request = 0;
    previous = 0;
    if (model.get("playing")) request = requestAnimationFrame(step);
    else model.save_changes();
  }

  model.on("change:playing", update);
  if (model.get("playing")) request = requestAnimationFrame(step);
  return () => {
    cancelAnimationFrame(request);
    model.off("change:playing", update);
  };
}
