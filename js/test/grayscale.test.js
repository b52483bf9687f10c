import assert from "node:assert/strict";
import { test } from "node:test";
import { absMax, grayByte, grayRGBA } from "../src/grayscale.js";

test("the scale ends and middle map to black, mid-gray and white", () => {
  assert.equal(grayByte(-2, 2), 0);
  assert.equal(grayByte(0, 2), 128); // 127.5 rounds up
  assert.equal(grayByte(2, 2), 255);
});

test("values beyond the limit are clipped", () => {
  assert.equal(grayByte(-10, 1), 0);
  assert.equal(grayByte(10, 1), 255);
});

test("rounding is floor(x + 0.5) of (v / limit + 1) * 127.5", () => {
  // (v + 1) * 127.5 = 10.5 exactly for v = 10.5 / 127.5 - 1 (-0.917647...): rounds up to 11.
  const limit = 1;
  for (let level = 0; level < 255; level++) {
    const below = (level + 0.49) / 127.5 - 1;
    const above = (level + 0.51) / 127.5 - 1;
    assert.equal(grayByte(below, limit), level);
    assert.equal(grayByte(above, limit), level + 1);
  }
});

test("NaN maps to 0 like a clamped byte array", () => {
  assert.equal(grayByte(Number.NaN, 1), 0);
  const clamped = new Uint8ClampedArray(1);
  clamped[0] = Number.NaN;
  assert.equal(clamped[0], 0);
});

test("grayRGBA writes opaque gray pixels in row-major order", () => {
  const rgba = grayRGBA([-1, 0, 1], 1, new Uint8ClampedArray(12));
  assert.deepEqual([...rgba], [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  assert.throws(() => grayRGBA([0, 0], 1, new Uint8ClampedArray(4)), RangeError);
});

test("absMax is the largest absolute value, never zero", () => {
  assert.equal(absMax([0.5, -3, 2]), 3);
  assert.equal(absMax([0, 0]), 1e-300);
});
