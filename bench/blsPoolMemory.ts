// Memory of the BLS worker under continuous load: RSS growth while one worker verifies 64-set jobs
// back to back (half the signatures bad, so every batch falls back to single checks, as under the
// flood's default mix), in two set-ups, each in its own process so neither inherits the other's
// memory:
//   parked   the real worker file in a Piscina with its default `atomics: "sync"`: between tasks
//            the worker sits in Atomics.wait and its event loop does not turn on its own
//   pool     BlsVerifierPool as the node runs it (`atomics: "disabled"`: tasks come as port messages)
// blst objects hold native memory that N-API finalizers free from an immediate on the worker's event
// loop. A worker that never turned it grew ~0.5 MB/s ("parked" before the worker yielded a turn
// itself between back-to-back jobs); both set-ups should now stay flat.
// Run: node bench/blsPoolMemory.ts [seconds per set-up, default 30]
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { interopSecretKeys } from "@metronome/chain";
import { Piscina } from "piscina";
import type { BlsJob, BlsJobResult } from "../packages/bls/src/blsWorker.ts";
import {
  BlsVerifierPool,
  encodeJob,
  type SignatureSetInput,
  signatureSet,
  toVerifiableSet,
  type VerifiableSet,
} from "../packages/bls/src/index.ts";

const BATCH = 64;
const WARMUP_S = 5;
const MiB = 2 ** 20;

interface ModeResult {
  mode: string;
  sets: number;
  seconds: number;
  rssAfterWarmupMiB: number;
  rssEndMiB: number;
}

function workload(): SignatureSetInput[] {
  const sks = interopSecretKeys(BATCH);
  const wrong = new Uint8Array(32).fill(0xee);
  return sks.map((sk, i) => {
    const message = new Uint8Array(32);
    new DataView(message.buffer).setUint32(0, i + 1);
    const signature = i % 2 === 0 ? sk.sign(wrong).toBytes() : sk.sign(message).toBytes();
    return signatureSet(message, sk.toPublicKey(), signature);
  });
}

/** Runs `verifyBatch` two jobs at a time (one running, one waiting) for `seconds`. */
async function load(mode: string, seconds: number, verifyBatch: () => Promise<unknown>): Promise<ModeResult> {
  const started = performance.now();
  let sets = 0;
  let rssAfterWarmup = 0;
  while (performance.now() - started < seconds * 1000) {
    await Promise.all([verifyBatch(), verifyBatch()]);
    sets += 2 * BATCH;
    if (rssAfterWarmup === 0 && performance.now() - started >= WARMUP_S * 1000)
      rssAfterWarmup = process.memoryUsage().rss;
  }
  return {
    mode,
    sets,
    seconds: (performance.now() - started) / 1000,
    rssAfterWarmupMiB: rssAfterWarmup / MiB,
    rssEndMiB: process.memoryUsage().rss / MiB,
  };
}

async function runMode(mode: string, seconds: number): Promise<ModeResult> {
  const sets = workload();
  if (mode === "pool") {
    const pool = new BlsVerifierPool({ workers: 1 });
    await pool.ready();
    try {
      return await load(mode, seconds, () => pool.verifySets(sets));
    } finally {
      await pool.close();
    }
  }
  const verifiable = sets.map((s) => toVerifiableSet(s) as VerifiableSet);
  const piscina = new Piscina<BlsJob, BlsJobResult>({
    filename: new URL("../packages/bls/src/blsWorker.ts", import.meta.url).href,
    minThreads: 1,
    maxThreads: 1,
    atomics: "sync",
  });
  try {
    return await load(mode, seconds, () => {
      const buffer = encodeJob(verifiable);
      return piscina.run({ buffer }, { transferList: [buffer] });
    });
  } finally {
    await piscina.destroy();
  }
}

function main(): void {
  const seconds = Number(process.argv[2] ?? 30);
  if (!Number.isFinite(seconds) || seconds <= WARMUP_S) {
    console.error(`seconds per set-up must be a number above the ${WARMUP_S} s warm-up, got ${process.argv[2]}`);
    process.exit(2);
  }
  console.log(`one worker, ${BATCH}-set jobs back to back (half the signatures bad), ${seconds} s per set-up`);
  console.log("set-up   sets/s  RSS after 5 s MiB  RSS end MiB  growth MiB  growth KiB per 1000 sets");
  for (const mode of ["parked", "pool"]) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", mode, String(seconds)], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0) {
      console.error(`${mode}: child exited ${child.status}`);
      process.exit(1);
    }
    const r = JSON.parse(child.stdout) as ModeResult;
    const growth = r.rssEndMiB - r.rssAfterWarmupMiB;
    const setsAfterWarmup = (r.sets * (r.seconds - WARMUP_S)) / r.seconds;
    console.log(
      `${r.mode.padEnd(7)} ${(r.sets / r.seconds).toFixed(0).padStart(7)} ${r.rssAfterWarmupMiB.toFixed(0).padStart(18)} ${r.rssEndMiB
        .toFixed(0)
        .padStart(
          12,
        )} ${growth.toFixed(1).padStart(11)} ${((growth * 1024 * 1000) / setsAfterWarmup).toFixed(1).padStart(25)}`,
    );
  }
}

if (process.argv[2] === "--child") {
  const result = await runMode(process.argv[3] ?? "pool", Number(process.argv[4]));
  process.stdout.write(JSON.stringify(result));
} else {
  main();
}
