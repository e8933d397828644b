// A thread's scheduler times: the parse of /proc's schedstat, and live readings that tell time on a
// CPU from time waiting for one (what the late-tick line and the driver-thread metrics rest on).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { parseSchedStat, readMainThreadCpuTimes, readThreadCpuTimes } from "../src/threadCpuTimes.ts";

const linux = process.platform === "linux";
const hasTaskset = linux && spawnSync("taskset", ["--version"]).status === 0;

describe("parseSchedStat", () => {
  it("reads on-CPU and run-queue wait nanoseconds and the timeslice count", () => {
    assert.deepEqual(parseSchedStat("2500000 1250000 17\n"), { onCpuMs: 2.5, runQueueWaitMs: 1.25, timeslices: 17 });
  });

  it("refuses anything else", () => {
    for (const text of ["", "1 2", "1 2 3 4", "a b c", "-1 2 3", "1 NaN 3"]) {
      assert.equal(parseSchedStat(text), null, JSON.stringify(text));
    }
  });
});

describe("live thread CPU times", { skip: !linux && "Linux only" }, () => {
  it("the main thread's time on a CPU grows while it works", () => {
    const before = readMainThreadCpuTimes();
    assert.ok(before, "schedstat is readable");
    const until = performance.now() + 40;
    while (performance.now() < until) {
      // busy on purpose
    }
    const after = readMainThreadCpuTimes();
    assert.ok(after);
    assert.ok(after.onCpuMs - before.onCpuMs >= 30, `on a CPU ${after.onCpuMs - before.onCpuMs} ms of 40`);
    assert.equal(readThreadCpuTimes(2 ** 31 - 2), null, "a thread that is not ours reads as null");
  });

  it("a thread sharing one CPU with a busy one shows the time it waited", { skip: !hasTaskset && "no taskset" }, () => {
    const out = execFileSync(
      "taskset",
      ["-c", "0", process.execPath, new URL("./fixtures/sharedCpuWorker.ts", import.meta.url).pathname],
      { encoding: "utf8" },
    );
    const { wallMs, grown } = JSON.parse(out) as {
      wallMs: number;
      grown: { onCpuMs: number; runQueueWaitMs: number } | null;
    };
    assert.ok(grown);
    // Two spinning threads on one CPU: each runs about half the time and waits the other half.
    assert.ok(grown.runQueueWaitMs >= 0.25 * wallMs, `waited ${grown.runQueueWaitMs} of ${wallMs} ms`);
    assert.ok(grown.onCpuMs >= 0.25 * wallMs, `ran ${grown.onCpuMs} of ${wallMs} ms`);
    assert.ok(grown.onCpuMs + grown.runQueueWaitMs <= wallMs * 1.05 + 5, "never more than the wall clock");
  });
});
