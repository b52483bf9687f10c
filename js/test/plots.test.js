import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeUnit } from "../src/buffers.js";
import { extent, formatNumber, geodesicLayout, linearScale, spectrumLayout } from "../src/plots.js";
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

test("the spectrum has one mark per rank and a band for each degenerate group", () => {
  const unit = decodeUnit(record());
  const layout = spectrumLayout(unit, "most", box);
  assert.deepEqual(layout.marks.map((m) => m.index), [0, 1, 2]);
  assert.deepEqual(layout.marks.map((m) => m.x), [5, 15, 25]);
  assert.equal(layout.zeroY, 0);
  assert.deepEqual(layout.marks.map((m) => m.y), [25, 100, 100]);
  assert.equal(layout.bands.length, 1);
  assert.deepEqual(layout.bands[0], { first: 1, last: 2, x0: 10, x1: 30, members: 2 });
});

test("least-invariant-first reverses the marks and moves the band", () => {
  const layout = spectrumLayout(decodeUnit(record()), "least", box);
  assert.deepEqual(layout.marks.map((m) => m.index), [2, 1, 0]);
  assert.deepEqual(layout.bands[0], { first: 0, last: 1, x0: 0, x1: 20, members: 2 });
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
