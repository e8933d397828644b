// An aggregator's fold of one slot's votes (aggregateAttestations), on the driver thread: the
// node's code against the same fold with every signature decoded twice with the subgroup check
// (the code before, reproduced here as the baseline), in the same run.
// `node bench/aggregation.ts [--runs N] [--votes V] [--groups G]`
import {
  aggregateAttestations,
  blst,
  type Checkpoint,
  interopSecretKeys,
  type SignedAttestation,
  SigningDomains,
  signAttestation,
  signatureFromBytes,
} from "@metronome/chain";
import { benchOptions, positiveIntOption } from "./lib/benchArgs.ts";
import { printTable, writeResult } from "./lib/report.ts";
import { summarize, timed } from "./lib/stats.ts";

const WARMUP_RUNS = 3;
/** A slot's worth under a valid-signature flood: ~90 valid single votes/s for 4 s, plus the honest ones. */
const DEFAULT_VOTES = 512;
/** Distinct attestation data among them (the flood varies head and target). */
const DEFAULT_GROUPS = 16;

/** The fold as it was: a checked decode to filter, then a checked decode again to aggregate. */
function aggregateCheckedTwice(votes: readonly SignedAttestation[]): number {
  const groups = new Map<number, Map<number, Uint8Array>>();
  for (const v of votes) {
    if (signatureFromBytes(v.signature) === null) continue;
    const group = groups.get(v.data.slot * 1000 + v.data.head.slot) ?? new Map<number, Uint8Array>();
    groups.set(v.data.slot * 1000 + v.data.head.slot, group);
    if (!group.has(v.validatorIndex)) group.set(v.validatorIndex, v.signature);
  }
  let built = 0;
  for (const group of groups.values()) {
    blst.aggregateSerializedSignatures([...group.values()], true).toBytes();
    built++;
  }
  return built;
}

function main(): void {
  const values = benchOptions(import.meta.url, {
    runs: { type: "string" },
    votes: { type: "string" },
    groups: { type: "string" },
  });
  const runs = positiveIntOption(values.runs, 20, "runs");
  const voteCount = positiveIntOption(values.votes, DEFAULT_VOTES, "votes");
  const groupCount = positiveIntOption(values.groups, DEFAULT_GROUPS, "groups");
  const validatorsPerGroup = Math.ceil(voteCount / groupCount);

  const keys = interopSecretKeys(validatorsPerGroup);
  const domains = new SigningDomains(new Uint8Array(4));
  const checkpoint = (slot: number): Checkpoint => ({ root: new Uint8Array(32).fill(slot), slot });
  const votes: SignedAttestation[] = [];
  for (let g = 0; g < groupCount; g++) {
    const data = { slot: 100, head: checkpoint(90 + g), target: checkpoint(96), source: checkpoint(92) };
    for (let i = 0; i < validatorsPerGroup && votes.length < voteCount; i++) {
      votes.push(signAttestation(keys[i]!, i, data, domains));
    }
  }

  const node: number[] = [];
  const before: number[] = [];
  for (let i = 0; i < WARMUP_RUNS + runs; i++) {
    const a = timed(() => aggregateAttestations(votes));
    const b = timed(() => aggregateCheckedTwice(votes));
    if (a.value.length !== groupCount || b.value !== groupCount)
      throw new Error("fold built the wrong number of aggregates");
    if (i < WARMUP_RUNS) continue;
    node.push(a.ms);
    before.push(b.ms);
  }
  const nodeS = summarize(node);
  const beforeS = summarize(before);
  printTable(`aggregation: ${votes.length} votes in ${groupCount} aggregates, ${runs} runs`, [
    {
      fold: "decoded twice with the subgroup check (before)",
      "median ms": beforeS.median,
      "p90 ms": beforeS.p90,
      "us per vote": (1000 * beforeS.median) / votes.length,
    },
    {
      fold: "aggregateAttestations (decoded once, no repeated check)",
      "median ms": nodeS.median,
      "p90 ms": nodeS.p90,
      "us per vote": (1000 * nodeS.median) / votes.length,
    },
  ]);
  console.log(`speed-up: ${(beforeS.median / nodeS.median).toFixed(1)}x`);
  const path = writeResult(
    "aggregation",
    { votes: votes.length, groups: groupCount, runs },
    { before: beforeS, node: nodeS },
  );
  console.log(`\nwrote ${path}`);
}

main();
