// The validator duties' counters and timing hooks behind the block-production, attester and
// aggregator metrics: each duty reports once per run, aggregates are built (and timed) per data.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  computeForkDigest,
  createGenesisBlock,
  createGenesisState,
  ForkChoiceStore,
  interopSecretKey,
  interopValidators,
  PubkeyCache,
  SigningDomains,
  signAttestation,
} from "@metronome/chain";
import { ChainEvents } from "../../src/chain/chainEvents.ts";
import { ChainService } from "../../src/chain/chainService.ts";
import { ChainDb } from "../../src/db/chainDb.ts";
import { PendingAttestationBuffer } from "../../src/runtime/pendingBuffer.ts";
import { OrphanBlocks } from "../../src/sync/orphanBlocks.ts";
import { Logger } from "../../src/util/logger.ts";
import { AttestationCollector } from "../../src/validator/attestationCollector.ts";
import { ValidatorDuties } from "../../src/validator/duties.ts";

const N = 4;
const validators = interopValidators(N);
const genesis = createGenesisState(0, validators);
const domains = new SigningDomains(computeForkDigest(genesis));
const pubkeys = new PubkeyCache(validators);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Observed = Record<string, number[]>;

async function setup(opts: { indices: number[]; isAggregator: boolean }) {
  const dir = await mkdtemp(join(tmpdir(), "metronome-duties-"));
  dirs.push(dir);
  const db = await ChainDb.open(dir, computeForkDigest(genesis));
  const store = new ForkChoiceStore(genesis, createGenesisBlock(genesis), pubkeys, domains);
  const logger = new Logger({ level: "error", format: "text", write: () => {} });
  const chain = new ChainService({
    store,
    db,
    events: new ChainEvents(),
    logger,
    fetcher: { want: () => "queued", onBlockImported: () => {} },
    pendingSingle: new PendingAttestationBuffer({ kind: "single" }),
    pendingAggregated: new PendingAttestationBuffer({ kind: "aggregated" }),
    orphans: new OrphanBlocks(),
  });
  const collector = new AttestationCollector();
  const seen: Observed = {};
  const note = (name: string) => (seconds: number) => {
    assert.ok(seconds >= 0, `${name}: ${seconds}`);
    seen[name] = [...(seen[name] ?? []), seconds];
  };
  const duties = new ValidatorDuties({
    ...opts,
    chain,
    collector,
    logger,
    subnetCount: 1,
    publisher: {
      publishBlock: async () => 0,
      publishAttestation: async () => 0,
      publishAggregate: async () => 0,
    },
    observer: {
      blockBuilt: (seconds, attestations) => {
        note("blockBuilt")(seconds);
        seen.blockAttestations = [...(seen.blockAttestations ?? []), attestations];
      },
      blockAttestationsSelected: note("blockAttestationsSelected"),
      attestationSigned: note("attestationSigned"),
      attestationsProduced: note("attestationsProduced"),
      aggregateBuilt: note("aggregateBuilt"),
      aggregationCycle: note("aggregationCycle"),
    },
  });
  return { chain, store, db, collector, duties, seen };
}

describe("ValidatorDuties metrics", () => {
  it("times the proposal and each signature of the attester duty", async () => {
    const { chain, db, duties, seen } = await setup({ indices: [0, 1], isAggregator: false });
    duties.propose(1);
    assert.equal(duties.counters.blocksProposed, 1, "validator 1 proposes slot 1");
    assert.equal(seen.blockBuilt?.length, 1);
    assert.deepEqual(seen.blockAttestations, [0]);
    assert.equal(seen.blockAttestationsSelected?.length, 1);
    chain.onInterval(1 * 5 + 1, false);
    duties.attest(1);
    assert.equal(duties.counters.attestationsProduced, 2);
    assert.equal(seen.attestationSigned?.length, 2, "one signing time per validator");
    assert.equal(seen.attestationsProduced?.length, 1, "one production time per duty");
    // Own votes are trusted: not counted as verified signatures.
    assert.deepEqual(chain.counters.signatures.single, { valid: 0, invalid: 0 });
    await chain.flush();
    await db.close();
  });

  it("a non-aggregator counts every cycle as skipped (not_aggregator) and builds nothing", async () => {
    const { db, duties, seen } = await setup({ indices: [0], isAggregator: false });
    duties.aggregate(1);
    duties.skipAggregation();
    assert.deepEqual(duties.counters.aggregationSkipped, { not_aggregator: 2, other: 0 });
    assert.equal(duties.counters.aggregatesBuilt, 0);
    assert.equal(seen.aggregationCycle, undefined);
    await db.close();
  });

  it("an aggregator builds and times one aggregate per data, and counts the votes folded in", async () => {
    const { chain, store, db, collector, duties, seen } = await setup({ indices: [], isAggregator: true });
    chain.onInterval(1 * 5 + 2, false);
    const previous = store.produceAttestationData(0);
    const current = store.produceAttestationData(1);
    for (const i of [0, 1, 2]) collector.add(signAttestation(interopSecretKey(i), i, current, domains), 1);
    collector.add(signAttestation(interopSecretKey(3), 3, previous, domains), 1);
    assert.equal(duties.heldVotes, 4, "the votes held for aggregation (lean_gossip_signatures)");
    duties.aggregate(1);
    assert.equal(duties.counters.aggregatesBuilt, 2);
    assert.equal(duties.counters.attestationsAggregated, 4);
    assert.equal(seen.aggregateBuilt?.length, 2, "one building time per aggregate");
    assert.equal(seen.aggregationCycle?.length, 1, "one committee aggregation time per cycle");
    // A late tick's skipped cycle on an aggregator is "other".
    duties.skipAggregation();
    assert.deepEqual(duties.counters.aggregationSkipped, { not_aggregator: 0, other: 1 });
    await chain.flush();
    await db.close();
  });
});
