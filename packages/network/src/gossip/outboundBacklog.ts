// What the node has queued to send each gossip peer, and what happens to a peer that does not read.
// gossipsub writes every message it forwards into the peer's outbound stream without waiting for
// the peer to read (its own TODO: "backpressure"), so a peer that stops reading (overloaded, or
// stalling on purpose) makes the node hold everything it forwards to it, without bound.
//
// The cap is gossipsub's own maxOutboundBufferSize: past it the stream is aborted and gossipsub
// stops sending to that peer. gossipsub opens outbound streams only when a connection starts, so
// such a peer would stay connected and never hear from us again; the watch below closes its
// connection instead (counted), and the peer (or our bootnode redial) starts afresh.

/**
 * Bytes a peer may have unread in its gossip outbound stream before the stream is aborted. Honest
 * traffic is far below it (a slot's gossip is 19-37 KiB per node at 16 nodes x 512 validators;
 * the largest valid block is 5,380 bytes), so only a peer that has stopped reading for seconds
 * under load reaches it; one such peer then costs at most this, not the whole flood.
 */
export const GOSSIP_MAX_OUTBOUND_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Consecutive checks (one a second) a connected gossip peer may be without an outbound stream
 * before its connection is closed. gossipsub opens the stream one connection at a time, a round
 * trip after connecting; on a starved machine or under a burst of new connections that can take
 * seconds, so ten tell a lost stream from a slow start. A cut-off peer goes unserved that long.
 */
export const LOST_OUTBOUND_STREAM_CHECKS = 10;

/** One gossip peer as a check sees it: its unread outbound bytes, or null without an outbound stream. */
export interface OutboundPeerView {
  peer: string;
  bufferedBytes: number | null;
}

export interface OutboundBacklogStats {
  /** Bytes queued to all gossip peers, and to the most behind one. */
  bufferedBytes: number;
  maxPeerBufferedBytes: number;
  /** Connections closed because their outbound stream was lost (aborted over the cap, or closed). */
  lostStreamDisconnects: number;
}

/** Pure bookkeeping: the caller reads the peers, disconnects what `check` returns. */
export class OutboundBacklogWatch {
  /** Per peer without an outbound stream: consecutive checks seen so. Bounded by the gossip peers. */
  private readonly missing = new Map<string, number>();
  private last = { bufferedBytes: 0, maxPeerBufferedBytes: 0 };
  private disconnects = 0;
  private readonly lostChecks: number;

  constructor(lostChecks = LOST_OUTBOUND_STREAM_CHECKS) {
    this.lostChecks = lostChecks;
  }

  /** Takes one look at every gossip peer; returns the peers whose connection should be closed now. */
  check(peers: readonly OutboundPeerView[]): string[] {
    let total = 0;
    let max = 0;
    const toClose: string[] = [];
    const seen = new Set<string>();
    for (const { peer, bufferedBytes } of peers) {
      seen.add(peer);
      if (bufferedBytes !== null) {
        total += bufferedBytes;
        max = Math.max(max, bufferedBytes);
        this.missing.delete(peer);
        continue;
      }
      const checks = (this.missing.get(peer) ?? 0) + 1;
      if (checks >= this.lostChecks) {
        this.missing.delete(peer);
        this.disconnects++;
        toClose.push(peer);
      } else {
        this.missing.set(peer, checks);
      }
    }
    for (const peer of this.missing.keys()) if (!seen.has(peer)) this.missing.delete(peer);
    this.last = { bufferedBytes: total, maxPeerBufferedBytes: max };
    return toClose;
  }

  stats(): OutboundBacklogStats {
    return { ...this.last, lostStreamDisconnects: this.disconnects };
  }
}

/** How often the watch looks at the peers. */
export const OUTBOUND_BACKLOG_CHECK_MS = 1_000;

/**
 * The parts of gossipsub the watch reads: the class's public `peers` and `streamsOutbound` maps
 * (not on its exported interface), and each stream's private `rawStream`.
 */
export interface GossipsubOutboundView {
  readonly peers?: unknown;
  readonly streamsOutbound?: unknown;
}

/**
 * Each gossip peer's unread outbound bytes. Read defensively (version pinned): if gossipsub's
 * shape changes, no peer is listed, and a stream without the expected byte count counts 0 rather
 * than "missing", so a library change can only hide a backlog, never cut healthy peers off.
 */
export function readOutboundPeers(pubsub: object): OutboundPeerView[] {
  const { peers, streamsOutbound } = pubsub as GossipsubOutboundView;
  if (!(peers instanceof Map) || !(streamsOutbound instanceof Map)) return [];
  const out: OutboundPeerView[] = [];
  for (const peer of peers.keys()) {
    if (typeof peer !== "string") continue;
    const stream = streamsOutbound.get(peer) as { rawStream?: { writeBufferLength?: unknown } } | undefined;
    if (stream === undefined) {
      out.push({ peer, bufferedBytes: null });
      continue;
    }
    const bytes = stream.rawStream?.writeBufferLength;
    out.push({ peer, bufferedBytes: typeof bytes === "number" ? bytes : 0 });
  }
  return out;
}

/** Runs the watch every OUTBOUND_BACKLOG_CHECK_MS on a gossipsub instance and closes what it names. */
export class OutboundBacklogGuard {
  readonly watch: OutboundBacklogWatch;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly pubsub: object;
  private readonly disconnect: (peer: string) => void;

  constructor(pubsub: object, disconnect: (peer: string) => void, lostChecks = LOST_OUTBOUND_STREAM_CHECKS) {
    this.pubsub = pubsub;
    this.disconnect = disconnect;
    this.watch = new OutboundBacklogWatch(lostChecks);
  }

  start(intervalMs = OUTBOUND_BACKLOG_CHECK_MS): void {
    this.timer ??= setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): void {
    for (const peer of this.watch.check(readOutboundPeers(this.pubsub))) this.disconnect(peer);
  }
}
