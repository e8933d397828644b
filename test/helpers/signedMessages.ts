// A passive gossip peer that records every signed vote and block it sees on a devnet, to count
// double votes (one validator, one slot, two different attestation data) and double proposals
// (one proposer, one slot, two different blocks). Votes are taken from single attestations,
// aggregates and block bodies, so a second vote that was only aggregated is still seen.
import {
  AttestationData,
  type AttestationData as AttestationDataValue,
  Block,
  type SignedBlock,
  toHex,
} from "@metronome/chain";
import { NetworkHost } from "@metronome/network";

export interface Double {
  validatorIndex: number;
  slot: number;
  roots: string[];
}

/** (validator, slot) -> distinct roots, for one kind of signed message. */
class SignedSlots {
  private readonly roots = new Map<string, Set<string>>();

  add(validatorIndex: number, slot: number, root: string): void {
    const key = `${validatorIndex}:${slot}`;
    let set = this.roots.get(key);
    if (set === undefined) {
      set = new Set();
      this.roots.set(key, set);
    }
    set.add(root);
  }

  has(validatorIndex: number, slot: number): boolean {
    return this.roots.has(`${validatorIndex}:${slot}`);
  }

  get size(): number {
    return this.roots.size;
  }

  doubles(): Double[] {
    const out: Double[] = [];
    for (const [key, set] of this.roots) {
      if (set.size < 2) continue;
      const [validatorIndex, slot] = key.split(":").map(Number) as [number, number];
      out.push({ validatorIndex, slot, roots: [...set] });
    }
    return out;
  }
}

export class SignedMessageRecorder {
  readonly host: NetworkHost;
  readonly votes = new SignedSlots();
  readonly proposals = new SignedSlots();
  /** Highest slot of a single attestation seen from each validator (signing resumed after a restart). */
  private readonly lastVoteSlot = new Map<number, number>();
  private readonly lastBlockSlot = new Map<number, number>();
  private readonly subnetCount: number;
  messages = 0;

  constructor(forkDigest: string, peers: string[], subnetCount: number) {
    this.subnetCount = subnetCount;
    this.host = new NetworkHost({
      forkDigest,
      listenAddresses: ["/ip4/127.0.0.1/tcp/0"],
      bootnodes: peers,
      // A restarted node is redialed within half a second.
      redial: { initialDelayMs: 100, maxDelayMs: 500 },
      attestationSubnetCount: subnetCount,
    });
    // "ignore": record, do not forward; the recorder is a bystander.
    this.host.setGossipHandler("attestation", (att) => {
      this.messages++;
      this.vote(att.validatorIndex, att.data);
      this.lastVoteSlot.set(
        att.validatorIndex,
        Math.max(att.data.slot, this.lastVoteSlot.get(att.validatorIndex) ?? -1),
      );
      return "ignore";
    });
    this.host.setGossipHandler("aggregation", (agg) => {
      this.messages++;
      for (const i of agg.aggregationBits.getTrueBitIndexes()) this.vote(i, agg.data);
      return "ignore";
    });
    this.host.setGossipHandler("block", (signed) => {
      this.messages++;
      this.block(signed);
      return "ignore";
    });
  }

  async start(): Promise<void> {
    await this.host.start();
    this.host.subscribe(Array.from({ length: this.subnetCount }, (_, i) => i));
  }

  async stop(): Promise<void> {
    await this.host.stop();
  }

  /** The highest slot a single vote of `validatorIndex` was seen for (-1: none). */
  lastVote(validatorIndex: number): number {
    return this.lastVoteSlot.get(validatorIndex) ?? -1;
  }

  /** The highest slot a block proposed by `validatorIndex` was seen for (-1: none). */
  lastBlock(validatorIndex: number): number {
    return this.lastBlockSlot.get(validatorIndex) ?? -1;
  }

  doubleVotes(): Double[] {
    return this.votes.doubles();
  }

  doubleProposals(): Double[] {
    return this.proposals.doubles();
  }

  private vote(validatorIndex: number, data: AttestationDataValue): void {
    this.votes.add(validatorIndex, data.slot, toHex(AttestationData.hashTreeRoot(data)));
  }

  private block(signed: SignedBlock): void {
    const { block } = signed;
    this.proposals.add(block.proposerIndex, block.slot, toHex(Block.hashTreeRoot(block)));
    this.lastBlockSlot.set(
      block.proposerIndex,
      Math.max(block.slot, this.lastBlockSlot.get(block.proposerIndex) ?? -1),
    );
    for (const att of block.body.attestations) {
      for (const i of att.aggregationBits.getTrueBitIndexes()) this.vote(i, att.data);
    }
  }
}
