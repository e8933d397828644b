// `npm run bench:flood -- --flood-seconds 180` reaches bench/run.ts as `flood --flood-seconds 180`:
// the options must go to the benchmark, not be taken as benchmark names.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { splitBenchArgs } from "../bench/lib/benchArgs.ts";

describe("bench runner arguments", () => {
  it("passes options after the names through to the benchmark", () => {
    assert.deepEqual(splitBenchArgs(["flood", "--flood-seconds", "180", "--skip-ablation"]), {
      names: ["flood"],
      passThrough: ["--flood-seconds", "180", "--skip-ablation"],
    });
  });

  it("treats everything after a literal -- as options, and bare names as names", () => {
    assert.deepEqual(splitBenchArgs(["flood", "--", "x"]), { names: ["flood"], passThrough: ["x"] });
    assert.deepEqual(splitBenchArgs(["blockImport", "flood"]), { names: ["blockImport", "flood"], passThrough: [] });
    assert.deepEqual(splitBenchArgs([]), { names: [], passThrough: [] });
  });
});
