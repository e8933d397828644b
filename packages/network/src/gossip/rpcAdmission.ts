// Refuses a peer's gossip messages as their RPC arrives, before gossipsub hashes, decompresses,
// decodes or remembers them, when the node could not take them anyway: the network worker's
// boundary toward the driver thread is full for their kind, or the node holds their sender's lane
// (GossipOutbox.admit). Under a flood of valid signatures most messages met that fate only after
// all that work; a refused message also takes no seen-cache entry for the 24 s seen TTL, so a copy
// from another peer can still be taken once there is room. What is refused is what the boundary
// would have IGNOREd: no score either way.
// A peer we sent an IWANT to in the last follow-up window is never refused here: its messages take
// gossipsub's usual path, so a message it owes us is seen to arrive (no broken-promise penalty).
// It reaches into @libp2p/gossipsub's internals (version pinned): if their shape changes it
// installs nothing and returns null, and a test fails loudly.
import { type GossipKind, parseGossipTopic } from "./topics.ts";

/** Whether a message of `kind` from `peer` may be decoded and offered to the node now. */
export type GossipAdmit = (kind: GossipKind, peer: string) => boolean;

type RpcMessage = { topic: string };
type Rpc = { messages: RpcMessage[] };
type PeerIdLike = { toString(): string };

interface RpcInternals {
  handleReceivedRpc(from: PeerIdLike, rpc: Rpc): Promise<void>;
  gossipTracer: { addPromise(from: string, msgIds: Uint8Array[]): void };
  opts: { gossipsubIWantFollowupMs: number };
}

/**
 * Peers remembered as owing us an IWANT answer. Entries are written only when we send an IWANT,
 * which gossipsub bounds per peer and heartbeat; past this many the expired ones are swept, and if
 * none has expired the oldest goes (that peer's messages may then be refused a little early). An
 * entry is a peer id (~52 characters) and a time: ~100 KiB at the cap.
 */
export const MAX_IWANT_PEERS = 1_024;
/** Topic names remembered with their kind (~60 characters each): the node's own are a few dozen. */
const MAX_TOPIC_KINDS = 256;

/** The messages of an RPC that `admit` lets through, in order (`admit` counts what it refuses). */
export function admittedMessages<M extends RpcMessage>(
  messages: readonly M[],
  peer: string,
  kindOf: (topic: string) => GossipKind | null,
  admit: GossipAdmit,
): M[] {
  let kept: M[] | null = null;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as M;
    const kind = kindOf(message.topic);
    // A topic that is not the node's goes on: gossipsub drops it itself (allowedTopics).
    if (kind === null || admit(kind, peer)) {
      kept?.push(message);
      continue;
    }
    kept ??= messages.slice(0, i);
  }
  return kept ?? (messages as M[]);
}

export class RpcAdmission {
  /** Null: everything is admitted (the network runs on the driver thread, no boundary). */
  admit: GossipAdmit | null = null;
  private readonly followupMs: number;
  private readonly now: () => number;
  /** Peer -> until when it may still answer an IWANT of ours. */
  private readonly iwantUntil = new Map<string, number>();
  private readonly topicKinds = new Map<string, GossipKind | null>();

  constructor(followupMs: number, now: () => number = Date.now) {
    this.followupMs = followupMs;
    this.now = now;
  }

  /** The messages of a peer's RPC to hand to gossipsub. */
  filter<M extends RpcMessage>(peer: string, messages: readonly M[]): readonly M[] {
    const admit = this.admit;
    if (admit === null || messages.length === 0 || this.owesIWant(peer)) return messages;
    return admittedMessages(messages, peer, (topic) => this.kindOf(topic), admit);
  }

  /** We sent `peer` an IWANT: admit all it sends for the follow-up window. */
  iwantSent(peer: string): void {
    const now = this.now();
    if (this.iwantUntil.size >= MAX_IWANT_PEERS && !this.iwantUntil.has(peer)) this.makeRoom(now);
    this.iwantUntil.delete(peer); // re-inserted last: insertion order stays expiry order
    this.iwantUntil.set(peer, now + this.followupMs);
  }

  /** Peers remembered as owing an IWANT answer (expired ones included until swept). */
  get iwantPeers(): number {
    return this.iwantUntil.size;
  }

  private owesIWant(peer: string): boolean {
    if (this.iwantUntil.size === 0) return false;
    const until = this.iwantUntil.get(peer);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.iwantUntil.delete(peer);
    return false;
  }

  private makeRoom(now: number): void {
    for (const [peer, until] of this.iwantUntil) {
      if (until > now) break;
      this.iwantUntil.delete(peer);
    }
    if (this.iwantUntil.size >= MAX_IWANT_PEERS) {
      const oldest = this.iwantUntil.keys().next().value;
      if (oldest !== undefined) this.iwantUntil.delete(oldest);
    }
  }

  private kindOf(topic: string): GossipKind | null {
    const known = this.topicKinds.get(topic);
    if (known !== undefined) return known;
    const kind = parseGossipTopic(topic)?.kind ?? null;
    if (this.topicKinds.size < MAX_TOPIC_KINDS) this.topicKinds.set(topic, kind);
    return kind;
  }
}

function rpcInternalsOf(pubsub: unknown): RpcInternals | null {
  const p = pubsub as Partial<RpcInternals>;
  if (
    typeof p.handleReceivedRpc !== "function" ||
    typeof p.gossipTracer?.addPromise !== "function" ||
    typeof p.opts?.gossipsubIWantFollowupMs !== "number"
  ) {
    return null;
  }
  return p as RpcInternals;
}

/**
 * Puts an RpcAdmission in front of gossipsub's RPC handling; null when the internals are not
 * there. Its `admit` starts null (admit everything) until the caller sets it.
 */
export function installRpcAdmission(pubsub: unknown): RpcAdmission | null {
  const internals = rpcInternalsOf(pubsub);
  if (internals === null) return null;
  const admission = new RpcAdmission(internals.opts.gossipsubIWantFollowupMs);
  const handle = internals.handleReceivedRpc.bind(internals);
  internals.handleReceivedRpc = (from, rpc) => {
    if (Array.isArray(rpc.messages) && rpc.messages.length > 0)
      rpc.messages = admission.filter(from.toString(), rpc.messages) as RpcMessage[];
    return handle(from, rpc);
  };
  const tracer = internals.gossipTracer;
  const addPromise = tracer.addPromise.bind(tracer);
  tracer.addPromise = (from, msgIds) => {
    admission.iwantSent(from);
    addPromise(from, msgIds);
  };
  return admission;
}
