// The flood bench's verification cost per CPU second: which of a node's threads count as its
// verifier (by name and nice), read from /proc on a live process, and the period figure built on it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { summarizeSamples } from "../src/periodSummary.ts";
import { procVerifierCpuSeconds, type ThreadCpu, verifierThreadCpu } from "../src/targetProbe.ts";
import { probeSample } from "./probeSampleFixture.ts";

const BLS_OFFSET = 10;

describe("flood probe: the verifier's CPU time", () => {
  it("counts the worker threads at the verifier's nice and nothing else a node runs", () => {
    const threads: ThreadCpu[] = [
      { comm: "MainThread", nice: 0, cpuSeconds: 5 }, // the driver
      { comm: "V8Worker", nice: 0, cpuSeconds: 3 }, // V8's GC helpers
      { comm: "WorkerThread", nice: 5, cpuSeconds: 7 }, // the network worker
      { comm: "WorkerThread", nice: 10, cpuSeconds: 2 }, // the BLS worker
      { comm: "WorkerThread", nice: 10, cpuSeconds: 1.5 }, // blst's batch threads it started
      { comm: "WorkerThread", nice: 10, cpuSeconds: 1.5 },
      { comm: "libuv-worker", nice: 10, cpuSeconds: 9 }, // not a worker thread, whatever its nice
    ];
    assert.equal(verifierThreadCpu(threads, 0, BLS_OFFSET), 5);
    // A node started at nice 3 has its verifier at 13; the same threads then count nothing.
    assert.equal(verifierThreadCpu(threads, 3, BLS_OFFSET), 0);
    // Nice stops at 19: a node started at 15 has its verifier there.
    assert.equal(verifierThreadCpu([{ comm: "WorkerThread", nice: 19, cpuSeconds: 4 }], 15, BLS_OFFSET), 4);
  });

  it(
    "reads a live process: a worker that lowered its priority by the offset and burnt CPU is counted",
    { skip: process.platform !== "linux" && "per-thread nice and /proc are Linux only" },
    async () => {
      const before = procVerifierCpuSeconds(process.pid, BLS_OFFSET);
      assert.equal(before, 0, "no thread of this test process runs at the verifier's nice yet");
      const worker = new Worker(
        `const { readlinkSync } = require("node:fs");
         const { getPriority, setPriority } = require("node:os");
         const { parentPort } = require("node:worker_threads");
         const link = readlinkSync("/proc/thread-self");
         const tid = Number(link.slice(link.lastIndexOf("/") + 1));
         setPriority(tid, Math.min(19, getPriority(tid) + ${BLS_OFFSET}));
         const until = Date.now() + 400;
         while (Date.now() < until) {}
         parentPort.postMessage("burnt");
         parentPort.once("message", () => process.exit(0));`,
        { eval: true },
      );
      try {
        await new Promise((resolve, reject) => {
          worker.once("message", resolve);
          worker.once("error", reject);
        });
        const after = procVerifierCpuSeconds(process.pid, BLS_OFFSET);
        assert.ok(after !== null && after >= 0.3, `counted ${after} s of a 0.4 s busy loop`);
      } finally {
        worker.postMessage("exit");
        await new Promise((resolve) => worker.once("exit", resolve));
      }
      assert.equal(procVerifierCpuSeconds(2 ** 22 + 12345, BLS_OFFSET), null, "a process that is not there");
    },
  );

  it("the period figure is sets over the verifier's CPU seconds, not over its busy wall time", () => {
    const s = summarizeSamples(
      "flood",
      [
        probeSample(0, { blsSetsVerified: 1000, blsVerifySeconds: 10, verifierCpuSeconds: 4 }),
        // 600 sets in 6 busy seconds (preempted most of them) and 0.75 CPU seconds.
        probeSample(10, { blsSetsVerified: 1600, blsVerifySeconds: 16, verifierCpuSeconds: 4.75 }),
      ],
      0,
      0,
    );
    assert.equal(s.setsPerBusySecond, 100);
    assert.equal(s.setsPerVerifierCpuSecond, 800);
    const unknown = summarizeSamples("flood", [probeSample(0), probeSample(10, { blsSetsVerified: 10 })], 0, 0);
    assert.ok(Number.isNaN(unknown.setsPerVerifierCpuSecond), "no /proc figures: no ratio, not a zero");
  });
});
