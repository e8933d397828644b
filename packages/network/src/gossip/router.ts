// Our side of gossipsub: subscriptions, publishing, and per-topic validation. A message is
// decompressed and SSZ-decoded here; malformed ones are rejected and counted by reason, and only
// well-formed values reach the node's handler, whose verdict decides propagation.
import { type GossipSub, type Message, TopicValidatorResult } from "@libp2p/gossipsub";
import type { PeerId } from "@libp2p/interface";
import { ATTESTATION_COMMITTEE_COUNT, type SignedAttestation } from "@metronome/chain";
import { MAX_PAYLOAD_SIZE } from "../encoding/limits.ts";
import { errorMessage, NetworkError, NetworkErrorCode } from "../errors.ts";
import type { CounterName, GossipVerdictName, NetworkCounters } from "../stats.ts";
import { decodeGossipSsz, encodeGossipPayload, type GossipDecodeFailure, type GossipValueByKind } from "./codec.ts";
import type { DecompressedPayloads } from "./options.ts";
import { GOSSIP_MAX_SSZ_BYTES } from "./topicLimits.ts";
import { type GossipKind, type GossipTopic, gossipTopicName, parseGossipTopic } from "./topics.ts";

/**
 * The node's verdict on a gossip message. `ignore_penalise` is an IGNORE for gossipsub (not
 * forwarded, no P4) that also charges the forwarding peer the application-level `unwanted_gossip`
 * penalty: for messages an honest peer never sends but which are not provably invalid.
 */
export type GossipVerdict = "accept" | "reject" | "ignore" | "ignore_penalise";

export type GossipMessageInfo = {
  /** Peer that forwarded the message to us (not necessarily its author). */
  peer: string;
  topic: GossipTopic;
  /** Size of the decoded message's SSZ bytes. */
  bytes: number;
};

export type GossipHandler<K extends GossipKind> = (
  value: GossipValueByKind[K],
  info: GossipMessageInfo,
) => GossipVerdict | Promise<GossipVerdict>;

type HandlerMap = { [K in GossipKind]?: GossipHandler<K> };

export type GossipRouterOptions = {
  forkDigest: string;
  counters: NetworkCounters;
  payloads: DecompressedPayloads;
  /**
   * Validations allowed in flight at once, per topic kind; beyond it messages are ignored (not
   * forwarded) and counted. A safety net only: the node's own bounded queues, with their per-peer
   * drop policy, should decide what a flood loses, so the defaults sit above their capacities. Per
   * kind, so that a flood on an attestation topic can never push a block out.
   */
  maxPendingValidations?: Partial<Record<GossipKind, number>>;
  /** A vote belongs on subnet validator_index % this (PROTOCOL.md section 5); default 1. */
  attestationSubnetCount?: number;
  /** Charges a peer for a message the node judged `ignore_penalise` (the host's peer score). */
  penaliseUnwanted?: (peer: string, kind: GossipKind) => void;
};

export const DEFAULT_MAX_PENDING_VALIDATIONS: Record<GossipKind, number> = {
  block: 2048,
  attestation: 8192,
  aggregation: 4096,
};

const REJECT_COUNTER: Record<GossipDecodeFailure, CounterName> = {
  not_snappy: "gossip_rejected_not_snappy",
  too_large: "gossip_rejected_too_large",
  bad_ssz: "gossip_rejected_bad_ssz",
};

const VERDICT_NAME: Record<TopicValidatorResult, GossipVerdictName> = {
  [TopicValidatorResult.Accept]: "accept",
  [TopicValidatorResult.Reject]: "reject",
  [TopicValidatorResult.Ignore]: "ignore",
};

const RECEIVED_COUNTER: Record<GossipKind, CounterName> = {
  block: "gossip_received_block",
  attestation: "gossip_received_attestation",
  aggregation: "gossip_received_aggregation",
};

export class GossipRouter {
  private readonly pubsub: GossipSub;
  private readonly forkDigest: string;
  private readonly counters: NetworkCounters;
  private readonly payloads: DecompressedPayloads;
  private readonly maxPending: Record<GossipKind, number>;
  private readonly subnetCount: number;
  private readonly penaliseUnwanted: (peer: string, kind: GossipKind) => void;
  private readonly handlers: HandlerMap = {};
  private readonly pending: Record<GossipKind, number> = { block: 0, attestation: 0, aggregation: 0 };

  constructor(pubsub: GossipSub, options: GossipRouterOptions) {
    this.pubsub = pubsub;
    this.forkDigest = options.forkDigest;
    this.counters = options.counters;
    this.payloads = options.payloads;
    this.maxPending = { ...DEFAULT_MAX_PENDING_VALIDATIONS, ...options.maxPendingValidations };
    this.subnetCount = options.attestationSubnetCount ?? ATTESTATION_COMMITTEE_COUNT;
    this.penaliseUnwanted = options.penaliseUnwanted ?? (() => {});
  }

  setHandler<K extends GossipKind>(kind: K, handler: GossipHandler<K> | undefined): void {
    (this.handlers as Record<K, GossipHandler<K> | undefined>)[kind] = handler;
  }

  subscribe(topic: GossipTopic): void {
    const name = gossipTopicName(topic);
    this.pubsub.topicValidators.set(name, (peer, message) => this.validate(peer, message));
    this.pubsub.subscribe(name);
  }

