import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  SignedAttestation,
  type SignedAttestation as SignedAttestationValue,
  SignedBlock,
  type SignedBlock as SignedBlockValue,
} from "@metronome/chain";
import { SlotClock } from "@metronome/clock";
import type { ChainService } from "../../src/chain/chainService.ts";
import { GossipIngress } from "../../src/node/gossipIngress.ts";
import type { SyncService } from "../../src/sync/syncService.ts";
import { SyncTracker } from "../../src/sync/syncState.ts";
import { Logger } from "../../src/util/logger.ts";

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

  it("queues attestations once SYNCING and drops ones beyond the next slot before any work", () => {
    const { ingress } = setup({ genesisStart: true });
    assert.ok(ingress.enqueueAttestation(attestationAt(10), "p") instanceof Promise);
    assert.ok(ingress.enqueueAttestation(attestationAt(11), "p") instanceof Promise, "next slot is buffered later");
    assert.equal(ingress.enqueueAttestation(attestationAt(12), "p"), "ignore");
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
