import assert from "node:assert/strict";
import { test } from "node:test";
import { groupOf, unitGroups } from "../src/galleryView.js";

test("without groups all units form one unnamed group", () => {
  assert.deepEqual(unitGroups([], 5), [{ name: "", start: 0, stop: 5 }]);
  assert.deepEqual(unitGroups(undefined, 2), [{ name: "", start: 0, stop: 2 }]);
});

test("groups outside the units are ignored", () => {
  const groups = [{ name: "a", start: 0, stop: 2 }, { name: "b", start: 2, stop: 9 }];
  assert.deepEqual(unitGroups(groups, 4), [groups[0]]);
});

test("groupOf names the group of a unit", () => {
  const groups = [{ name: "layer 1", start: 0, stop: 3 }, { name: "layer 2", start: 3, stop: 5 }];
  assert.equal(groupOf(groups, 0), "layer 1");
  assert.equal(groupOf(groups, 4), "layer 2");
  assert.equal(groupOf(groups, 7), "");
});