  unsubscribe(topic: GossipTopic): void {
    const name = gossipTopicName(topic);
    this.pubsub.unsubscribe(name);
    this.pubsub.topicValidators.delete(name);
  }

  subscribedTopics(): string[] {
    return this.pubsub.getTopics();
  }

  subscribers(topic: GossipTopic): string[] {
    return this.pubsub.getSubscribers(gossipTopicName(topic)).map((p) => p.toString());
  }

  /** Peers in our mesh for the topic: the ones we forward its messages to. */
  meshPeers(topic: GossipTopic): string[] {
    // The implementation has getMeshPeers; the published service interface does not declare it.
    const pubsub = this.pubsub as GossipSub & { getMeshPeers?: (topic: string) => string[] };
    return pubsub.getMeshPeers?.(gossipTopicName(topic)) ?? [];
  }

  /** Compresses and publishes SSZ bytes; resolves to the number of peers it was sent to. */
  async publish(topic: GossipTopic, ssz: Uint8Array): Promise<number> {
    if (ssz.length > MAX_PAYLOAD_SIZE) {
      this.counters.inc("gossip_publish_failed");
      throw new NetworkError(NetworkErrorCode.PAYLOAD_TOO_LARGE, `${ssz.length} > ${MAX_PAYLOAD_SIZE}`);
    }
    return this.publishRaw(gossipTopicName(topic), encodeGossipPayload(ssz));
  }

  /** Publishes bytes exactly as given (tests and tooling: lets us send malformed payloads). */
  async publishRaw(topicName: string, data: Uint8Array): Promise<number> {
    try {
      const result = await this.pubsub.publish(topicName, data);
      this.counters.inc("gossip_published");
      return result.recipients.length;
    } catch (err) {
      this.counters.inc("gossip_publish_failed");
      throw new NetworkError(NetworkErrorCode.INVALID_REQUEST, `publish failed: ${errorMessage(err)}`);
    } finally {
      // Our own messages never pass through the validator, which is what normally drops the entry.
      this.payloads.forget(data);
    }
  }

  private async validate(peer: PeerId, message: Message): Promise<TopicValidatorResult> {
    const topic = parseGossipTopic(message.topic);
    if (topic === null || topic.forkDigest !== this.forkDigest) {
      this.counters.inc("gossip_rejected_bad_topic");
      return TopicValidatorResult.Reject;
    }
    this.counters.inc(RECEIVED_COUNTER[topic.kind]);
    this.counters.gossipSizes.record(topic.kind, message.data.length);
    const result = await this.validateKnownTopic(peer, message, topic);
    this.counters.labelled.gossipVerdict(topic.kind, VERDICT_NAME[result]);
    return result;
  }

  private async validateKnownTopic(peer: PeerId, message: Message, topic: GossipTopic): Promise<TopicValidatorResult> {
    const decompressed = this.payloads.take(message.data, GOSSIP_MAX_SSZ_BYTES[topic.kind]);
    if (!decompressed.ok) {
      this.counters.inc(REJECT_COUNTER[decompressed.reason]);
      this.counters.labelled.gossipDecodeFailure(topic.kind, decompressed.reason);
      return TopicValidatorResult.Reject;
    }
    const decoded = decodeGossipSsz(topic.kind, decompressed.data);
    if (!decoded.ok) {
      this.counters.inc(REJECT_COUNTER[decoded.reason]);
      this.counters.labelled.gossipDecodeFailure(topic.kind, decoded.reason);
      return TopicValidatorResult.Reject;
    }
    if (topic.kind === "attestation") {
      const { validatorIndex } = decoded.value as SignedAttestation;
      if (validatorIndex % this.subnetCount !== topic.subnet) {
        // An honest node never sends a vote on another subnet: REJECT, which costs the sender score.
        this.counters.inc("gossip_rejected_wrong_subnet");
        return TopicValidatorResult.Reject;
      }
    }
    const handler = this.handlers[topic.kind] as GossipHandler<typeof topic.kind> | undefined;
    if (handler === undefined) {
      this.counters.inc("gossip_no_handler");
      return TopicValidatorResult.Ignore;
    }
    const kind = topic.kind;
    if (this.pending[kind] >= this.maxPending[kind]) {
      this.counters.inc("gossip_dropped_overload");
      return TopicValidatorResult.Ignore;
    }
    this.pending[kind]++;
    try {
      const from = peer.toString();
      const verdict = await handler(decoded.value, { peer: from, topic, bytes: decompressed.data.length });
      if (verdict === "ignore_penalise") this.penaliseUnwanted(from, kind);
      return this.record(verdict);
    } catch {
      this.counters.inc("gossip_handler_errors");
      return TopicValidatorResult.Ignore;
    } finally {
      this.pending[kind]--;
    }
  }

  private record(verdict: GossipVerdict): TopicValidatorResult {
    switch (verdict) {
      case "accept":
        this.counters.inc("gossip_accepted");
        return TopicValidatorResult.Accept;
      case "reject":
        this.counters.inc("gossip_rejected_by_handler");
        return TopicValidatorResult.Reject;
      default:
        this.counters.inc("gossip_ignored");
        return TopicValidatorResult.Ignore;
    }
  }
}
