import assert from "node:assert/strict";
import { test } from "node:test";
import { leastTie } from "../src/tie.js";

function unit(groups, { total = groups.length, endsTied = [false, false] } = {}) {
  return { groups: Int32Array.from(groups), count: groups.length, total, endsTied };
}

test("a unique least invariant direction has no tie", () => {
  assert.equal(leastTie(unit([0, 1, 2, 3])), null);
});

test("a tied end names its size and the nearest unique direction outside it", () => {
  // the pooling-unit pattern: a few distinct curvatures, then one big tie
  assert.deepEqual(leastTie(unit([0, 1, 2, 2, 3, 4, 4, 4])), { members: 3, atLeast: false, alternative: 4 });
  // the direction just outside the tie is itself tied: the next unique one is chosen
  assert.deepEqual(leastTie(unit([0, 1, 2, 2, 3, 3, 3])), { members: 3, atLeast: false, alternative: 1 });
});

test("with no unique direction outside the tie, the first outside it is offered", () => {
  assert.deepEqual(leastTie(unit([0, 0, 1, 1])), { members: 2, atLeast: false, alternative: 1 });
  assert.deepEqual(leastTie(unit([0, 0, 0])), { members: 3, atLeast: false, alternative: -1 });
});

test("a matrix-free result offers only directions from its least invariant end", () => {
  // 2k = 6 kept of 99: indices 3..5 are the least end, all tied and marked tied
  const partial = unit([0, 1, 2, 3, 3, 3], { total: 99, endsTied: [false, true] });
  assert.deepEqual(leastTie(partial), { members: 3, atLeast: true, alternative: -1 });
  const mixed = unit([0, 1, 2, 3, 4, 4], { total: 99, endsTied: [false, true] });
  assert.deepEqual(leastTie(mixed), { members: 2, atLeast: true, alternative: 3 });
});
