// Small SSZ values and polling helpers shared by the network tests.
import {
  AggregationBits,
  Block,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  type SignedBlock,
  type Status,
} from "@metronome/chain";

const root = (fill: number) => new Uint8Array(32).fill(fill);
const signature = (fill: number) => new Uint8Array(96).fill(fill);

const checkpoint = (slot: number) => ({ root: root(slot + 1), slot });

export function sampleBlock(slot: number, parentFill = 0): SignedBlock {
  return {
    block: {
      slot,
      proposerIndex: slot % 4,
      parentRoot: root(parentFill),
      stateRoot: root(slot + 100),
      body: { attestations: [] },
    },
    signature: signature(slot),
  };
}

export function blockRoot(block: SignedBlock): Uint8Array {
  return Block.hashTreeRoot(block.block);
}

export function sampleAttestation(validatorIndex: number): SignedAttestation {
  return {
    validatorIndex,
    data: { slot: 3, head: checkpoint(3), target: checkpoint(2), source: checkpoint(0) },
    signature: signature(validatorIndex),
  };
}

export function sampleAggregate(): SignedAggregatedAttestation {
  return {
    // SSZ bitlist 0b0001_0101: four bits with validators 0 and 2 set, then the length delimiter.
    aggregationBits: AggregationBits.deserialize(Uint8Array.of(0x15)),
    data: { slot: 3, head: checkpoint(3), target: checkpoint(2), source: checkpoint(0) },
    signature: signature(9),
  };
}

export function sampleStatus(headSlot: number): Status {
  return { finalized: checkpoint(0), head: checkpoint(headSlot) };
}

/** Polls `condition` until true or the deadline passes (then throws with `what`). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const TEST_FORK_DIGEST = "12345678";
