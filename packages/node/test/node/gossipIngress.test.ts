import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BlsVerifier } from "@metronome/bls";
import {
  SignedAttestation,
  type SignedAttestation as SignedAttestationValue,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
} from "@metronome/chain";
import { IntervalTracker, SlotClock } from "@metronome/clock";
import { Logger } from "@metronome/common";
import type { INetwork } from "@metronome/network";
import type { ChainService } from "../../src/chain/chainService.ts";
import { Driver } from "../../src/driver/driver.ts";
import { DEFAULT_QUEUE_LIMITS, GossipIngress } from "../../src/node/gossipIngress.ts";
import { LANE_HOLD_MS } from "../../src/runtime/laneHolds.ts";
import type { SyncService } from "../../src/sync/syncService.ts";
import { SyncTracker } from "../../src/sync/syncState.ts";

const GENESIS_MS = 1_000_000_000;

function setup(opts: { genesisStart: boolean; attestations?: number; nowMs?: number }) {
  const tracker = new SyncTracker(() => {}, opts.genesisStart);
  const now = opts.nowMs ?? GENESIS_MS + 10 * 4000;
  const clock = new SlotClock({ genesisTimeSec: GENESIS_MS / 1000, now: () => now });
  // The ingress only reads the sync gate; the chain is never reached by these checks.
  const ingress = new GossipIngress({
    chain: {} as ChainService,
    sync: { tracker } as unknown as SyncService,
    clock,
    logger: new Logger({ level: "error", format: "text", write: () => {} }),
    limits: { attestations: opts.attestations ?? 4096 },
  });
  return { ingress, tracker };
}

function attestationAt(slot: number, validatorIndex = 0): SignedAttestationValue {
  const att = SignedAttestation.defaultValue();
  att.data.slot = slot;
  att.validatorIndex = validatorIndex;
  return att;
}

