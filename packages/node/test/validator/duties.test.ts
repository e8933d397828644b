// The validator duties' counters and timing hooks behind the block-production, attester and
// aggregator metrics: each duty reports once per run, aggregates are built (and timed) per data.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  Block,
  computeForkDigest,
  ForkChoiceStore,
  interopSecretKey,
  produceBlock,
  signAttestation,
} from "@metronome/chain";
import { Logger } from "@metronome/common";
import { DoppelgangerWatch, SlashingProtection } from "@metronome/validator";
import { ChainEvents } from "../../src/chain/chainEvents.ts";
import { ChainService } from "../../src/chain/chainService.ts";
import { ChainDb } from "../../src/db/chainDb.ts";
import { PendingAttestationBuffer } from "../../src/runtime/pendingBuffer.ts";
import { OrphanBlocks } from "../../src/sync/orphanBlocks.ts";
import { AttestationCollector } from "../../src/validator/attestationCollector.ts";
import { ValidatorDuties } from "../../src/validator/duties.ts";
import { SigningGuard } from "../../src/validator/signingGuard.ts";
import { interopGenesis } from "../interopGenesis.ts";

const N = 4;
const { validators, genesis, genesisBlock, domains, pubkeys } = interopGenesis(N);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type Observed = Record<string, number[]>;

interface SetupOptions {
  indices: number[];
  isAggregator: boolean;
  /** Reuse this data dir (a restart); default a fresh one. */
  dir?: string;
  /** Doppelganger wait: full slots after `startSlot` (default 0 = off). */
  waitSlots?: number;
  startSlot?: number;
}

