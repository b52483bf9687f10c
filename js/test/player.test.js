import assert from "node:assert/strict";
import { test } from "node:test";
import { advance, angleAt, phaseOf } from "../src/player.js";

const close = (a, b) => Math.abs(a - b) < 1e-12;

test("the phase goes a -> b forward and b -> a backward", () => {
  assert.equal(angleAt(0, -1, 1), -1);
  assert.ok(close(angleAt(0.25, -1, 1), -0.5));
  assert.equal(angleAt(1, -1, 1), 1);
  assert.ok(close(angleAt(1.25, -1, 1), 0.5));
  assert.ok(close(angleAt(2, -1, 1), -1));
  assert.ok(close(angleAt(2.25, -1, 1), -0.5));
});

test("phaseOf inverts angleAt on both ways, and clamps", () => {
  for (const phase of [0, 0.3, 1, 1.4, 1.9]) {
    const angle = angleAt(phase, -0.4, 1.1);
    assert.ok(close(phaseOf(angle, -0.4, 1.1, phase > 1), phase));
  }
  assert.equal(phaseOf(-7, -1, 1), 0);
  assert.equal(phaseOf(0.3, 0.2, 0.2), 0);
});

test("advance moves one sweep per SWEEP seconds and wraps after two", () => {
  assert.ok(close(advance(0, 0.75, 3), 0.25));
  assert.ok(close(advance(1.9, 0.3, 3), 0));
});

test("playing has no jump: consecutive angles differ by at most one step", () => {
  let phase = 0;
  let angle = angleAt(phase, -0.4, 1.1);
  const step = (1.5 * (1 / 60)) / 3; // the range width per frame at 60 frames/s
  for (let i = 0; i < 1000; i++) {
    phase = advance(phase, 1 / 60);
    const next = angleAt(phase, -0.4, 1.1);
    assert.ok(Math.abs(next - angle) <= step + 1e-12);
    assert.ok(next >= -0.4 && next <= 1.1);
    angle = next;
  }
});
