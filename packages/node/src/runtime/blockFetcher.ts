// The ONE deduplicated, capped BlocksByRoot fetcher (PROTOCOL.md section 6). Unknown parents and
// blocks referenced by attestations are `want`ed here; the driver's `tick` turns due roots into
// batched requests. Without this funnel a gossip flood of attestations for unseen blocks becomes a
// flood of point-lookup RPCs (the fetch storm behind zeam #863).
//
// Timing: the fetcher owns no timers. Request deadlines and retry backoff are checked against the
// injected `now()` on every `tick()`, so a timed-out request is noticed on the first tick after its
// deadline (the driver ticks every pass, so the latency is at most one pass or interval).
import { MAX_CONCURRENT_BLOCKS_BY_ROOT } from "@metronome/chain";

/** Why a root is wanted. */
export type WantReason = "unknown_parent" | "unknown_attestation_block";

/**
 * Result of one `want` call; every call lands in exactly one (lean_block_fetch_dedup_total):
 * - "queued": newly wanted, a request slot is free so the next tick asks for it.
 * - "inflight_cap": newly wanted, but all request slots are busy: refused for now, it stays wanted
 *   and is asked when a slot frees.
 * - "known": already imported or cached (`isKnown`).
 * - "already_wanted": wanted and waiting (due or in backoff).
 * - "in_flight": currently being requested.
 * - "invalid": not a 32-byte root.
 * - "stopped": the fetcher was stopped.
 */
export type DedupOutcome = "queued" | "inflight_cap" | "known" | "already_wanted" | "in_flight" | "invalid" | "stopped";

/** How an issued request ended. "partial"/"empty": some/none of the asked roots came back. */
export type RequestOutcome = "success" | "partial" | "empty" | "error" | "timeout" | "aborted";

/** Why `tick` could not issue a request for due roots (counted once per refused request). */
export type RequestRefusal = "inflight_cap" | "no_peer";

/** Why a root left the wanted set without being fetched. */
export type WantedDropReason = "wanted_cap" | "attempts_exhausted";

/** Why a root left the wanted set because we have it now. */
export type WantedResolution = "received" | "imported" | "known";

export const DEDUP_OUTCOMES: readonly DedupOutcome[] = [
  "queued",
  "inflight_cap",
  "known",
  "already_wanted",
  "in_flight",
  "invalid",
  "stopped",
];

export type RequestBlocksByRoot = (peerId: string, roots: Uint8Array[], signal: AbortSignal) => Promise<Uint8Array[]>;

export interface BlockFetcherOptions {
  /** Requests outstanding at once, across all peers; default MAX_CONCURRENT_BLOCKS_BY_ROOT (PROTOCOL.md section 6). */
  maxInFlight?: number;
  maxRootsPerRequest?: number;
  /** Cap on the wanted set; a new root beyond it evicts the oldest wanted root not in flight. */
  maxWanted?: number;
  requestTimeoutMs?: number;
  /** Retry backoff after a failed/unanswered attempt: base * 2^(attempts-1), capped, jittered. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Attempts per root before it is dropped ("attempts_exhausted"); a later `want` re-queues it. */
  maxAttempts?: number;
  /** Half-life of a peer's failure penalty. */
  peerPenaltyHalfLifeMs?: number;
  /** Uniform [0, 1): backoff jitter and weighted peer choice. */
  random?: () => number;
  now: () => number;
  /** Asks `peerId` for `roots`; resolves with the roots actually received. */
  request: RequestBlocksByRoot;
  /** Currently connected peers. */
  peers: () => string[];
  /** Whether the block is already imported or cached. */
  isKnown: (root: Uint8Array) => boolean;
}

export interface BlockFetcherStats {
  inFlight: number;
  maxInFlightSeen: number;
  wantedCount: number;
  dedupOutcomes: Record<DedupOutcome, number>;
  wantReasons: Record<WantReason, number>;
  requestsIssued: number;
  requestOutcomes: Record<RequestOutcome, number>;
  requestRefusals: Record<RequestRefusal, number>;
  wantedDropped: Record<WantedDropReason, number>;
  wantedResolved: Record<WantedResolution, number>;
  rootsRequested: number;
  /** Responses that arrived after their request had timed out or been aborted. */
  lateResponses: number;
}

interface WantedRoot {
  root: Uint8Array;
  key: string;
  reason: WantReason;
  attempts: number;
  nextAttemptAt: number;
  /** Id of the request currently asking for this root, or 0. */
  requestId: number;
}