describe("gossip ingress", () => {
  it("drops attestations while IDLE (counted), never blocks", () => {
    const { ingress, tracker } = setup({ genesisStart: false });
    assert.equal(tracker.state, "IDLE");
    assert.equal(ingress.enqueueAttestation(attestationAt(10), "p"), "ignore");
    assert.equal(
      ingress.enqueueAggregate(
        { ...attestationAt(10), aggregationBits: SignedBlock.defaultValue().block.body.attestations as never } as never,
        "p",
      ),
      "ignore",
    );
    assert.equal(ingress.drops.single.idle, 1);
    assert.equal(ingress.drops.aggregated.idle, 1);
    assert.equal(ingress.attestations.size, 0);
    // Blocks are never gated by sync state.
    const block = SignedBlock.defaultValue();
    block.block.slot = 10;
    assert.ok(ingress.enqueueBlock(block, "gossip", "p") instanceof Promise);
    assert.equal(ingress.blocks.size, 1);
  });

  it("queues attestations once SYNCING and drops ones beyond the next slot before any work, charging the sender", () => {
    const { ingress } = setup({ genesisStart: true });
    assert.ok(ingress.enqueueAttestation(attestationAt(10), "p") instanceof Promise);
    assert.ok(ingress.enqueueAttestation(attestationAt(11), "p") instanceof Promise, "next slot is buffered later");
    // Not forwarded, and the peer pays: an honest peer's clock would have dropped it too.
    assert.equal(ingress.enqueueAttestation(attestationAt(12), "p"), "ignore_penalise");
    assert.equal(ingress.drops.single.future_slot, 1);
    assert.equal(ingress.attestations.size, 2);
  });

  it("ignores gossip blocks from a slot that has not started", () => {
    const { ingress } = setup({ genesisStart: true });
    const block = SignedBlock.defaultValue();
    block.block.slot = 11;
    assert.equal(ingress.enqueueBlock(block, "gossip", "p"), "ignore");
    assert.equal(ingress.futureBlocks, 1);
  });

  it("a full attestation queue serves the newest and evicts (and answers) the oldest", async () => {
    const { ingress } = setup({ genesisStart: true, attestations: 2 });
    const first = ingress.enqueueAttestation(attestationAt(10, 1), "p");
    ingress.enqueueAttestation(attestationAt(10, 2), "p");
    ingress.enqueueAttestation(attestationAt(10, 3), "p");
    assert.equal(await first, "ignore", "the evicted item's gossip verdict is settled, not leaked");
    assert.equal(ingress.drops.single.queue_full, 1);
    assert.deepEqual(
      ingress.attestations.popBatch(10).map((p) => p.value.validatorIndex),
      [3, 2],
      "newest first",
    );
  });

  it("a flooding peer loses its own votes, not the honest peers'", () => {
    const { ingress } = setup({ genesisStart: true, attestations: 64 });
    ingress.enqueueAttestation(attestationAt(10, 1), "honest-a");
    for (let i = 0; i < 1000; i++) ingress.enqueueAttestation(attestationAt(10, 100), "flooder");
    ingress.enqueueAttestation(attestationAt(10, 2), "honest-b");
    assert.equal(ingress.attestations.size, 64);
    assert.equal(ingress.drops.single.queue_full, 1000 + 2 - 64);
    // Round-robin: the first small batch already holds both honest votes.
    const served = ingress.attestations.popBatch(3).map((p) => p.value.validatorIndex);
    assert.deepEqual(
      [...served].sort((a, b) => a - b),
      [1, 2, 100],
    );
  });

  it("an overflowing lane asks the network to hold that peer's votes (once per hold), never an honest peer's", () => {
    const { ingress } = setup({ genesisStart: true, attestations: 64 });
    const holds: string[] = [];
    const network = {
      setGossipHandler: () => {},
      holdGossip: (kind: string, peer: string, ms: number) => holds.push(`${kind}/${peer}/${ms}`),
    } as unknown as INetwork;
    ingress.register(network);
    ingress.enqueueAttestation(attestationAt(10, 1), "honest-a");
    for (let i = 0; i < 1000; i++) ingress.enqueueAttestation(attestationAt(10, 100), "flooder");
    ingress.enqueueAttestation(attestationAt(10, 2), "honest-b");
    assert.equal(ingress.drops.single.queue_full, 1000 + 2 - 64, "the queue's own policy is unchanged");
    assert.deepEqual(holds, [`attestation/flooder/${LANE_HOLD_MS}`], "938 drops, one hold asked for");
    assert.equal(ingress.dropCounters().lane_holds, 1);
  });
});

describe("gossip ingress: database back-pressure", () => {
  it("holds blocks in their queue while the chain's write queue is past its mark, then imports them", async () => {
    const tracker = new SyncTracker(() => {}, true);
    const clock = new SlotClock({ genesisTimeSec: GENESIS_MS / 1000, now: () => GENESIS_MS + 10 * 4000 });
    let accepts = false;
    const imported: number[] = [];
    const chain = {
      acceptsBlocks: () => accepts,
      importBlock: (b: SignedBlockValue) => {
        imported.push(b.block.slot);
        return { status: "imported", root: new Uint8Array(32) };
      },
    } as unknown as ChainService;
    const ingress = new GossipIngress({
      chain,
      sync: { tracker } as unknown as SyncService,
      clock,
      logger: new Logger({ level: "error", format: "text", write: () => {} }),
    });
    const block = SignedBlock.defaultValue();
    block.block.slot = 3;
    const verdict = ingress.enqueueBlock(block, "gossip", "p");
    assert.equal(ingress.hasWork(), false, "no block work while the database is behind");
    assert.equal(ingress.runBatch(16), 0);
    assert.deepEqual(imported, []);
    assert.equal(ingress.blocks.size, 1, "the block waits, it is not dropped");
    accepts = true;
    assert.equal(ingress.hasWork(), true);
    assert.equal(ingress.runBatch(16), 1);
    assert.deepEqual(imported, [3]);
    assert.equal(await verdict, "accept");
  });
});

