import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeUnit } from "../src/buffers.js";
import { endText, readoutRows, tieText } from "../src/readouts.js";
import { resolveSelection } from "../src/state.js";
import { record } from "./fixture.js";

test("angles are read out in degrees", () => {
  const selection = resolveSelection([record()], { unit: 0, rank: 0, order: "most", angle: Math.PI / 4 });
  const rows = Object.fromEntries(readoutRows({ ...selection, group: "" }, 1.5));
  assert.equal(rows["Angle θ"], "45°, video range [-57.3°, 57.3°]");
});

test("least first on a tied end says it is a tie with no single image", () => {
  // the fixture's directions 1 and 2 tie at the least invariant end
  const selection = resolveSelection([record()], { unit: 0, rank: 0, order: "least", angle: 0 });
  const rows = Object.fromEntries(readoutRows({ ...selection, group: "pretrained" }, 2));
  assert.match(rows["Least invariant end"], /^a tie of 2 directions: no single image/);
  assert.match(rows["Least invariant end"], /This direction is one member of it/);
  assert.match(rows["Least invariant end"], /least-first rank 2\.$/);
  assert.equal(rows.Unit, "0 (toy), pretrained");
  const most = resolveSelection([record()], { unit: 0, rank: 0, order: "most", angle: 0 });
  assert.equal(Object.fromEntries(readoutRows({ ...most, group: "" }, 2))["Least invariant end"], undefined);
});

test("a partial result says which end a rank shows", () => {
  const data = { count: 6, total: 99 };
  assert.equal(endText(data, 1), "kept: the 3 most and 3 least invariant of 99 directions; this one: most invariant end, #1 from it");
  assert.equal(endText(data, 5), "kept: the 3 most and 3 least invariant of 99 directions; this one: least invariant end, #0 from it");
  assert.equal(endText({ count: 98, total: 98 }, 5), "");
});

test("no tie, no tie text", () => {
  const data = decodeUnit({ ...record(), groups: new DataView(new Int32Array([0, 1, 2]).buffer) });
  assert.equal(tieText(data, 2), "");
});
