// The validator client's duty loop. A SlotClock drives it: interval 0 proposes (when one of our
// validators is the slot's proposer), interval 1 attests. Attesting can start earlier: the first
// head event for the current slot from a node that does not lag the others triggers an attestation
// at once, with attestation data from that very node (its head root must match the event's).
// Every signature goes through slashing protection first. Nothing awaits a beacon node inside the
// timer callback: duties run as tasks with request deadlines, so one slow node never stalls a slot.

import { publishAttestationsRoute, publishBlockRoute } from "@metronome/api";
import {
  type AttestationData as AttestationDataValue,
  aggregateSignatureBytes,
  Block,
  type Block as BlockValue,
  type SignedAttestation as SignedAttestationValue,
  shortRoot,
  signAttestation,
  toHex,
} from "@metronome/chain";
import { IntervalTimer, IntervalTracker } from "@metronome/clock";
import { fetchAttestationData, fetchProducedBlock } from "./beaconCalls.ts";
import { AllBeaconNodesFailedError } from "./beaconNodes.ts";
import { DutyCache } from "./dutyCache.ts";
import type { HeadUpdate, ReorgUpdate } from "./headMonitor.ts";
import type { SignKind, SlashingCheck } from "./slashing/slashingProtection.ts";
import type {
  AttestationRecord,
  AttestationSource,
  ValidatorClientOptions,
  ValidatorKey,
} from "./validatorClientTypes.ts";

export * from "./validatorClientTypes.ts";

export const PROPOSE_INTERVAL = 0;
export const ATTEST_INTERVAL = 1;

const KEEP_RECORDS = 64;

export class ValidatorClient {
  readonly counters = {
    attestationsPublished: 0,
    attestationsFailed: 0,
    blocksPublished: 0,
    blocksFailed: 0,
    slashingRefusals: 0,
    reorgs: 0,
  };
  readonly duties: DutyCache;
  private readonly o: ValidatorClientOptions;
  private readonly keys: Map<number, ValidatorKey>;
  private readonly timer: IntervalTimer;
  private tracker: IntervalTracker | null = null;
  /** Slot -> attestation state: in flight (by which path) or done. Pruned to recent slots. */
  private readonly attesting = new Map<number, "head" | "interval" | "done">();
  private readonly proposing = new Set<number>();
  /** "slot:url" of early attempts that gave up: a node gets one early try per slot. */
  private readonly earlyTried = new Set<string>();
  private readonly records: AttestationRecord[] = [];
  /** Bumped on every reorg: attestation data fetched before it is re-fetched before signing. */
  private reorgGeneration = 0;
  private readonly tasks = new Set<Promise<void>>();
  private running = false;

  constructor(o: ValidatorClientOptions) {
    this.o = o;
    this.keys = new Map(o.keys.map((k) => [k.index, k]));
    this.duties = new DutyCache({
      nodes: o.nodes,
      indices: [...this.keys.keys()],
      window: o.dutyWindow,
      onFetch: (cause) => o.metrics.dutyFetches.inc({ cause }),
    });
    this.timer = new IntervalTimer({
      clock: o.clock,
      onTick: () => this.tick(),
      onError: (err) => o.logger.error("duty tick failed", undefined, err),
      timers: o.timers,
    });
  }

  get attestationRecords(): readonly AttestationRecord[] {
    return this.records;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Start in the current interval, so a client started mid-slot still attests this slot.
    this.tracker = new IntervalTracker({ clock: this.o.clock, firstInterval: this.o.clock.currentInterval() });
    this.timer.start();
    this.tick();
  }

  /** Stops the loop and waits for duties in flight. */
  async stop(): Promise<void> {
    this.running = false;
    this.timer.stop();
    await Promise.allSettled([...this.tasks]);
  }

  private tick(): void {
    if (!this.running || this.tracker === null) return;
    const now = this.o.clock.now();
    const currentSlot = this.o.clock.slotAt(now);
    for (const due of this.tracker.due(now)) {
      // A replayed interval of an earlier slot is stale: its block or vote would be useless.
      if (due.slot !== currentSlot) continue;
      this.onInterval(due.slot, due.intervalInSlot);
    }
  }

  /** Runs the duties of one interval (public so tests can drive the loop without timers). */
  onInterval(slot: number, intervalInSlot: number): void {
    if (slot < 0) return;
    if (intervalInSlot === PROPOSE_INTERVAL) {
      this.prune(slot);
      this.spawn(this.propose(slot));
      // An early head may have arrived before this boundary was serviced.
      const head = this.o.heads.firstHeadForSlot(slot);
      if (head !== undefined) this.onHead(head);
    } else if (intervalInSlot === ATTEST_INTERVAL) {
      if (!this.attesting.has(slot)) this.spawn(this.attest(slot, "interval"));
    } else if (intervalInSlot === ATTEST_INTERVAL + 1) {
      // Keep the next window's duties ready so interval 0 never waits for a look-up.
      this.spawn(this.prefetchDuties(slot + 1));
    }
  }

