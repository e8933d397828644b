// The node's gossip-attestation verification path, end to end in one process, on a flood mix's
// own messages: the main thread builds each signature set as gossipIngress does (chain lookup,
// signing root, the set builder) and hands batches of 64 to a BlsVerifierPool, taking only what
// the pool has room for; the worker verifies. Reports, per set: main-thread microseconds to
// build it, the worker's verify time, the pool's wall-clock throughput, the worker's busy share,
// and the same batches through verifySetBatch on this thread with nothing else running (the
// flood bench's "same-batch blst on an idle core" baseline). Run with
// `node --cpu-prof --cpu-prof-dir DIR bench/verifyPath.ts` to get a profile of each thread.
//   node bench/verifyPath.ts [--mix valid=100] [--validators 32] [--sets 4096] [--messages 1024]
import {
  BlsVerifierPool,
  type SignatureSetInput,
  toVerifiableSet,
  ValidatorKeyTable,
  type VerifiableSet,
  verifierSignatureSet,
  verifySetBatch,
} from "@metronome/bls";
import {
  computeForkDigest,
  createGenesisState,
  interopValidators,
  PubkeyCache,
  SigningDomains,
} from "@metronome/chain";
import { decodedSignatureSet, verifiedFloodPayloads } from "../packages/flood/src/capacity.ts";
import { type FloodMix, parseMix } from "../packages/flood/src/mix.ts";
import { type DecodedFloodPayload, decodeFloodPayload } from "../packages/flood/src/payloadData.ts";
import { benchOptions } from "./lib/benchArgs.ts";
import { machineInfo } from "./lib/machine.ts";

const values = benchOptions(import.meta.url, {
  mix: { type: "string", default: "valid=100" },
  validators: { type: "string", default: "32" },
  sets: { type: "string", default: "4096" },
  messages: { type: "string", default: "1024" },
});
/** The node's batch size (DEFAULT_MAX_BATCH_SIZE) and its per-pass take. */
const BATCH = 64;
const WORKERS = 1; // the 2-core target's default: one worker, one core for the main loop

/** Decoded gossip messages of the verified kinds, in mix proportions (decoding is not timed). */
function floodItems(validatorCount: number, mix: FloodMix, count: number): DecodedFloodPayload[] {
  const out: DecodedFloodPayload[] = [];
  if (count <= 0) return out;
  for (const payload of verifiedFloodPayloads(validatorCount, mix)) {
    out.push(decodeFloodPayload(payload));
    if (out.length >= count) break;
  }
  return out;
}

async function main(): Promise<void> {
  const validatorCount = Number(values.validators);
  const total = Number(values.sets);
  const mix = parseMix(values.mix);
  const items = floodItems(validatorCount, mix, Number(values.messages));
  const validators = interopValidators(validatorCount);
  const pubkeys = new PubkeyCache(validators);
  const domains = new SigningDomains(computeForkDigest(createGenesisState(0, validators)));
  const aggregates = items.filter((i) => i.topic === "aggregation");
  const participants = aggregates.reduce((n, i) => n + i.value.aggregationBits.getTrueBitIndexes().length, 0);
  const m = machineInfo();
  console.log(`machine: ${m.nproc} cpus, ${m.cpuModel}, node ${m.node}, load ${m.loadAverage1m}`);
  console.log(
    `mix ${values.mix}: ${items.length} messages (${aggregates.length} aggregates, ${(participants / Math.max(1, aggregates.length)).toFixed(1)} participants each), ${validatorCount} validators, ${total} sets`,
  );

  const pool = new BlsVerifierPool({ workers: WORKERS, validatorKeys: pubkeys.all() });
  await pool.ready();
  const build = (item: DecodedFloodPayload): SignatureSetInput =>
    verifierSignatureSet(pool, decodedSignatureSet(item, pubkeys, domains));

  // The same batches on this thread, idle machine: the flood bench's baseline.
  const baselineSets = Array.from({ length: total }, (_, i) => build(items[i % items.length] as DecodedFloodPayload));
  const verifiable = baselineSets.map((s) => toVerifiableSet(s, pool.validatorCount()) as VerifiableSet);
  const table = ValidatorKeyTable.fromKeys(pubkeys.all());
  let baselineMs = Number.POSITIVE_INFINITY;
  for (let rep = 0; rep < 2; rep++) {
    const started = performance.now();
    for (let i = 0; i < verifiable.length; i += BATCH) verifySetBatch(verifiable.slice(i, i + BATCH), table);
    baselineMs = Math.min(baselineMs, performance.now() - started);
  }

  await pool.verifySets(baselineSets.slice(0, BATCH)); // warm both sides' JIT and key tables
  const before = pool.stats();
  let buildMs = 0;
  let valid = 0;
  const inflight: Promise<boolean[]>[] = [];
  let next = 0;
  const started = performance.now();
  for (let i = 0; i < total; ) {
    // Like gossipIngress: take only what the pool has room for; otherwise wait for a verdict.
    if (pool.capacityLeft() < BATCH) {
      for (const r of await (inflight[next++] as Promise<boolean[]>)) valid += r ? 1 : 0;
      continue;
    }
    const t = performance.now();
    const sets: SignatureSetInput[] = [];
    for (let k = 0; k < BATCH && i < total; k++, i++) sets.push(build(items[i % items.length] as DecodedFloodPayload));
    buildMs += performance.now() - t;
    inflight.push(pool.verifySets(sets));
  }
  for (; next < inflight.length; next++)
    for (const r of await (inflight[next] as Promise<boolean[]>)) valid += r ? 1 : 0;
  const wallMs = performance.now() - started;
  const s = pool.stats();
  await pool.close();
  const verifyMs = s.verifyMsTotal - before.verifyMsTotal;
  const rows: [string, string][] = [
    ["main thread: build one set (lookup, root, builder) us", ((buildMs / total) * 1000).toFixed(1)],
    ["worker: verify time per set us", ((verifyMs / total) * 1000).toFixed(1)],
    ["pool sets/s (wall)", ((total / wallMs) * 1000).toFixed(0)],
    ["pool sets per worker busy second", ((total / verifyMs) * 1000).toFixed(0)],
    ["worker busy share of the wall clock %", ((100 * verifyMs) / wallMs).toFixed(1)],
    ["same batches on this thread, idle: sets/s", ((total / baselineMs) * 1000).toFixed(0)],
    ["pool wall vs same-batch idle %", ((100 * baselineMs) / wallMs).toFixed(1)],
    ["keys decoded / aggregated in the worker", `${s.keysDecoded} / ${s.keyAggregations}`],
    ["valid", `${valid} of ${total}`],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(56)} ${v}`);
}

await main();
