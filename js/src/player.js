// @ts-check
/**
 * Playback of an invariance video: the angle sweeps the direction's [a, b] range forward
 * then backward, at constant speed, so the loop has no jump (as the GIFs written with
 * `bounce=True`).
 */

/** Seconds for one sweep from a to b (a whole loop, there and back, takes twice as long). */
export const SWEEP_SECONDS = 3;

/**
 * The phase of an angle: 0 at a, 1 at b going forward, 2 back at a. An angle outside
 * the range is clamped into it.
 * @param {number} angle
 * @param {number} start a
 * @param {number} stop b
 * @param {boolean} [backward] the phase on the way back (in [1, 2]) instead of forward
 * @returns {number} phase in [0, 2]
 */
export function phaseOf(angle, start, stop, backward = false) {
  const width = stop - start;
  if (!(width > 0)) return 0;
  const forward = (Math.min(stop, Math.max(start, angle)) - start) / width;
  return backward ? 2 - forward : forward;
}

/**
 * The angle at a phase (see phaseOf); the phase is taken modulo 2.
 * @param {number} phase
 * @param {number} start a
 * @param {number} stop b
 * @returns {number} an angle in [a, b]
 */
export function angleAt(phase, start, stop) {
  const wrapped = phase - 2 * Math.floor(phase / 2);
  const forward = wrapped <= 1 ? wrapped : 2 - wrapped;
  return start + forward * (stop - start);
}

/**
 * The phase `elapsed` seconds later, in [0, 2).
 * @param {number} phase
 * @param {number} elapsed seconds (>= 0)
 * @param {number} [sweep] seconds per sweep from a to b
 * @returns {number}
 */
export function advance(phase, elapsed, sweep = SWEEP_SECONDS) {
  const next = phase + elapsed / sweep;
  return next - 2 * Math.floor(next / 2);
}

/**
 * Run the play loop of a model: while `playing` is true, move `angle` every animation
 * frame back and forth over the current direction's video range. The angle is set
 * locally on every frame (all views redraw) and sent to Python once, when playback stops.
 * An angle changed elsewhere (a slider, another direction) is picked up where it is.
 *
 * @param {import("./model.js").Model} model anywidget model
 * @param {() => object} resolve resolves the model values into a selection (see
 *   state.js), giving the current `start`, `stop` and `angle`
 * @returns {() => void} stops the loop and removes the listener
 */
export function startPlayer(model, resolve) {
  let request = 0;
  let previous = 0;
  let phase = 0;
  let written = Number.NaN;

  function step(now) {
    const selection = resolve();
    if (selection.status === "ready") {
      const { angle, start, stop } = selection;
      if (angle !== written) phase = phaseOf(angle, start, stop, phase > 1);
      const elapsed = previous === 0 ? 0 : Math.min(0.25, (now - previous) / 1000);
      phase = advance(phase, elapsed);
      written = angleAt(phase, start, stop);
      model.set("angle", written);
    }
    previous = now;
    request = requestAnimationFrame(step);
  }

  function update() {
    cancelAnimationFrame(request);
    request = 0;
    previous = 0;
    written = Number.NaN;
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