/** A SYNCING ingress at slot 10 over the given chain and verifier. */
function ingressOver(chain: ChainService, verifier: BlsVerifier) {
  const tracker = new SyncTracker(() => {}, true);
  const now = GENESIS_MS + 10 * 4000;
  const clock = new SlotClock({ genesisTimeSec: GENESIS_MS / 1000, now: () => now });
  const ingress = new GossipIngress({
    chain,
    sync: { tracker } as unknown as SyncService,
    clock,
    logger: new Logger({ level: "error", format: "text", write: () => {} }),
    verifier,
  });
  return { ingress, clock, tracker };
}

/**
 * An ingress over a counting chain (every attestation passes its checks without a signature) and a
 * verifier with a set amount of room: what one pass takes is all these tests look at.
 */
function boundedSetup(opts: { verifierRoom?: number } = {}) {
  const handled = { blocks: 0, single: 0, aggregated: 0 };
  const chain = {
    acceptsBlocks: () => true,
    importBlock: () => {
      handled.blocks++;
      return { status: "known", root: new Uint8Array(32) };
    },
    prepareAttestation: () => {
      handled.single++;
      return { kind: "done", outcome: { status: "accepted" } };
    },
    aggregateAlreadyKnown: () => false,
    prepareAggregate: () => {
      handled.aggregated++;
      return { kind: "done", outcome: { status: "accepted" } };
    },
  } as unknown as ChainService;
  const verifier = {
    capacityLeft: () => opts.verifierRoom ?? 1_000_000,
    validatorCount: () => 0,
    verifySets: async (sets: readonly unknown[]) => sets.map(() => true),
  } as unknown as BlsVerifier;
  const { ingress, clock, tracker } = ingressOver(chain, verifier);
  const enqueue = (kind: "single" | "aggregated" | "block", n: number) => {
    for (let i = 0; i < n; i++) {
      if (kind === "block") {
        const block = SignedBlock.defaultValue();
        block.block.slot = 10;
        void ingress.enqueueBlock(block, "gossip", "p");
      } else if (kind === "single") {
        void ingress.enqueueAttestation(attestationAt(10, i), `peer-${i % 8}`);
      } else {
        void ingress.enqueueAggregate(attestationAt(10, i) as never, `peer-${i % 8}`);
      }
    }
  };
  return { ingress, handled, enqueue, clock, tracker };
}

