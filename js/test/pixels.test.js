import assert from "node:assert/strict";
import { test } from "node:test";
import { absMax, displayRGBA, displaySize, grayByte, grayRGBA } from "../src/pixels.js";

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

test("a (3, h, w) frame is RGB with one limit for all channels", () => {
  // 1 x 2 pixels; channel planes R = [-2, 0], G = [2, 1], B = [0, -1]
  const frame = [-2, 0, 2, 1, 0, -1];
  const rgba = displayRGBA(frame, 2, 3, 1, 2, new Uint8ClampedArray(8));
  assert.deepEqual([...rgba], [0, 255, 128, 255, 128, 191, 64, 255]);
});

test("other channel counts are gray tiles side by side with a white gap", () => {
  assert.deepEqual(displaySize(2, 2, 2), { width: 5, height: 2 });
  assert.deepEqual(displaySize(1, 2, 2), { width: 2, height: 2 });
  assert.deepEqual(displaySize(3, 2, 2), { width: 2, height: 2 });
  const frame = [-4, -3, -2, -1, 0, 1, 2, 3]; // (2, 2, 2): the same example as Python's test
  const rgba = displayRGBA(frame, 4, 2, 2, 2, new Uint8ClampedArray(40));
  const red = [...rgba].filter((_, i) => i % 4 === 0);
  assert.deepEqual(red, [0, 32, 255, 128, 159, 64, 96, 255, 191, 223]);
  assert.ok([...rgba].every((v, i) => i % 4 !== 3 || v === 255));
});

test("displayRGBA refuses buffers of the wrong size", () => {
  assert.throws(() => displayRGBA([0, 0], 1, 3, 1, 1, new Uint8ClampedArray(4)), RangeError);
  assert.throws(() => displayRGBA([0, 0, 0], 1, 3, 1, 1, new Uint8ClampedArray(8)), RangeError);
});
