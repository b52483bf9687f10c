import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFloat16, decodeFloat32, decodeInt32, decodeScaledInt8, decodeUnit, directionOf, geodesicOf, groupSize, labelOf, memoizedDecoder, videoRangeOf } from "../src/buffers.js";
import { floatView, intView, record } from "./fixture.js";

test("a DataView at an offset decodes its own bytes, not the whole buffer", () => {
  const view = floatView([1.5, -2.25, 3], 8);
  assert.equal(view.buffer.byteLength, 20);
  assert.deepEqual([...decodeFloat32(view)], [1.5, -2.25, 3]);
});

test("unaligned bytes are copied before decoding", () => {
  const buffer = new ArrayBuffer(9);
  new DataView(buffer).setFloat32(1, 0.5, true);
  new DataView(buffer).setFloat32(5, -4, true);
  assert.deepEqual([...decodeFloat32(new DataView(buffer, 1, 8))], [0.5, -4]);
});

test("ArrayBuffers and typed arrays decode too; ints decode as int32", () => {
  assert.deepEqual([...decodeFloat32(Float32Array.from([2, 3]).buffer)], [2, 3]);
  assert.deepEqual([...decodeInt32(intView([0, 1, 1, -7]))], [0, 1, 1, -7]);
});

test("data that is not whole 4-byte values, or not binary, is refused", () => {
  assert.throws(() => decodeFloat32(new DataView(new ArrayBuffer(6))), RangeError);
  assert.throws(() => decodeFloat32([1, 2]), TypeError);
  assert.throws(() => decodeFloat32(null), TypeError);
});

test("a unit record decodes into views with the right shapes", () => {
  const unit = decodeUnit(record());
  assert.equal(unit.size, 4);
  assert.equal(unit.count, 3);
  assert.equal(unit.samples, 5);
  assert.deepEqual([...directionOf(unit, 2)], [0, 0, 0, 1]);
  assert.deepEqual([...geodesicOf(unit, 1)], [0, 1, 2, 1, 0]);
  assert.deepEqual(videoRangeOf(unit, 1), [-0.5, 0.25]);
  assert.equal(groupSize(unit, 0), 1);
  assert.equal(groupSize(unit, 2), 2);
  assert.equal(labelOf(unit, 0), "translation (translation 90%, rotation 5%, scale 1%)");
  assert.equal(labelOf(unit, 2), "scale (translation 0%, rotation 0%, scale 60%)");
  const centred = decodeUnit({ ...record(), label_centres: floatView([NaN, NaN, NaN, NaN, 0.25, 1.04]) });
  assert.equal(labelOf(centred, 2), "scale about (0.3, 1.0) (translation 0%, rotation 0%, scale 60%)");
  assert.equal(labelOf(centred, 0), "translation (translation 90%, rotation 5%, scale 1%)");
});

test("a record whose arrays do not fit its shape is refused with the field named", () => {
  const bad = { ...record(), curvatures: floatView([1, 2]) };
  assert.throws(() => decodeUnit(bad), /directions has 12 values, expected 8 .* with 2 directions/);
  const tooMany = { ...record(), curvatures: floatView([1, 2, 3, 4]) };
  assert.throws(() => decodeUnit(tooMany), /4 directions kept, expected 1 to 3/);
  const wrongShape = { ...record(), width: 3 };
  assert.throws(() => decodeUnit(wrongShape), /stimulus has 4 values, expected 6/);
  assert.throws(() => decodeUnit({ ...record(), labels: ["other"] }), /labels has 1 values, expected 3/);
  assert.throws(() => decodeUnit({ ...record(), label_centres: floatView([1, 2]) }), /labelCentres has 2 values/);
});

test("the memoized decoder decodes a record once and a new record again", () => {
  const decode = memoizedDecoder();
  const first = record();
  assert.equal(decode(first), decode(first));
  assert.notEqual(decode(record()), decode(first));
});

test("a colour record has channels; a partial one keeps fewer directions than n - 1", () => {
  const colour = {
    ...record(),
    channels: 3,
    height: 1,
    width: 2,
    complete: false,
    ends_tied: [false, true],
    stimulus: floatView([1, 0, 0, 0, 0, 0]),
    directions: floatView([0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  };
  const unit = decodeUnit(colour);
  assert.equal(unit.size, 6);
  assert.equal(unit.count, 3);
  assert.equal(unit.total, 5);
  assert.equal(unit.complete, false);
  assert.deepEqual(unit.endsTied, [false, true]);
  assert.deepEqual([...directionOf(unit, 2)], [0, 0, 0, 0, 0, 1]);
});

test("an unnamed record decodes and says so", () => {
  const unit = decodeUnit({ ...record(), labels: [], label_fractions: floatView([]) });
  assert.equal(labelOf(unit, 0), "not named");
});

test("float16 decodes exactly: normal, subnormal, zero, infinity, NaN", () => {
  const halves = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7bff]);
  const out = decodeFloat16(new DataView(halves.buffer));
  assert.deepEqual([...out.slice(0, 6)], [1, -2, 0.333251953125, 2 ** -24, 0, -0]);
  assert.deepEqual([out[6], out[7], out[9]], [Infinity, -Infinity, 65504]);
  assert.ok(Number.isNaN(out[8]));
  assert.throws(() => decodeFloat16(new DataView(new ArrayBuffer(3))), RangeError);
});

test("int8 steps decode row by row, each with its own scale", () => {
  const steps = new Int8Array([127, -127, 0, 1, -64, 5]);
  const out = decodeScaledInt8(new DataView(steps.buffer), new Float32Array([0.5, 2]));
  assert.deepEqual([...out], [63.5, -63.5, 0, 2, -128, 10]);
  assert.throws(() => decodeScaledInt8(new DataView(new ArrayBuffer(5)), new Float32Array(2)), RangeError);
});

test("a compact record decodes its int8 directions and float16 activations", () => {
  const full = record();
  const steps = new Int8Array([0, 127, 0, 0, 0, 0, -127, 0, 0, 0, 0, 64]);
  const halves = new Uint16Array(15).fill(0x3c00); // 1.0
  const unit = decodeUnit({
    ...full,
    compact: true,
    directions: new DataView(steps.buffer),
    direction_scales: floatView([1 / 127, 0.5 / 127, 1 / 64]),
    geodesic_activations: new DataView(halves.buffer),
  });
  assert.deepEqual([...directionOf(unit, 1)], [0, 0, -0.5, 0]);
  assert.deepEqual([...directionOf(unit, 2)], [0, 0, 0, 1]);
  assert.ok(Math.abs(directionOf(unit, 0)[1] - 1) < 1e-6);
  assert.deepEqual([...unit.geodesicActivations.slice(0, 3)], [1, 1, 1]);
});