describe("gossip ingress: per-pass bounds", () => {
  it("a pass imports at most blocksPerPass blocks (default 4) and touches no attestation meanwhile", () => {
    assert.equal(DEFAULT_QUEUE_LIMITS.blocksPerPass, 4);
    const { ingress, handled, enqueue } = boundedSetup();
    enqueue("block", 10);
    enqueue("single", 5);
    assert.equal(ingress.runBatch(64), 4);
    assert.deepEqual(handled, { blocks: 4, single: 0, aggregated: 0 });
    assert.equal(ingress.runBatch(2), 2, "and never more than the pass's item bound");
    assert.equal(ingress.runBatch(64), 4);
    assert.equal(ingress.blocks.size, 0);
    assert.deepEqual(handled, { blocks: 10, single: 0, aggregated: 0 });
    assert.equal(ingress.runBatch(64), 5, "attestations once no block waits");
  });

  it("a pass handles at most its batch of attestations, split between the kinds, within the verifier's room", () => {
    const { ingress, handled, enqueue } = boundedSetup();
    enqueue("single", 100);
    enqueue("aggregated", 100);
    assert.equal(ingress.runBatch(64), 64);
    assert.deepEqual(handled, { blocks: 0, single: 32, aggregated: 32 }, "each kind at most half while both wait");
    assert.equal(ingress.runBatch(7), 7);
    assert.equal(handled.single + handled.aggregated, 71);
    assert.ok(handled.single - 32 === 4 && handled.aggregated - 32 === 3, "the kinds take turns at going first");

    const alone = boundedSetup();
    alone.enqueue("single", 100);
    assert.equal(alone.ingress.runBatch(64), 64, "one kind alone takes the whole batch, no more");
    assert.equal(alone.ingress.attestations.size, 36);

    const tight = boundedSetup({ verifierRoom: 10 });
    tight.enqueue("single", 100);
    assert.equal(tight.ingress.runBatch(64), 10, "no more than the verifier can take");
    assert.equal(tight.handled.single, 10);
  });

  it("verified votes are applied by later passes, a bounded batch each, not in the verifier's callback", async () => {
    let applied = 0;
    const chain = {
      prepareAttestation: () => ({
        kind: "verify",
        set: {},
        complete: (valid: boolean) => {
          applied++;
          return valid ? { status: "accepted" } : { status: "rejected", code: "INVALID_SIGNATURE" };
        },
      }),
    } as unknown as ChainService;
    let answer: (results: boolean[]) => void = () => {};
    const room = 100;
    let queued = 0;
    // validatorCount > 0: sets name their signers by index, so a bare set object will do.
    const verifier = {
      capacityLeft: () => room - queued,
      validatorCount: () => 1,
      verifySets: (sets: readonly unknown[]) => {
        queued += sets.length;
        return new Promise<boolean[]>((resolve) => {
          answer = (results) => {
            queued -= sets.length;
            resolve(results);
          };
        });
      },
    } as unknown as BlsVerifier;
    const { ingress } = ingressOver(chain, verifier);
    const verdicts: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) verdicts.push(Promise.resolve(ingress.enqueueAttestation(attestationAt(10, i), "p")));
    assert.equal(ingress.runBatch(64), 64, "64 sets to the verifier");
    answer(Array.from({ length: 64 }, (_, i) => i !== 3));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(applied, 0, "nothing applied in the verifier's callback");
    assert.equal(ingress.verifiedWaiting, 64);
    assert.equal(ingress.hasWork(), true);
    assert.equal(ingress.runBatch(16), 16, "a pass applies its batch of verified votes first");
    assert.equal(applied, 16);
    // While verified votes wait, the verifier's room shrinks by as many: 100 - 48 waiting.
    assert.equal(ingress.runBatch(64), 48, "the rest of them, before any new set");
    assert.equal(applied, 64);
    assert.equal(ingress.runBatch(64), 64, "new sets once nothing waits");
    answer(Array.from({ length: 64 }, () => true));
    await new Promise((resolve) => setImmediate(resolve));
    while (ingress.hasWork()) ingress.runBatch(64);
    answer(Array.from({ length: 22 }, () => true));
    await new Promise((resolve) => setImmediate(resolve));
    while (ingress.hasWork()) ingress.runBatch(64);
    const settled = await Promise.all(verdicts);
    assert.equal(applied, 150);
    assert.equal(settled.filter((v) => v === "reject").length, 1, "the one bad signature");
    assert.equal(settled.filter((v) => v === "accept").length, 149);
  });

  it("driven by the Driver, every pass stays within --max-batch (64) and blocksPerPass", () => {
    const { ingress, handled, enqueue, clock } = boundedSetup();
    const driver = new Driver({
      clock,
      tracker: new IntervalTracker({ clock, firstInterval: clock.currentInterval() + 1 }),
      work: ingress,
      maxBatch: 64,
      hooks: {
        onInterval: () => {},
        onError: (err) => {
          throw err;
        },
      },
    });
    enqueue("single", 1000);
    driver.pass();
    assert.equal(handled.single, 64);
    enqueue("block", 9);
    driver.pass();
    assert.equal(handled.blocks, 4);
    assert.equal(handled.single, 64, "blocks first, alone");
    while (ingress.hasWork()) driver.pass();
    assert.equal(driver.stats.maxBatchSize, 64);
    assert.deepEqual(handled, { blocks: 9, single: 1000, aggregated: 0 });
  });
});
