import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCrashPlan } from "../../src/db/crashHook.ts";

describe("crash hook", () => {
  it("parses <point>:<n> and refuses anything else", () => {
    assert.equal(parseCrashPlan(undefined), null);
    assert.equal(parseCrashPlan(""), null);
    assert.deepEqual(parseCrashPlan("finality:before-batch:3"), { point: "finality:before-batch", hit: 3 });
    for (const bad of ["finality:before-batch", "finality:nowhere:1", "finality:after-batch:0", "block:after-put:x"]) {
      assert.throws(() => parseCrashPlan(bad), /METRONOME_CRASH_AT/, bad);
    }
  });
});