  /** A head event from the monitor: the first one for the current slot may trigger attesting. */
  onHead(h: HeadUpdate): void {
    if (!this.running) return;
    const slot = this.o.clock.currentSlot();
    if (h.slot !== slot || this.attesting.has(slot)) return;
    if (this.o.heads.laggingUrls().has(h.url)) return;
    // A node whose early data did not match its head (or failed) is not asked again this slot,
    // however many head events it repeats.
    const tried = `${slot}:${h.url}`;
    if (this.earlyTried.has(tried)) return;
    this.earlyTried.add(tried);
    this.spawn(this.attest(slot, "head", h));
  }

  /** A chain_reorg: duties and attestation data derived from the old head are stale. */
  onReorg(r: ReorgUpdate): void {
    this.counters.reorgs++;
    this.reorgGeneration++;
    this.duties.invalidate();
    this.o.logger.info("chain reorg: duties invalidated", { url: r.url, slot: r.slot, depth: r.depth });
    if (this.running) this.spawn(this.prefetchDuties(Math.max(0, this.o.clock.currentSlot()), "reorg"));
  }

  private spawn(task: Promise<void>): void {
    this.tasks.add(task);
    const done = () => this.tasks.delete(task);
    task.then(done, (err: unknown) => {
      done();
      this.o.logger.error("duty task failed", undefined, err);
    });
  }

  private prune(slot: number): void {
    this.duties.prune(slot);
    for (const s of this.attesting.keys()) if (s < slot - 2) this.attesting.delete(s);
    for (const s of this.proposing) if (s < slot - 2) this.proposing.delete(s);
    // Only the current slot's early tries matter.
    for (const key of this.earlyTried) if (!key.startsWith(`${slot}:`)) this.earlyTried.delete(key);
  }

  private async prefetchDuties(slot: number, cause = "window"): Promise<void> {
    if (this.duties.peek(slot) !== undefined) return;
    try {
      await this.duties.get(slot, cause);
    } catch (err) {
      this.o.logger.warn("duty look-up failed", { slot, error: describe(err) });
    }
  }

  // ---- attesting ---------------------------------------------------------------------------

  private async attest(slot: number, source: AttestationSource, head?: HeadUpdate): Promise<void> {
    this.attesting.set(slot, source);
    let outcome: "done" | "retry" = "retry";
    try {
      outcome = await this.attestOnce(slot, source, head);
    } finally {
      if (outcome === "done") this.attesting.set(slot, "done");
      else this.attesting.delete(slot);
    }
    // The early path gave up (root mismatch, node failed): if the attestation interval has
    // already passed, nothing else will run this slot's duty, so fall back now.
    if (outcome === "retry" && source === "head" && this.running && this.pastAttestInterval(slot)) {
      await this.attest(slot, "interval");
    }
  }

  private pastAttestInterval(slot: number): boolean {
    const clock = this.o.clock;
    return clock.now() >= clock.startMsOfInterval(clock.intervalOf(slot, ATTEST_INTERVAL));
  }

  private async attestOnce(slot: number, source: AttestationSource, head?: HeadUpdate): Promise<"done" | "retry"> {
    const { metrics, logger } = this.o;
    let duties: number[];
    try {
      duties = (await this.duties.get(slot)).attesters;
    } catch (err) {
      if (source === "head") return "retry";
      metrics.attestationsFailed.inc({ reason: "duties" }, this.keys.size);
      this.counters.attestationsFailed += this.keys.size;
      logger.warn("no duties for slot: not attesting", { slot, error: describe(err) });
      return "done";
    }
    if (duties.length === 0) return "done";

    let fetched: { data: AttestationDataValue; url: string };
    try {
      fetched = await this.fetchAttestationData(slot, head);
    } catch (err) {
      if (source === "head") {
        logger.debug("early attestation skipped", { slot, url: head?.url, reason: describe(err) });
        return "retry";
      }
      metrics.attestationsFailed.inc({ reason: "attestation_data" }, duties.length);
      this.counters.attestationsFailed += duties.length;
      logger.warn("no attestation data: not attesting", { slot, error: describe(err) });
      return "done";
    }
    const { data, url } = fetched;

    const signingRoot = this.o.domains.attestationSigningRoot(data);
    const signers = duties.map((i) => this.keys.get(i)).filter((k): k is ValidatorKey => k !== undefined);
    let checks: SlashingCheck[];
    try {
      checks = await this.o.protection.checkAndRecordMany(
        "attestation",
        signers.map((k) => ({ pubkey: k.pubkey, slot, signingRoot })),
      );
    } catch (err) {
      metrics.attestationsFailed.inc({ reason: "slashing_protection_error" }, signers.length);
      this.counters.attestationsFailed += signers.length;
      logger.error("slashing protection failed: not attesting", { slot }, err);
      return "done";
    }
    const signed: SignedAttestationValue[] = [];
    let refused = 0;
    signers.forEach((k, i) => {
      const check = checks[i];
      if (check === undefined) return;
      if (check.status === "refused") {
        refused++;
        this.refusal("attestation", check, k.index);
        return;
      }
      signed.push(signAttestation(k.secretKey, k.index, data, this.o.domains));
    });
    if (refused > 0) {
      metrics.attestationsFailed.inc({ reason: "slashing_protection" }, refused);
      this.counters.attestationsFailed += refused;
    }
    let published = 0;
    if (signed.length > 0) {
      try {
        // The node that served the data first: it already has the head the votes point at.
        const result = await this.o.nodes.first(
          "publish attestations",
          (c) => c.call(publishAttestationsRoute, signed),
          { prefer: url },
        );
        published = signed.length;
        metrics.attestationsPublished.inc({ source }, published);
        this.counters.attestationsPublished += published;
        logger.debug("attestations published", { slot, source, via: result.url, count: published });
      } catch (err) {
        metrics.attestationsFailed.inc({ reason: "publish" }, signed.length);
        this.counters.attestationsFailed += signed.length;
        logger.warn("attestations not published", { slot, error: describe(err) });
      }
    }
    this.record({ slot, source, url, headRoot: toHex(data.head.root), published, refused });
    return "done";
  }

