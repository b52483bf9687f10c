import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveSelection } from "../src/state.js";
import { floatView, record } from "./fixture.js";

const values = { unit: 0, rank: 0, order: "most", angle: 0 };

test("no units: nothing to show", () => {
  assert.equal(resolveSelection([], values).status, "empty");
});

test("a unit not yet analyzed is pending", () => {
  const selection = resolveSelection([record(), null], { ...values, unit: 1 });
  assert.equal(selection.status, "pending");
  assert.match(selection.message, /Analyzing unit 1/);
});

test("a failed unit shows its error text", () => {
  const selection = resolveSelection([{ name: "bad", error: "ValueError: no optimum" }], values);
  assert.equal(selection.status, "error");
  assert.match(selection.message, /unit 0 \(bad\) failed: ValueError: no optimum/);
});

test("an unreadable record is an error, not a blank", () => {
  const selection = resolveSelection([{ ...record(), groups: floatView([0]) }], values);
  assert.equal(selection.status, "error");
  assert.match(selection.message, /groups has 1 values/);
});

test("out-of-range unit, rank, order and angle are clamped", () => {
  const selection = resolveSelection([record(), record()], { unit: 9, rank: 99, order: "up", angle: 5 });
  assert.equal(selection.status, "ready");
  assert.equal(selection.unit, 1);
  assert.equal(selection.rank, 2);
  assert.equal(selection.order, "most");
  assert.equal(selection.index, 2);
  assert.deepEqual([selection.start, selection.stop], [-0.25, 0.5]);
  assert.equal(selection.angle, 0.5);
});

test("least-invariant-first ranks count from the end", () => {
  const selection = resolveSelection([record()], { ...values, order: "least", rank: 0, angle: -3 });
  assert.equal(selection.index, 2);
  assert.equal(selection.angle, -0.25);
});
