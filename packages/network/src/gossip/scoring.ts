// Gossipsub v1.1 peer-score parameters and thresholds (docs/protocol.md, "Peer scoring", gives the
// reasons at length). The scale follows the Ethereum clients': positive score is capped at
// MAX_POSITIVE_SCORE so good behaviour can never buy tolerance for bad, and the thresholds sit two
// orders of magnitude below it. The penalty that catches a flooder is P4 (invalid messages, fed by
// REJECT verdicts), which grows with the square of the count: a handful of invalid messages from an
// honest but confused peer costs little, sixteen on one topic graylist it.
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from "@libp2p/gossipsub/score";
import { aggregationTopic, attestationTopic, blockTopic, gossipTopicName } from "./topics.ts";

/**
 * Peer addresses exempt from gossipsub's IP-colocation penalty (P6). P6 punishes every peer once
 * more than 10 share one address: score (n - 10)^2 * -5. Peers on loopback all share 127.0.0.1 by
 * construction (a local devnet, the flood tool, the tests), and the penalty there is not a Sybil
 * signal but an artefact: at 11 peers every score is negative, so every mesh stays empty and
 * nothing is forwarded; at 15 peers (a 16-node devnet) every peer sits below the graylist
 * threshold and all its gossip is dropped. Real hosts never reach each other over loopback.
 */
export const IP_COLOCATION_WHITELIST: readonly string[] = ["127.0.0.1", "::1"];
/** Ceiling on a peer's positive topic score: small next to the thresholds, so it shields nothing. */
export const MAX_POSITIVE_SCORE = 100;

/** Below: no IHAVE/IWANT gossip exchanged with the peer. */
export const GOSSIP_THRESHOLD = -4000;
/** Below: our own messages are not published to the peer. */
export const PUBLISH_THRESHOLD = -8000;
/** Below: every RPC from the peer is dropped unread (before decompression, before message ids). */
export const GRAYLIST_THRESHOLD = -16000;
/** PX is off (doPX false); were it on, only a peer at the positive cap could hand us peers. */
export const ACCEPT_PX_THRESHOLD = MAX_POSITIVE_SCORE;
/** A mesh whose median score falls below this grafts better-scoring peers: a few first deliveries. */
export const OPPORTUNISTIC_GRAFT_THRESHOLD = 5;

export const PEER_SCORE_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: GOSSIP_THRESHOLD,
  publishThreshold: PUBLISH_THRESHOLD,
  graylistThreshold: GRAYLIST_THRESHOLD,
  acceptPXThreshold: ACCEPT_PX_THRESHOLD,
  opportunisticGraftThreshold: OPPORTUNISTIC_GRAFT_THRESHOLD,
};

/** Invalid messages on one topic (at topic weight 1) that take a peer from 0 to the graylist. */
export const INVALID_MESSAGES_TO_GRAYLIST = 16;
/** How fast the counters behind penalties fade: a peer that stops misbehaving recovers in minutes. */
const PENALTY_HALF_LIFE_MS = 5 * 60_000;
/** How fast first-delivery credit fades: about ten slots of good service. */
const DELIVERY_HALF_LIFE_SLOTS = 10;
/** Scores are recomputed (and counters decayed) once a second. */
const DECAY_INTERVAL_MS = 1000;
/** A counter below this is zero. */
const DECAY_TO_ZERO = 0.01;
/** Peers sharing an address before P6 applies (loopback is exempt, IP_COLOCATION_WHITELIST). */
const IP_COLOCATION_THRESHOLD = 10;
/** Eight peers past the threshold on one address (not loopback) reach the graylist. */
const IP_COLOCATION_WEIGHT = GRAYLIST_THRESHOLD / 8 ** 2;
/** Broken IWANT promises and GRAFT-during-backoff events tolerated before P7 starts counting. */
const BEHAVIOUR_PENALTY_THRESHOLD = 6;
/** Sixteen events past the threshold reach the gossip threshold. */
const BEHAVIOUR_PENALTY_WEIGHT = GOSSIP_THRESHOLD / 16 ** 2;
/**
 * The application score (req/resp abuse, peerScores.ts) runs from 0 down to -100; weighted by
 * this, -50 alone reaches the graylist (and -20, where the peer is disconnected anyway, is past the
 * gossip threshold), so no positive topic score can keep a req/resp abuser's gossip flowing.
 */
export const APP_SCORE_WEIGHT = (-2 * GRAYLIST_THRESHOLD) / 100;

