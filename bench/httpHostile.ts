// The hostile-HTTP-client benchmark (issue 11): a 2-node devnet (4 s slots), then against node 0
// 500 slow-header connections and 200 concurrent POST /lean/v0/validator/attestation requests of
// 1024 wrong signatures each. Reports the status of every post, how long the slow connections
// lived, node 0's tick lateness (its own histogram; a quiet window first, for the machine's
// contention) and finality before and after. Writes bench/results/httpHostile.json.
//   node bench/httpHostile.ts [--slow 500] [--posts 200] [--per-post 1024] [--slot-seconds 4] [--validators 16]
import { CONNECTIONS_CHECK_INTERVAL_MS, HEADERS_TIMEOUT_MS } from "../packages/node/src/api/serverLimits.ts";
import { TestDevnet } from "../test/helpers/devnet.ts";
import { runHostileClient } from "../test/helpers/httpHostile.ts";
import { benchOptions } from "./lib/benchArgs.ts";
import { machineInfo } from "./lib/machine.ts";
import { writeResult } from "./lib/report.ts";

const values = benchOptions(import.meta.url, {
  slow: { type: "string", default: "500" },
  posts: { type: "string", default: "200" },
  "per-post": { type: "string", default: "1024" },
  "slot-seconds": { type: "string", default: "4" },
  validators: { type: "string", default: "16" },
  "baseline-seconds": { type: "string", default: "30" },
});
const params = {
  slowConnections: Number(values.slow),
  posts: Number(values.posts),
  attestationsPerPost: Number(values["per-post"]),
  slotSeconds: Number(values["slot-seconds"]),
  validators: Number(values.validators),
  baselineSeconds: Number(values["baseline-seconds"]),
};

async function main(): Promise<void> {
  const m = machineInfo();
  console.log(`machine: ${m.nproc} cpus, ${m.cpuModel}, load ${m.loadAverage1m}; ${JSON.stringify(params)}`);
  const net = await TestDevnet.create({
    name: "bench-http-hostile",
    nodes: 2,
    validators: params.validators,
    slotSeconds: params.slotSeconds,
  });
  try {
    net.startAll();
    await net.waitForHealth([0, 1], (hs) => hs.every((h) => h.finalized_slot >= 2), "finality on both nodes", 120_000);
    const entry = net.entry(0);
    const result = await runHostileClient({
      httpPort: entry.httpPort,
      metricsPort: entry.metricsPort,
      validators: params.validators,
      slowConnections: params.slowConnections,
      posts: params.posts,
      attestationsPerPost: params.attestationsPerPost,
      dripMs: 1_000,
      slowDeadlineMs: HEADERS_TIMEOUT_MS + 2 * CONNECTIONS_CHECK_INTERVAL_MS + 30_000,
      baselineMs: params.baselineSeconds * 1000,
    });
    const slow = [...result.slowLifetimesMs].sort((a, b) => a - b);
    const summary = {
      statuses: result.statuses,
      retryAfterMissing: result.retryAfterMissing,
      slowClosedMs: { min: slow[0], median: slow[Math.floor(slow.length / 2)], max: slow[slow.length - 1] },
      slowStillOpen: slow.filter((x) => !Number.isFinite(x)).length,
      tickP99Ms: Number(result.tickP99Ms.toFixed(1)),
      tickMaxBucketMs: result.tickMaxBucketMs,
      ticks: result.ticks,
      baselineTickP99Ms: Number(result.baselineTickP99Ms.toFixed(1)),
      baselineTickMaxBucketMs: result.baselineTickMaxBucketMs,
      finalized: `${result.finalizedBefore} -> ${result.finalizedAfter}`,
      droppedRequestTimeout: result.droppedRequestTimeout,
      refusedRateLimited: result.refusedRateLimited,
      apiSignaturesInvalid: result.apiSignaturesInvalid,
      attackSeconds: Number((result.durationMs / 1000).toFixed(1)),
      loadAfter: machineInfo().loadAverage1m,
    };
    console.log(JSON.stringify(summary, null, 2));
    const path = writeResult("httpHostile", { ...params, machine: m }, summary);
    console.log(`written to ${path}`);
  } finally {
    await net.teardown();
  }
}

await main();
