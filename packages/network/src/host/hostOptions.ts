// The options a NetworkHost is built with, and the connection-level defaults behind them.

import type { GossipKind } from "../gossip/topics.ts";
import type { RateLimits } from "../reqresp/server.ts";
import type { RedialOptions } from "./bootnodes.ts";

export type NetworkHostOptions = {
  /** 4-byte fork digest (bytes or hex); every topic is scoped to it. */
  forkDigest: string | Uint8Array;
  /** Default ["/ip4/0.0.0.0/tcp/9000"]. Tests use "/ip4/127.0.0.1/tcp/0". */
  listenAddresses?: readonly string[];
  announceAddresses?: readonly string[];
  /** 32 bytes; the node's Ed25519 identity is derived from it. Random when absent. */
  identitySeed?: Uint8Array;
  /** Multiaddrs (ideally ending in /p2p/<peer id>) dialed at start and redialed when lost. */
  bootnodes?: readonly string[];
  /** Attestation subnets that exist on this network (topics outside them are ignored). */
  attestationSubnetCount?: number;
  /** Connection cap handed to libp2p's connection manager. Default 100. */
  maxPeers?: number;
  /** New inbound connections accepted per second from one host. Default 25. */
  inboundConnectionThreshold?: number;
  /** Inbound connections still in their Noise/Yamux upgrade at once. Default MAX_INBOUND_PENDING. */
  maxInboundPendingConnections?: number;
  /** Time an inbound connection has to finish its upgrade. Default INBOUND_UPGRADE_TIMEOUT_MS. */
  inboundUpgradeTimeoutMs?: number;
  /** Slot length: peer-score credit and decay are counted in slots. Default 4 s. */
  slotDurationMs?: number;
  /**
   * Default true: a peer below the graylist or the application disconnect threshold is cut off
   * and banned. False keeps every peer connected whatever its score (for wire-level tests that
   * misbehave on purpose); scores are still kept and gossipsub still applies its thresholds.
   */
  peerScoreDisconnects?: boolean;
  /** The clock the application peer score decays and bans expire by (tests move it). */
  scoreClock?: () => number;
  reqResp?: {
    /** Whole-exchange timeout, outbound and inbound. Default 10 s. */
    timeoutMs?: number;
    /**
     * Bytes one response may bring, all chunks together; a typed request is also held to its count
     * x the largest valid chunk. Default MAX_RESPONSE_BYTES (8 MiB).
     */
    maxResponseBytes?: number;
    rateLimits?: Partial<RateLimits>;
  };
  redial?: Partial<RedialOptions>;
  gossipHeartbeatMs?: number;
  /** Target gossip mesh degree D; default PROTOCOL.md's 8 (tests lower it for multi-hop meshes). */
  gossipMeshDegree?: number;
  /** How long seen gossip message ids are remembered (leanSpec: slot * 6; default for 4 s slots). */
  gossipSeenTtlMs?: number;
  /**
   * A peer that does not read its gossip (outboundBacklog.ts): bytes it may have unread before its
   * stream is aborted (default GOSSIP_MAX_OUTBOUND_BUFFER_BYTES), and the one-second checks it may
   * then stay connected without a stream (default LOST_OUTBOUND_STREAM_CHECKS). Tests shrink both.
   */
  gossipOutbound?: { maxBufferBytes?: number; lostChecks?: number; checkIntervalMs?: number };
  /** Gossip validations in flight at once, per topic kind, before new ones are ignored (router defaults). */
  maxPendingGossipValidations?: Partial<Record<GossipKind, number>>;
};

export const DEFAULT_LISTEN = ["/ip4/0.0.0.0/tcp/9000"];
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 25;
/**
 * An idle socket holds a pending slot until its upgrade times out, so one host can hold at most
 * threshold (25/s) x timeout (4 s) = 100 slots; with 128 it can never take the last one, and an
 * honest peer still gets in (libp2p's default of 10 let 12 idle sockets lock peers out).
 */
export const MAX_INBOUND_PENDING = 128;
/** A Noise + Yamux upgrade takes milliseconds on a healthy link; an idle socket is cut after 4 s. */
export const INBOUND_UPGRADE_TIMEOUT_MS = 4_000;
export const DEFAULT_SLOT_DURATION_MS = 4_000;
/**
 * libp2p's connection monitor pings every connection this often and aborts the connection when a
 * ping fails. Its defaults (every 10 s, failing after 5 s or more, adapted to recent round trips)
 * cut busy honest peers: in a 16-node devnet on 2 cores it aborted 822 connections in 120 s, and
 * every abort cost a redial, a mesh slot and whatever exchange was in flight (honest peers were
 * even banned for the "empty" answers). A ping that takes 15 s is a dead or hopeless peer; one
 * that takes 6 s is a busy one.
 */
export const PING_TIMEOUT_MS = 15_000;
/**
 * Longer than the timeout, so a slow ping has always ended before the next one starts: the ping
 * protocol allows one outbound stream, and a second ping while one is in flight fails at once,
 * which the monitor also treats as a dead peer. A dead peer is cut within 35 s.
 */
export const PING_INTERVAL_MS = 20_000;

export type ConnectionMonitorOptions = {
  pingInterval: number;
  pingTimeout: { minTimeout: number; maxTimeout: number };
  abortConnectionOnPingFailure: true;
};

/** The connection monitor's settings: a fixed timeout, shorter than the interval. */
export function connectionMonitorOptions(
  intervalMs = PING_INTERVAL_MS,
  timeoutMs = PING_TIMEOUT_MS,
): ConnectionMonitorOptions {
  if (!(timeoutMs < intervalMs)) {
    throw new Error(`ping timeout ${timeoutMs} ms must be shorter than the ping interval ${intervalMs} ms`);
  }
  return {
    pingInterval: intervalMs,
    pingTimeout: { minTimeout: timeoutMs, maxTimeout: timeoutMs },
    abortConnectionOnPingFailure: true,
  };
}
export const STREAMS_PER_PROTOCOL = 16;
/** Bound on the per-peer bookkeeping behind the connection metrics (far above any connection cap). */
export const MAX_TRACKED_PEERS = 4096;
