import assert from "node:assert/strict";
import { test } from "node:test";
import { setAll } from "../src/model.js";

/** A model that follows anywidget's contract strictly, as marimo's does. */
function strictModel() {
  const calls = [];
  return {
    calls,
    set(key, value) {
      if (typeof key !== "string" || arguments.length !== 2) throw new TypeError("set(key, value) only");
      calls.push(["set", key, value]);
    },
    save_changes() {
      calls.push(["save"]);
    },
  };
}

test("setAll sets each key then saves once", () => {
  const model = strictModel();
  setAll(model, { unit: 3, rank: 2 });
  assert.deepEqual(model.calls, [["set", "unit", 3], ["set", "rank", 2], ["save"]]);
});

test("setAll with no changes sends nothing", () => {
  const model = strictModel();
  setAll(model, {});
  assert.deepEqual(model.calls, []);
});
