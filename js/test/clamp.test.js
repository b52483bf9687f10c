import assert from "node:assert/strict";
import { test } from "node:test";
import { clampAngle, clampIndex, clampOrder } from "../src/clamp.js";

test("indices are rounded and clamped; non-numbers give the low end", () => {
  assert.equal(clampIndex(7, 0, 4), 4);
  assert.equal(clampIndex(-3, 0, 4), 0);
  assert.equal(clampIndex(2.6, 0, 4), 3);
  assert.equal(clampIndex(Number.NaN, 0, 4), 0);
  assert.equal(clampIndex(undefined, 1, 4), 1);
});

test("angles are clamped into the video range; non-finite angles give 0 clamped", () => {
  assert.equal(clampAngle(2, -1, 1), 1);
  assert.equal(clampAngle(-2, -1, 1), -1);
  assert.equal(clampAngle(0.25, -1, 1), 0.25);
  assert.equal(clampAngle(Number.NaN, -1, 1), 0);
  assert.equal(clampAngle(Number.POSITIVE_INFINITY, 0.2, 1), 0.2);
});

test("order is most unless it is least", () => {
  assert.equal(clampOrder("least"), "least");
  assert.equal(clampOrder("most"), "most");
  assert.equal(clampOrder("sideways"), "most");
});