/** Per-interval factor that halves a counter every `halfLifeMs`. */
export function decayPerInterval(halfLifeMs: number, intervalMs = DECAY_INTERVAL_MS): number {
  return 0.5 ** (intervalMs / halfLifeMs);
}

/** Expected first deliveries per slot from one good mesh peer, per topic kind (caps P2). */
const FIRST_DELIVERIES_CAP = { block: 20, attestation: 200, aggregation: 20 } as const;

function topicParams(topicWeight: number, firstDeliveriesCap: number, slotDurationMs: number): TopicScoreParams {
  // P1 and P2 share the positive budget equally; topicScoreCap enforces it across topics.
  const timeInMeshCapQuanta = 300;
  const positiveShare = MAX_POSITIVE_SCORE / 2;
  return {
    topicWeight,
    // P1: credit for time in our mesh, one quantum per slot, capped after 300 slots (20 min at 4 s).
    timeInMeshWeight: positiveShare / timeInMeshCapQuanta,
    timeInMeshQuantum: slotDurationMs,
    timeInMeshCap: timeInMeshCapQuanta,
    // P2: credit for being the first to deliver a message that then validated.
    firstMessageDeliveriesWeight: positiveShare / firstDeliveriesCap,
    firstMessageDeliveriesDecay: decayPerInterval(DELIVERY_HALF_LIFE_SLOTS * slotDurationMs),
    firstMessageDeliveriesCap: firstDeliveriesCap,
    // P3 and P3b off: on a loaded 2-core host an honest mesh peer's deliveries fall short of any
    // fixed rate whenever its event loop is busy, and P3 would prune honest peers out of small
    // meshes (a 4-node devnet has three). A flooder is caught by P4 and P7 without it.
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 100,
    meshMessageDeliveriesThreshold: 20,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    // P4: squared, so INVALID_MESSAGES_TO_GRAYLIST invalid messages at weight 1 reach the graylist.
    invalidMessageDeliveriesWeight: GRAYLIST_THRESHOLD / INVALID_MESSAGES_TO_GRAYLIST ** 2 / topicWeight,
    invalidMessageDeliveriesDecay: decayPerInterval(PENALTY_HALF_LIFE_MS),
  };
}

export type ScoreParamsInput = {
  forkDigest: string;
  attestationSubnetCount: number;
  slotDurationMs: number;
  /** The application score of a peer (0 for a peer never penalised); weighted by APP_SCORE_WEIGHT. */
  appScore: (peer: string) => number;
};

/**
 * The score parameters for our topics. Every topic's P4 is normalised by its topic weight, so the
 * same count of invalid messages graylists a peer on any topic; attestation subnets share one unit
 * of positive weight between them so subscribing to more subnets does not inflate positive score.
 */
export function peerScoreParams(input: ScoreParamsInput): PeerScoreParams {
  const { forkDigest, slotDurationMs } = input;
  const topics: Record<string, TopicScoreParams> = {
    [gossipTopicName(blockTopic(forkDigest))]: topicParams(0.5, FIRST_DELIVERIES_CAP.block, slotDurationMs),
    [gossipTopicName(aggregationTopic(forkDigest))]: topicParams(0.5, FIRST_DELIVERIES_CAP.aggregation, slotDurationMs),
  };
  const subnetWeight = 1 / input.attestationSubnetCount;
  for (let subnet = 0; subnet < input.attestationSubnetCount; subnet++) {
    topics[gossipTopicName(attestationTopic(forkDigest, subnet))] = topicParams(
      subnetWeight,
      FIRST_DELIVERIES_CAP.attestation,
      slotDurationMs,
    );
  }
  return {
    topics,
    topicScoreCap: MAX_POSITIVE_SCORE,
    appSpecificScore: input.appScore,
    appSpecificWeight: APP_SCORE_WEIGHT,
    IPColocationFactorWeight: IP_COLOCATION_WEIGHT,
    IPColocationFactorThreshold: IP_COLOCATION_THRESHOLD,
    IPColocationFactorWhitelist: new Set(IP_COLOCATION_WHITELIST),
    behaviourPenaltyWeight: BEHAVIOUR_PENALTY_WEIGHT,
    behaviourPenaltyThreshold: BEHAVIOUR_PENALTY_THRESHOLD,
    behaviourPenaltyDecay: decayPerInterval(PENALTY_HALF_LIFE_MS),
    decayInterval: DECAY_INTERVAL_MS,
    decayToZero: DECAY_TO_ZERO,
    // Kept for a disconnected peer: reconnecting must not wipe its penalties (the ban outlasts it).
    retainScore: 3 * PENALTY_HALF_LIFE_MS,
  };
}