async function setup(opts: SetupOptions) {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "metronome-duties-")));
  if (opts.dir === undefined) dirs.push(dir);
  const db = await ChainDb.open(dir, computeForkDigest(genesis));
  const protection = await SlashingProtection.open(dir, `0x${Buffer.from(computeForkDigest(genesis)).toString("hex")}`);
  const keys = new Map(opts.indices.map((i) => [i, validators[i]?.pubkey ?? new Uint8Array(48)]));
  let clockSlot = opts.startSlot ?? 0;
  const doppelganger = new DoppelgangerWatch({
    keys,
    startSlot: opts.startSlot ?? 0,
    waitSlots: opts.waitSlots ?? 0,
    recordedRoot: (kind, pubkey, slot) => protection.recordedRoot(kind, pubkey, slot),
    onDetected: () => {},
  });
  const store = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
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
  const guard = new SigningGuard({
    protection,
    pubkeys: keys,
    doppelganger,
    currentSlot: () => clockSlot,
    logger,
  });
  const published = { blocks: 0, attestations: 0, importedBeforePublish: [] as boolean[] };
  const collector = new AttestationCollector();
  const seen: Observed = {};
  const note = (name: string) => (seconds: number) => {
    assert.ok(seconds >= 0, `${name}: ${seconds}`);
    seen[name] = [...(seen[name] ?? []), seconds];
  };
  const duties = new ValidatorDuties({
    indices: opts.indices,
    isAggregator: opts.isAggregator,
    guard,
    chain,
    collector,
    logger,
    subnetCount: 1,
    publisher: {
      publishBlock: async (signed) => {
        published.blocks++;
        published.importedBeforePublish.push(chain.hasBlock(Block.hashTreeRoot(signed.block)));
        return 0;
      },
      publishAttestation: async () => {
        published.attestations++;
        return 0;
      },
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
  const close = async () => {
    await duties.idle();
    await chain.flush();
    await protection.close();
    await db.close();
  };
  const setSlot = (slot: number) => {
    clockSlot = slot;
  };
  return { dir, chain, store, db, protection, collector, duties, guard, doppelganger, published, seen, close, setSlot };
}

describe("ValidatorDuties metrics", () => {
  it("times the proposal and each signature of the attester duty", async () => {
    const { chain, duties, seen, published, close } = await setup({ indices: [0, 1], isAggregator: false });
    await duties.propose(1);
    assert.equal(duties.counters.blocksProposed, 1, "validator 1 proposes slot 1");
    // Peers get the block before our own import spends its time (they vote at interval 1).
    assert.deepEqual(published.importedBeforePublish, [false], "published before the own import");
    assert.equal(chain.head.slot, 1, "and imported right after");
    assert.equal(seen.blockBuilt?.length, 1);
    assert.deepEqual(seen.blockAttestations, [0]);
    assert.equal(seen.blockAttestationsSelected?.length, 1);
    chain.onInterval(1 * 5 + 1, false);
    await duties.attest(1);
    assert.equal(duties.counters.attestationsProduced, 2);
    assert.equal(seen.attestationSigned?.length, 2, "one signing time per validator");
    assert.equal(seen.attestationsProduced?.length, 1, "one production time per duty");
    // Own votes are trusted: not counted as verified signatures.
    assert.deepEqual(chain.counters.signatures.single, { valid: 0, invalid: 0 });
    await close();
  });

  it("a non-aggregator counts every cycle as skipped (not_aggregator) and builds nothing", async () => {
    const { duties, seen, close } = await setup({ indices: [0], isAggregator: false });
    duties.aggregate(1);
    duties.skipAggregation();
    assert.deepEqual(duties.counters.aggregationSkipped, { not_aggregator: 2, other: 0 });
    assert.equal(duties.counters.aggregatesBuilt, 0);
    assert.equal(seen.aggregationCycle, undefined);
    await close();
  });

  it("an aggregator builds and times one aggregate per data, and counts the votes folded in", async () => {
    const { chain, store, collector, duties, seen, close } = await setup({ indices: [], isAggregator: true });
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
    await close();
  });
});

describe("ValidatorDuties signing: slashing protection and the doppelganger wait", () => {
  it("a restarted node whose view changed does not sign a second, different vote for the slot", async () => {
    const first = await setup({ indices: [0, 1], isAggregator: false });
    first.chain.onInterval(1 * 5 + 1, false);
    await first.duties.attest(1);
    assert.equal(first.published.attestations, 2);
    const signedData = first.store.produceAttestationData(1);
    await first.close();

    // Restart on the same data dir; the new store saw a block at slot 1 the first one did not, so
    // its vote for slot 1 differs (another head).
    const second = await setup({ indices: [0, 1], isAggregator: false, dir: first.dir });
    second.setSlot(1);
    await setupBlockAtSlot1(second);
    second.chain.onInterval(1 * 5 + 1, false);
    assert.notDeepEqual(second.store.produceAttestationData(1).head, signedData.head, "the restart changed the view");
    await second.duties.attest(1);
    assert.equal(second.published.attestations, 0, "no second vote left the process");
    assert.equal(second.duties.counters.attestationsProduced, 0);
    assert.equal(second.duties.counters.attestationsRefused, 2);
    assert.equal(second.guard.counters.refusals.attestation.double_sign, 2);
    // The next slot is signed as usual.
    second.setSlot(2);
    second.chain.onInterval(2 * 5 + 1, false);
    await second.duties.attest(2);
    assert.equal(second.published.attestations, 2);
    await second.close();
  });

  it("the same vote again after a restart (same signing root) is allowed: a re-broadcast", async () => {
    const first = await setup({ indices: [0], isAggregator: false });
    first.chain.onInterval(1 * 5 + 1, false);
    await first.duties.attest(1);
    await first.close();
    const second = await setup({ indices: [0], isAggregator: false, dir: first.dir });
    second.setSlot(1);
    second.chain.onInterval(1 * 5 + 1, false);
    await second.duties.attest(1);
    assert.equal(second.published.attestations, 1);
    assert.equal(second.guard.counters.refusals.attestation.double_sign, 0);
    await second.close();
  });

  it("a proposal whose slot is on record with another root is neither signed, imported nor published", async () => {
    const node = await setup({ indices: [1], isAggregator: false });
    const pubkey = validators[1]?.pubkey as Uint8Array;
    await node.protection.checkAndRecord("block", { pubkey, slot: 1, signingRoot: new Uint8Array(32).fill(9) });
    const headBefore = node.store.head.root;
    await node.duties.propose(1);
    assert.equal(node.published.blocks, 0);
    assert.equal(node.duties.counters.blocksProposed, 0);
    assert.equal(node.duties.counters.blockProposalsRefused, 1);
    assert.equal(node.guard.counters.refusals.block.double_sign, 1);
    assert.deepEqual(node.store.head.root, headBefore, "the refused block was not imported");
    await node.close();
  });

  it("during the doppelganger wait nothing is signed; after it, duties sign", async () => {
    const node = await setup({ indices: [0, 1], isAggregator: false, startSlot: 1, waitSlots: 2 });
    node.setSlot(1);
    await node.duties.propose(1);
    node.chain.onInterval(1 * 5 + 1, false);
    await node.duties.attest(1);
    node.setSlot(3);
    node.chain.onInterval(3 * 5 + 1, false);
    await node.duties.attest(3);
    assert.deepEqual(node.published, { blocks: 0, attestations: 0, importedBeforePublish: [] });
    assert.deepEqual(node.guard.counters.doppelgangerSkips.attestation, { waiting: 4, detected: 0 });
    assert.deepEqual(node.guard.counters.doppelgangerSkips.block, { waiting: 1, detected: 0 });
    // Nothing skipped reached the record either.
    assert.equal(await node.protection.hasAnyRecord([validators[0]?.pubkey as Uint8Array]), false);
    node.setSlot(4);
    node.chain.onInterval(4 * 5 + 1, false);
    await node.duties.attest(4);
    assert.equal(node.published.attestations, 2);
    await node.close();
  });
});

/** Imports a block at slot 1 proposed by validator 1 (built on a separate store from the same genesis). */
async function setupBlockAtSlot1(node: Awaited<ReturnType<typeof setup>>): Promise<void> {
  const other = new ForkChoiceStore(genesis, genesisBlock, pubkeys, domains);
  const block = produceBlock(other, 1, 1, interopSecretKey(1));
  const outcome = node.chain.importBlock(block, "gossip");
  assert.equal(outcome.status, "imported");
}
