import assert from "node:assert/strict";
import { test } from "node:test";
import { frameHeight } from "../src/paint.js";

test("the stimulus is enlarged by a whole factor, up to 256 px, never shrunk", () => {
  assert.equal(frameHeight(10), 250);
  assert.equal(frameHeight(32), 256);
  assert.equal(frameHeight(100), 200);
  assert.equal(frameHeight(224), 224);
  assert.equal(frameHeight(300), 300);
});
