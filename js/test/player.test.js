import assert from "node:assert/strict";
import { test } from "node:test";
import { nextAngle } from "../src/player.js";

test("the angle advances by the range width per sweep", () => {
  assert.ok(Math.abs(nextAngle(-1, -1, 1, 0.75, 3) - -0.5) < 1e-12);
});

test("the angle loops back to the start after the end", () => {
  assert.ok(Math.abs(nextAngle(0.5, -1, 1, 1.5, 3) - -0.5) < 1e-12);
  assert.equal(nextAngle(1, -1, 1, 0, 3), -1);
});

test("an angle outside the range is first clamped into it", () => {
  assert.ok(Math.abs(nextAngle(-7, -1, 1, 0.3, 3) - -0.8) < 1e-12);
});

test("an empty range stays at its start", () => {
  assert.equal(nextAngle(0.3, 0.2, 0.2, 1), 0.2);
});

test("over many small steps the angle stays inside [start, stop)", () => {
  let angle = 0;
  for (let i = 0; i < 1000; i++) {
    angle = nextAngle(angle, -0.4, 1.1, 1 / 60);
    assert.ok(angle >= -0.4 && angle < 1.1);
  }
});