  /**
   * Attestation data for `slot`: from the head's node when early (its head root must be the one
   * the event announced), else from the best node. Data fetched before a reorg is fetched again.
   */
  private async fetchAttestationData(
    slot: number,
    head?: HeadUpdate,
  ): Promise<{ data: AttestationDataValue; url: string }> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const generation = this.reorgGeneration;
      const fetched = await fetchAttestationData(this.o.nodes, slot, head);
      if (generation === this.reorgGeneration) return fetched;
    }
    throw new Error("reorgs kept replacing the head while fetching attestation data");
  }

  private record(r: AttestationRecord): void {
    this.records.push(r);
    if (this.records.length > KEEP_RECORDS) this.records.splice(0, this.records.length - KEEP_RECORDS);
  }

  // ---- proposing ---------------------------------------------------------------------------

  private async propose(slot: number): Promise<void> {
    if (this.proposing.has(slot)) return;
    this.proposing.add(slot);
    const { metrics, logger } = this.o;
    let proposer: number | null;
    try {
      proposer = (await this.duties.get(slot)).proposer;
    } catch (err) {
      logger.warn("no duties for slot: cannot tell whether to propose", { slot, error: describe(err) });
      return;
    }
    if (proposer === null) return;
    const key = this.keys.get(proposer);
    if (key === undefined) return;
    const fail = (reason: string, err: unknown) => {
      metrics.blocksFailed.inc({ reason });
      this.counters.blocksFailed++;
      logger.warn("block proposal failed", { slot, proposer, reason, error: describe(err) });
    };

    let produced: { block: BlockValue; attestationSignatures: Uint8Array[]; url: string };
    try {
      produced = await fetchProducedBlock(this.o.nodes, this.o.domains, slot, proposer);
    } catch (err) {
      fail("produce", err);
      return;
    }
    const signingRoot = this.o.domains.blockSigningRoot(produced.block);
    let check: SlashingCheck;
    try {
      check = await this.o.protection.checkAndRecord("block", { pubkey: key.pubkey, slot, signingRoot });
    } catch (err) {
      fail("slashing_protection_error", err);
      return;
    }
    if (check.status === "refused") {
      this.refusal("block", check, proposer);
      fail("slashing_protection", check.detail);
      return;
    }
    const proposerSignature = key.secretKey.sign(signingRoot).toBytes();
    // The full aggregate, so any node can import it, not only the one that built it.
    const signature = aggregateSignatureBytes([proposerSignature, ...produced.attestationSignatures]);
    const body = { block: produced.block, signature };
    try {
      const result = await this.o.nodes.first("publish block", (c) => c.call(publishBlockRoute, body), {
        prefer: produced.url,
      });
      metrics.blocksPublished.inc();
      this.counters.blocksPublished++;
      logger.info("block published", {
        slot,
        proposer,
        root: shortRoot(Block.hashTreeRoot(produced.block)),
        via: result.url,
        attestations: produced.block.body.attestations.length,
      });
    } catch (err) {
      fail("publish", err);
    }
  }

  private refusal(kind: SignKind, check: Extract<SlashingCheck, { status: "refused" }>, index: number): void {
    this.o.metrics.slashingRefusals.inc({ duty: kind, reason: check.reason });
    this.counters.slashingRefusals++;
    this.o.logger.warn("slashing protection refused to sign", { duty: kind, validator: index, detail: check.detail });
  }
}

function describe(err: unknown): string {
  if (err instanceof AllBeaconNodesFailedError || err instanceof Error) return err.message;
  return String(err);
}