interface InFlightRequest {
  id: number;
  peerId: string;
  keys: string[];
  controller: AbortController;
  deadline: number;
}

interface PeerHealth {
  penalty: number;
  penaltyAt: number;
  inFlight: number;
}

const ROOT_LENGTH = 32;
/** Penalty ceiling: a failing peer's weight never falls below 1/(1+MAX)^2 of a healthy one's. */
const MAX_PEER_PENALTY = 10;

function rootHex(root: Uint8Array): string {
  // Same "0x…" form as @metronome/chain's rootKey, so keys agree across modules.
  return `0x${Buffer.from(root.buffer, root.byteOffset, root.byteLength).toString("hex")}`;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer: ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be >= 0: ${value}`);
  return value;
}

export class BlockFetcher {
  readonly maxInFlight: number;
  readonly maxRootsPerRequest: number;
  readonly maxWanted: number;
  readonly requestTimeoutMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly maxAttempts: number;
  readonly dedupOutcomes: Record<DedupOutcome, number> = {
    queued: 0,
    inflight_cap: 0,
    known: 0,
    already_wanted: 0,
    in_flight: 0,
    invalid: 0,
    stopped: 0,
  };
  readonly wantReasons: Record<WantReason, number> = { unknown_parent: 0, unknown_attestation_block: 0 };
  readonly requestOutcomes: Record<RequestOutcome, number> = {
    success: 0,
    partial: 0,
    empty: 0,
    error: 0,
    timeout: 0,
    aborted: 0,
  };
  readonly requestRefusals: Record<RequestRefusal, number> = { inflight_cap: 0, no_peer: 0 };
  readonly wantedDropped: Record<WantedDropReason, number> = { wanted_cap: 0, attempts_exhausted: 0 };
  readonly wantedResolved: Record<WantedResolution, number> = { received: 0, imported: 0, known: 0 };
  requestsIssued = 0;
  rootsRequested = 0;
  lateResponses = 0;
  maxInFlightSeen = 0;

  private readonly peerPenaltyHalfLifeMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly request: RequestBlocksByRoot;
  private readonly peers: () => string[];
  private readonly isKnown: (root: Uint8Array) => boolean;
  /** Insertion-ordered: the first entry is the oldest wanted root. */
  private readonly wanted = new Map<string, WantedRoot>();
  private readonly requests = new Map<number, InFlightRequest>();
  private readonly peerHealth = new Map<string, PeerHealth>();
  private nextRequestId = 1;
  /** Lower bound on when any waiting root becomes due; lets idle ticks skip the scan. */
  private nextDueAt = 0;
  private ticking = false;
  private stopped = false;

  constructor(options: BlockFetcherOptions) {
    this.maxInFlight = positiveInt("maxInFlight", options.maxInFlight ?? MAX_CONCURRENT_BLOCKS_BY_ROOT);
    this.maxRootsPerRequest = positiveInt("maxRootsPerRequest", options.maxRootsPerRequest ?? 16);
    this.maxWanted = positiveInt("maxWanted", options.maxWanted ?? 4096);
    this.requestTimeoutMs = nonNegative("requestTimeoutMs", options.requestTimeoutMs ?? 10_000);
    this.backoffBaseMs = nonNegative("backoffBaseMs", options.backoffBaseMs ?? 1_000);
    this.backoffMaxMs = nonNegative("backoffMaxMs", options.backoffMaxMs ?? 32_000);
    this.maxAttempts = positiveInt("maxAttempts", options.maxAttempts ?? 10);
    this.peerPenaltyHalfLifeMs = options.peerPenaltyHalfLifeMs ?? 60_000;
    if (!(this.peerPenaltyHalfLifeMs > 0)) throw new RangeError(`peerPenaltyHalfLifeMs must be > 0`);
    this.random = options.random ?? Math.random;
    this.now = options.now;
    this.request = options.request;
    this.peers = options.peers;
    this.isKnown = options.isKnown;
  }

  /** Live count of outstanding requests (zeam_blocks_by_root_inflight). */
  get inFlight(): number {
    return this.requests.size;
  }

  get wantedCount(): number {
    return this.wanted.size;
  }

  /** Asks for `root` to be fetched; never issues a request itself (tick does). */
  want(root: Uint8Array, reason: WantReason): DedupOutcome {
    return this.countOutcome(this.classifyWant(root, reason));
  }

  /** Whether `root` is in the wanted set (waiting or in flight). */
  isWanted(root: Uint8Array): boolean {
    return root.length === ROOT_LENGTH && this.wanted.has(rootHex(root));
  }

  /** A block with this root was imported: stop wanting it (an in-flight request runs to its end). */
  onBlockImported(root: Uint8Array): void {
    if (root.length !== ROOT_LENGTH) return;
    if (this.wanted.delete(rootHex(root))) this.wantedResolved.imported++;
  }

  /**
   * One driver pass: expires overdue requests, then issues batched requests for due roots until
   * the in-flight cap is reached. A batch that finds the cap full is refused and counted.
   */
  tick(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = true;
    try {
      const now = this.now();
      this.expireOverdue(now);
      this.issueDue(now);
    } finally {
      this.ticking = false;
    }
  }

  /** Aborts every in-flight request and forgets all wanted roots; later calls are no-ops. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const req of [...this.requests.values()]) {
      this.requests.delete(req.id);
      this.requestOutcomes.aborted++;
      req.controller.abort(new Error("block fetcher stopped"));
    }
    this.wanted.clear();
    this.peerHealth.clear();
  }

  stats(): BlockFetcherStats {
    return {
      inFlight: this.requests.size,
      maxInFlightSeen: this.maxInFlightSeen,
      wantedCount: this.wanted.size,
      dedupOutcomes: { ...this.dedupOutcomes },
      wantReasons: { ...this.wantReasons },
      requestsIssued: this.requestsIssued,
      requestOutcomes: { ...this.requestOutcomes },
      requestRefusals: { ...this.requestRefusals },
      wantedDropped: { ...this.wantedDropped },
      wantedResolved: { ...this.wantedResolved },
      rootsRequested: this.rootsRequested,
      lateResponses: this.lateResponses,
    };
  }

  /** The decayed failure penalty of a peer (0 for an unknown peer); exposed for diagnostics. */
  peerPenalty(peerId: string): number {
    const health = this.peerHealth.get(peerId);
    return health === undefined ? 0 : this.decayedPenalty(health, this.now());
  }

  private countOutcome(outcome: DedupOutcome): DedupOutcome {
    this.dedupOutcomes[outcome]++;
    return outcome;
  }

  private classifyWant(root: Uint8Array, reason: WantReason): DedupOutcome {
    if (this.stopped) return "stopped";
    if (!(root instanceof Uint8Array) || root.length !== ROOT_LENGTH) return "invalid";
    if (reason !== "unknown_parent" && reason !== "unknown_attestation_block") return "invalid";
    this.wantReasons[reason]++;
    const key = rootHex(root);
    const existing = this.wanted.get(key);
    if (existing?.requestId) return "in_flight";
    if (this.isKnown(root)) {
      // Imported without an onBlockImported call: it is no longer wanted.
      if (existing !== undefined && this.wanted.delete(key)) this.wantedResolved.known++;
      return "known";
    }
    if (existing !== undefined) {
      // A parent is on the import path of a block we hold: that reason outranks an attestation's.
      if (reason === "unknown_parent") existing.reason = reason;
      return "already_wanted";
    }
    if (this.wanted.size >= this.maxWanted) this.evictOldestWanted();
    const now = this.now();
    // Copy: the caller's bytes may be a view into a buffer that gets reused.
    this.wanted.set(key, { root: Uint8Array.from(root), key, reason, attempts: 0, nextAttemptAt: now, requestId: 0 });
    if (now < this.nextDueAt) this.nextDueAt = now;
    return this.requests.size >= this.maxInFlight ? "inflight_cap" : "queued";
  }

  private evictOldestWanted(): void {
    // Prefer a root nobody is asking for right now; at most maxInFlight*maxRootsPerRequest are skipped.
    let victim: WantedRoot | undefined;
    for (const entry of this.wanted.values()) {
      if (entry.requestId === 0) {
        victim = entry;
        break;
      }
      victim ??= entry;
    }
    if (victim === undefined) return;
    this.wanted.delete(victim.key);
    this.wantedDropped.wanted_cap++;
  }

  private expireOverdue(now: number): void {
    for (const req of [...this.requests.values()]) {
      if (now < req.deadline) continue;
      this.finishRequest(req, "timeout", new Set());
      req.controller.abort(new Error(`BlocksByRoot request timed out after ${this.requestTimeoutMs} ms`));
    }
  }

  private issueDue(now: number): void {
    if (now < this.nextDueAt || this.wanted.size === 0) return;
    if (this.requests.size < this.maxInFlight) {
      const peers = this.connectedPeers();
      // A request that fails synchronously frees its slot at once, so refill, a bounded number of times.
      for (let round = 0; round < this.maxInFlight && this.requests.size < this.maxInFlight; round++) {
        const due = this.collectDue(now, (this.maxInFlight - this.requests.size) * this.maxRootsPerRequest);
        if (due.length === 0) return;
        if (peers.length === 0) {
          this.requestRefusals.no_peer++;
          this.nextDueAt = 0; // still due: look again next tick
          return;
        }
        this.issueBatches(due, peers, now);
        if (this.stopped) return;
      }
    }
    if (this.requests.size >= this.maxInFlight && this.hasDueRoot(now)) {
      this.requestRefusals.inflight_cap++;
      this.nextDueAt = 0; // the refused roots are still due: look again next tick
    }
  }

  private issueBatches(due: WantedRoot[], peers: string[], now: number): void {
    for (let start = 0; start < due.length && !this.stopped && this.requests.size < this.maxInFlight; ) {
      const batch: WantedRoot[] = [];
      while (start < due.length && batch.length < this.maxRootsPerRequest) {
        const entry = due[start++] as WantedRoot;
        // Re-checked: an earlier request() may have re-entered want/onBlockImported or imported it.
        if (this.wanted.get(entry.key) !== entry || entry.requestId !== 0) continue;
        if (this.isKnown(entry.root)) {
          this.wanted.delete(entry.key);
          this.wantedResolved.known++;
          continue;
        }
        batch.push(entry);
      }
      if (batch.length > 0) this.issue(batch, this.choosePeer(peers, now), now);
    }
  }

  private hasDueRoot(now: number): boolean {
    for (const entry of this.wanted.values()) {
      if (entry.requestId === 0 && entry.nextAttemptAt <= now) return true;
    }
    return false;
  }

  /** Up to `limit` due roots, parents first, each group oldest first. */
  private collectDue(now: number, limit: number): WantedRoot[] {
    const parents: WantedRoot[] = [];
    const others: WantedRoot[] = [];
    let earliestWaiting = Number.POSITIVE_INFINITY;
    let dueSeen = 0;
    for (const entry of this.wanted.values()) {
      if (entry.requestId !== 0) continue;
      if (entry.nextAttemptAt > now) {
        if (entry.nextAttemptAt < earliestWaiting) earliestWaiting = entry.nextAttemptAt;
        continue;
      }
      dueSeen++;
      if (entry.reason === "unknown_parent") parents.push(entry);
      else if (others.length < limit) others.push(entry);
      if (parents.length >= limit) break;
    }
    // Roots left behind by the limit stay due, so only a scan that took every due root may let
    // the following ticks skip ahead to the earliest backoff expiry.
    this.nextDueAt = dueSeen <= limit && parents.length < limit ? earliestWaiting : 0;
    return parents.concat(others).slice(0, limit);
  }

  private issue(batch: WantedRoot[], peerId: string, now: number): void {
    const id = this.nextRequestId++;
    const controller = new AbortController();
    const req: InFlightRequest = {
      id,
      peerId,
      keys: batch.map((e) => e.key),
      controller,
      deadline: now + this.requestTimeoutMs,
    };
    // The slot is reserved before request() runs, so re-entrant calls already see it taken.
    this.requests.set(id, req);
    for (const entry of batch) entry.requestId = id;
    this.health(peerId, now).inFlight++;
    this.requestsIssued++;
    this.rootsRequested += batch.length;
    if (this.requests.size > this.maxInFlightSeen) this.maxInFlightSeen = this.requests.size;
    let pending: Promise<Uint8Array[]>;
    try {
      pending = this.request(
        peerId,
        batch.map((e) => e.root),
        controller.signal,
      );
    } catch {
      this.onRequestFailed(id);
      return;
    }
    Promise.resolve(pending).then(
      (received) => this.onRequestDone(id, received),
      () => this.onRequestFailed(id),
    );
  }

  private onRequestDone(id: number, received: unknown): void {
    const receivedKeys = new Set<string>();
    if (Array.isArray(received)) {
      for (const root of received) {
        if (root instanceof Uint8Array && root.length === ROOT_LENGTH) receivedKeys.add(rootHex(root));
      }
    }
    const req = this.requests.get(id);
    if (req === undefined) {
      // Timed out or stopped already; a block's root commits to its content, so what arrived is
      // still what we wanted.
      this.lateResponses++;
      if (!this.stopped) this.resolveReceived(receivedKeys);
      return;
    }
    let got = 0;
    for (const key of req.keys) if (receivedKeys.has(key)) got++;
    const outcome: RequestOutcome = got === req.keys.length ? "success" : got === 0 ? "empty" : "partial";
    this.finishRequest(req, outcome, receivedKeys);
  }

  private onRequestFailed(id: number): void {
    const req = this.requests.get(id);
    if (req === undefined) return;
    this.finishRequest(req, "error", new Set());
  }

  /** Frees the slot; received roots leave the wanted set, the rest back off. */
  private finishRequest(req: InFlightRequest, outcome: RequestOutcome, receivedKeys: Set<string>): void {
    this.requests.delete(req.id);
    this.requestOutcomes[outcome]++;
    const now = this.now();
    const health = this.peerHealth.get(req.peerId);
    if (health !== undefined) {
      health.inFlight = Math.max(0, health.inFlight - 1);
      // Missing roots are not a fault: peers skip roots they do not have.
      if (outcome === "error" || outcome === "timeout") this.penalize(health, now);
      else if (outcome === "success" || outcome === "partial") this.reward(health, now);
    }
    for (const key of req.keys) {
      const entry = this.wanted.get(key);
      if (entry === undefined || entry.requestId !== req.id) continue;
      entry.requestId = 0;
      if (receivedKeys.has(key)) {
        this.wanted.delete(key);
        this.wantedResolved.received++;
        continue;
      }
      entry.attempts++;
      if (entry.attempts >= this.maxAttempts) {
        this.wanted.delete(key);
        this.wantedDropped.attempts_exhausted++;
        continue;
      }
      entry.nextAttemptAt = now + this.backoffDelay(entry.attempts);
      if (entry.nextAttemptAt < this.nextDueAt) this.nextDueAt = entry.nextAttemptAt;
    }
  }

  private resolveReceived(receivedKeys: Set<string>): void {
    for (const key of receivedKeys) {
      const entry = this.wanted.get(key);
      if (entry === undefined || entry.requestId !== 0) continue;
      this.wanted.delete(key);
      this.wantedResolved.received++;
    }
  }

  /** Exponential in attempts, capped; "equal jitter" keeps it in [delay/2, delay). */
  private backoffDelay(attempts: number): number {
    const delay = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(attempts - 1, 30));
    return delay / 2 + (delay / 2) * this.random();
  }

  private connectedPeers(): string[] {
    const peers = [...new Set(this.peers())];
    // Forget health of peers that left and have nothing outstanding: the map stays bounded by the
    // peer set plus requests in flight.
    if (this.peerHealth.size > peers.length) {
      const connected = new Set(peers);
      for (const [peerId, health] of this.peerHealth) {
        if (!connected.has(peerId) && health.inFlight === 0) this.peerHealth.delete(peerId);
      }
    }
    return peers;
  }

  /**
   * Weighted random choice: weight 1 / ((1 + penalty)^2 * (1 + requests in flight to the peer)).
   * A failing peer is tried less, but never never (the penalty is capped and decays), and load
   * spreads across healthy peers.
   */
  private choosePeer(peers: string[], now: number): string {
    const weights = peers.map((peerId) => {
      const health = this.peerHealth.get(peerId);
      if (health === undefined) return 1;
      const penalty = this.decayedPenalty(health, now);
      return 1 / ((1 + penalty) ** 2 * (1 + health.inFlight));
    });
    const total = weights.reduce((sum, w) => sum + w, 0);
    let r = this.random() * total;
    for (let i = 0; i < peers.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return peers[i] as string;
    }
    return peers[peers.length - 1] as string;
  }

  private health(peerId: string, now: number): PeerHealth {
    let health = this.peerHealth.get(peerId);
    if (health === undefined) {
      health = { penalty: 0, penaltyAt: now, inFlight: 0 };
      this.peerHealth.set(peerId, health);
    }
    return health;
  }

  private decayedPenalty(health: PeerHealth, now: number): number {
    if (health.penalty === 0) return 0;
    const elapsed = Math.max(0, now - health.penaltyAt);
    return health.penalty * 2 ** (-elapsed / this.peerPenaltyHalfLifeMs);
  }

  private penalize(health: PeerHealth, now: number): void {
    health.penalty = Math.min(MAX_PEER_PENALTY, this.decayedPenalty(health, now) + 1);
    health.penaltyAt = now;
  }

  private reward(health: PeerHealth, now: number): void {
    health.penalty = this.decayedPenalty(health, now) / 2;
    health.penaltyAt = now;
  }
}
