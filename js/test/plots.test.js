import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeUnit } from "../src/buffers.js";
import { extent, formatDegrees, formatNumber, geodesicLayout, linearScale, slotOfRank, spectrumLayout } from "../src/plots.js";
import { record } from "./fixture.js";

const box = { left: 0, top: 0, width: 30, height: 100 };

test("linear scales map the domain ends to the range ends", () => {
  const y = linearScale(-2, 0, 100, 0);
  assert.equal(y(-2), 100);
  assert.equal(y(0), 0);
  assert.equal(y(-1), 50);
  assert.equal(linearScale(1, 1, 0, 10)(5), 5);
});

test("extent finds the smallest and largest values", () => {
  assert.deepEqual(extent([3, -1, 2]), [-1, 3]);
});

test("the spectrum has one slot per degenerate group, zoomed to the curvatures", () => {
  const unit = decodeUnit(record());
  const layout = spectrumLayout(unit, "most", box);
  assert.deepEqual(layout.slots.map((s) => [s.first, s.last, s.members, s.index]), [[0, 0, 1, 0], [1, 2, 2, 1]]);
  assert.deepEqual(layout.slots.map((s) => [s.x0, s.x1]), [[0, 15], [15, 30]]);
  // range [-2, -0.5] padded by 0.12 either side onto [100, 0]
  const y = (v) => (100 * (-0.5 + 0.12 - v)) / 1.74;
  assert.ok(Math.abs(layout.slots[1].y - y(-2)) < 1e-9);
  assert.ok(Math.abs(layout.slots[0].y - y(-0.5)) < 1e-9);
  assert.equal(slotOfRank(layout.slots, 2), 1);
});

test("least-invariant-first puts the tied band first", () => {
  const layout = spectrumLayout(decodeUnit(record()), "least", box);
  assert.deepEqual(layout.slots.map((s) => [s.first, s.last, s.index]), [[0, 1, 2], [2, 2, 0]]);
});

test("a result with only its two ends gets a gap slot between them", () => {
  const unit = { curvatures: Float32Array.from([0, -1, -5, -5]), groups: Int32Array.from([0, 1, 2, 2]), count: 4, total: 99 };
  const layout = spectrumLayout(unit, "most", box);
  assert.deepEqual(layout.slots.map((s) => [s.gap, s.first, s.members]), [[false, 0, 1], [false, 1, 1], [true, 2, 95], [false, 2, 2]]);
  assert.equal(slotOfRank(layout.slots, 3), 3);
});

test("degrees are formatted with a degree sign", () => {
  assert.equal(formatDegrees(Math.PI / 2), "90°");
  assert.equal(formatDegrees(-0.1), "-5.73°");
});

test("the geodesic plot spans the angles and includes the c g* line", () => {
  const unit = decodeUnit(record());
  const layout = geodesicLayout(unit, unit.geodesicActivations.subarray(5, 10), box);
  assert.deepEqual(layout.angles, [-1, 1]);
  assert.equal(layout.thresholdValue, 1);
  assert.deepEqual(layout.values, [0, 2]);
  assert.equal(layout.x(0), 15);
  assert.equal(layout.y(layout.thresholdValue), 50);
  assert.equal(layout.points.split(" ").length, 5);
  assert.equal(layout.points.split(" ")[2], "15.00,0.00");
});

test("the video line sits where Python says a video ends, also below a negative optimum", () => {
  const unit = decodeUnit({ ...record(), activation: -2, video_level: -3 });
  const layout = geodesicLayout(unit, unit.geodesicActivations.subarray(5, 10), box);
  assert.equal(layout.thresholdValue, -3);
  assert.deepEqual(layout.values, [-3, 2]);
});

test("numbers are short and readable", () => {
  assert.equal(formatNumber(0), "0");
  assert.equal(formatNumber(1200), "1200");
  assert.equal(formatNumber(1.5), "1.5");
  assert.equal(formatNumber(-0.38514), "-0.3851");
  assert.equal(formatNumber(2e-5), "2.00e-5");
  assert.equal(formatNumber(Number.NaN), "NaN");
});
