import assert from "node:assert/strict";
import { test } from "node:test";
import { directionIndex, frameInto, interpolate } from "../src/frame.js";

const stimulus = Float32Array.from([0.6, -0.8, 0, 0]);
const direction = Float32Array.from([0, 0, 1, 0]);

test("angle 0 gives the optimal stimulus, pi/2 gives radius times the direction", () => {
  const out = new Float64Array(4);
  assert.deepEqual([...frameInto(out, stimulus, direction, 2, 0)], [...stimulus].map(Number));
  frameInto(out, stimulus, direction, 2, Math.PI / 2);
  assert.ok(out.every((v, i) => Math.abs(v - 2 * direction[i]) < 1e-15));
});

test("frames stay on the sphere of the given radius", () => {
  const radius = 1;
  const out = new Float64Array(4);
  for (const angle of [-1.2, -0.3, 0.7, 1.5]) {
    frameInto(out, stimulus, direction, radius, angle);
    const norm = Math.hypot(...out);
    assert.ok(Math.abs(norm - 1) < 1e-7, `norm ${norm} at ${angle}`);
  }
});

test("each pixel is cos t x + sin t rho w", () => {
  const out = frameInto(new Float64Array(4), stimulus, direction, 1.5, 0.4);
  for (let i = 0; i < 4; i++) {
    assert.equal(out[i], Math.cos(0.4) * stimulus[i] + Math.sin(0.4) * 1.5 * direction[i]);
  }
});

test("direction index follows the order", () => {
  assert.equal(directionIndex(0, "most", 5), 0);
  assert.equal(directionIndex(0, "least", 5), 4);
  assert.equal(directionIndex(3, "least", 5), 1);
});

test("interpolate is linear between samples and clamped outside", () => {
  const xs = [0, 1, 3];
  const ys = [10, 20, 0];
  assert.equal(interpolate(xs, ys, -5), 10);
  assert.equal(interpolate(xs, ys, 9), 0);
  assert.equal(interpolate(xs, ys, 1), 20);
  assert.equal(interpolate(xs, ys, 0.5), 15);
  assert.equal(interpolate(xs, ys, 2.5), 5);
});
