// `npm run bench:flood -- --flood-seconds 180` reaches bench/run.ts as `flood --flood-seconds 180`:
// the options must go to the benchmark, not be taken as benchmark names.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { splitBenchArgs } from "../bench/lib/benchArgs.ts";

const HOSTILE_PEER = fileURLToPath(new URL("../bench/hostilePeer.ts", import.meta.url));

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

  it("a benchmark's --help prints its header comment; an unknown option is one line and exit code 2", () => {
    const help = spawnSync(process.execPath, [HOSTILE_PEER, "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /node bench\/hostilePeer\.ts \[--seconds 70\]/);
    const bad = spawnSync(process.execPath, [HOSTILE_PEER, "--secnds", "5"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^hostilePeer: Unknown option '--secnds' \(--help lists the options\)\n$/);
  });
});
