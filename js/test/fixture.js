/** A small wire record (as Python's encode_unit sends it) for the unit tests. */

/** DataView over float32 data placed at a byte offset, like a slice of a larger message. */
export function floatView(values, offset = 8) {
  const buffer = new ArrayBuffer(offset + 4 * values.length);
  new Float32Array(buffer, offset, values.length).set(values);
  return new DataView(buffer, offset, 4 * values.length);
}

/** DataView over int32 data. */
export function intView(values) {
  return new DataView(new Int32Array(values).buffer);
}

/**
 * A 2 x 2 unit: 3 directions (the last two degenerate), 5 geodesic samples.
 * Direction i is the basis image e_(i+1); the stimulus is e_0.
 */
export function record() {
  return {
    name: "toy",
    error: "",
    height: 2,
    width: 2,
    activation: 2,
    threshold: 0.5,
    video_level: 1,
    radius: 1,
    stimulus: floatView([1, 0, 0, 0]),
    directions: floatView([0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]),
    curvatures: floatView([-0.5, -2, -2]),
    groups: intView([0, 1, 1]),
    video_ranges: floatView([-1, 1, -0.5, 0.25, -0.25, 0.5]),
    gray_limits: floatView([1, 1, 1]),
    geodesic_angles: floatView([-1, -0.5, 0, 0.5, 1]),
    geodesic_activations: floatView([1, 1.5, 2, 1.5, 1, 0, 1, 2, 1, 0, 0, 1, 2, 1, 0]),
    labels: ["translation", "other", "scale"],
    label_fractions: floatView([0.9, 0.05, 0.01, 0.1, 0.2, 0.3, 0, 0.004, 0.6]),
  };
}
