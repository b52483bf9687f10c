import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFloat32, decodeInt32, decodeUnit, directionOf, geodesicOf, groupSize, labelOf, memoizedDecoder, videoRangeOf } from "../src/buffers.js";
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
  assert.throws(() => decodeUnit(bad), /curvatures has 2 values, expected 3/);
  const wrongShape = { ...record(), width: 3 };
  assert.throws(() => decodeUnit(wrongShape), /stimulus has 4 values, expected 6/);
  assert.throws(() => decodeUnit({ ...record(), labels: ["other"] }), /labels has 1 values, expected 3/);
  assert.throws(() => decodeUnit({ ...record(), label_centres: floatView([1, 2]) }), /labelCentres has 2 values/);
  assert.throws(() => decodeUnit({ ...record(), least_tie: 3 }), /least_tie is 3, expected an integer from 0 to 2/);
  assert.throws(() => decodeUnit({ ...record(), least_tie: 1.5 }), /least_tie/);
  assert.equal(decodeUnit({ ...record(), least_tie: 2 }).leastTie, 2);
});

test("the memoized decoder decodes a record once and a new record again", () => {
  const decode = memoizedDecoder();
  const first = record();
  assert.equal(decode(first), decode(first));
  assert.notEqual(decode(record()), decode(first));
});
