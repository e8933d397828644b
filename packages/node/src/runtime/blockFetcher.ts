// The ONE deduplicated, capped BlocksByRoot fetcher (PROTOCOL.md section 6). Unknown parents and
// blocks referenced by attestations are `want`ed here; the driver's `tick` turns due roots into
// batched requests. Without this funnel a gossip flood of attestations for unseen blocks becomes a
// flood of point-lookup RPCs (the fetch storm behind zeam #863).
//
// Timing: the fetcher owns no timers. Request deadlines and retry backoff are checked against the
// injected `now()` on every `tick()`, so a timed-out request is noticed on the first tick after its
// deadline (the driver ticks every pass, so the latency is at most one pass or interval).
import { MAX_CONCURRENT_BLOCKS_BY_ROOT } from "@metronome/chain";
import type {
  BlockFetcherOptions,
  BlockFetcherStats,
  DedupOutcome,
  RequestBlocksByRoot,
  RequestOutcome,
  RequestRefusal,
  WantedDropReason,
  WantedResolution,
  WantReason,
} from "./blockFetcherTypes.ts";
import {
  collectDue,
  equalJitterBackoff,
  hasDueRoot,
  nonNegative,
  positiveInt,
  ROOT_LENGTH,
  rootHex,
  type WantedRoot,
} from "./fetchSchedule.ts";
import { PeerHealthTable } from "./peerHealth.ts";

export * from "./blockFetcherTypes.ts";

interface InFlightRequest {
  id: number;
  peerId: string;
  keys: string[];
  controller: AbortController;
  deadline: number;
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
  private readonly peerHealth: PeerHealthTable;
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
    this.peerHealth = new PeerHealthTable(this.peerPenaltyHalfLifeMs, this.random);
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
    return this.peerHealth.penaltyOf(peerId, this.now());
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
        const limit = (this.maxInFlight - this.requests.size) * this.maxRootsPerRequest;
        const { due, nextDueAt } = collectDue(this.wanted, now, limit);
        this.nextDueAt = nextDueAt;
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
    if (this.requests.size >= this.maxInFlight && hasDueRoot(this.wanted, now)) {
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
      if (batch.length > 0) this.issue(batch, this.peerHealth.choose(peers, now), now);
    }
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
    this.peerHealth.requestStarted(peerId, now);
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
    // Missing roots are not a fault: peers skip roots they do not have.
    const verdict =
      outcome === "error" || outcome === "timeout"
        ? "penalize"
        : outcome === "success" || outcome === "partial"
          ? "reward"
          : "none";
    this.peerHealth.requestFinished(req.peerId, verdict, now);
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
      entry.nextAttemptAt =
        now + equalJitterBackoff(entry.attempts, this.backoffBaseMs, this.backoffMaxMs, this.random());
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

  private connectedPeers(): string[] {
    const peers = [...new Set(this.peers())];
    this.peerHealth.forgetGone(peers);
    return peers;
  }
}
