// The flooder: one or more gossip peers of the target (floodPeers.ts: own identities, the devnet's
// fork digest) publishing at a steady total rate in a chosen mix, spread over the identities in
// turn (sybil.ts). Payloads come ready-made from a worker (payloadPools.ts); the main thread only
// picks the kind and the identity, publishes and counts.
//
// Exact duplicates need a second identity: gossipsub refuses to publish bytes it has already seen,
// and in a real network a node receives the same message again from other mesh peers. So another
// identity (or, with one identity, an "echo" host) re-publishes recent payloads.
import { type ChainSnapshot, fetchChainSnapshot } from "./chainView.ts";
import { ECHO, type FloodPeerStats, FloodPeers } from "./floodPeers.ts";
import { FLOOD_KINDS, type FloodKind, type FloodMix, MixPicker } from "./mix.ts";
import type { FactoryKind, FloodPayload, FloodTopic } from "./payloadData.ts";
import type { PayloadFactoryStats } from "./payloadFactory.ts";
import { FACTORY_KINDS, PayloadPools, type PoolStats, perKind } from "./payloadPools.ts";
import { RateScheduler, type RateSchedulerStats } from "./rateScheduler.ts";
import { RecentRing } from "./recentRing.ts";
import { PeerRotation, perPeerRate } from "./sybil.ts";

export interface FlooderOptions {
  /** The target's libp2p multiaddr, ending in /p2p/<peer id>. */
  target: string;
  /** The target's HTTP API, e.g. http://127.0.0.1:5052. */
  httpUrl: string;
  forkDigest: Uint8Array;
  genesisTimeSec: number;
  slotDurationMs: number;
  validatorCount: number;
  attestationSubnetCount: number;
  subnet: number;
  /** Messages per second. */
  rate: number;
  mix: FloodMix;
  /** Distinct peer identities sharing the rate (default 1). */
  peers?: number;
  /** Progress line every this many ms (0: none). */
  reportEveryMs?: number;
  log?: (line: string) => void;
  /** The flooder pauses sending while its own RSS is above this (its send buffers are not bounded by libp2p). */
  maxRssBytes?: number;
}

export interface FloodCounters {
  sent: Record<FloodKind, number>;
  byTopic: Record<FloodTopic, number>;
  /** Scheduled messages of a kind whose pool was empty (not sent). */
  starved: Record<FloodKind, number>;
  /** Publishes that reached no peer (gossipsub refused a duplicate, or the target was not subscribed). */
  noRecipients: Record<FloodKind, number>;
  publishErrors: number;
  /** Scheduled messages skipped while the flooder's own memory was over its cap. */
  pausedForMemory: number;
}

export interface FloodSummary {
  target: string;
  rate: number;
  /** Peer identities the rate was spread over, and each one's share. */
  peers: number;
  perPeerRate: number;
  /** Per identity (the echo host last, when there is one). */
  peerStats: FloodPeerStats[];
  mix: FloodMix;
  elapsedS: number;
  scheduled: number;
  sentTotal: number;
  achievedRate: number;
  counters: FloodCounters;
  scheduler: RateSchedulerStats;
  pools: PoolStats;
  factory: PayloadFactoryStats | null;
  snapshotsTaken: number;
  snapshotFailures: number;
  lastSnapshot: { head: number; justified: number; finalized: number; currentSlot: number } | null;
}

const DUPLICATE_RING = 2048;
/** Kinds whose bytes the echo host may repeat: the target never forwards them back, so they are fresh to it. */
const ECHOABLE: readonly FactoryKind[] = ["invalid_sig", "unknown_root", "future_slot", "malformed"];
const SNAPSHOT_DELAY_MS = 250;

function zeroKinds(): Record<FloodKind, number> {
  return Object.fromEntries(FLOOD_KINDS.map((k) => [k, 0])) as Record<FloodKind, number>;
}

export class Flooder {
  private readonly opts: FlooderOptions;
  private readonly log: (line: string) => void;
  private readonly picker: MixPicker;
  private readonly counters: FloodCounters = {
    sent: zeroKinds(),
    byTopic: { attestation: 0, aggregation: 0 },
    starved: zeroKinds(),
    noRecipients: zeroKinds(),
    publishErrors: 0,
    pausedForMemory: 0,
  };
  private pools: PayloadPools | null = null;
  private peers: FloodPeers | null = null;
  private readonly rotation: PeerRotation;
  private scheduler: RateScheduler | null = null;
  private snapshot: ChainSnapshot | null = null;
  private snapshotsTaken = 0;
  private snapshotFailures = 0;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private reportTimer: NodeJS.Timeout | null = null;
  private memoryTimer: NodeJS.Timeout | null = null;
  private overMemory = false;
  private readonly recent = new RecentRing<{ payload: FloodPayload; sender: number }>(DUPLICATE_RING);
  private stopped = false;

  constructor(opts: FlooderOptions) {
    if (!(opts.rate > 0)) throw new RangeError(`rate must be > 0, got ${opts.rate}`);
    this.opts = opts;
    this.log = opts.log ?? ((line) => console.log(line));
    this.picker = new MixPicker(opts.mix);
    this.rotation = new PeerRotation(opts.peers ?? 1);
  }

  /** Reads the target's chain, joins as a peer and waits until the target is subscribed to us. */
  async start(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.snapshot === null) {
      await this.refreshSnapshot();
      if (this.snapshot !== null) break;
      if (Date.now() > deadline) throw new Error(`the target's API at ${this.opts.httpUrl} did not answer`);
      await sleep(500);
    }
    const total = FLOOD_KINDS.reduce((sum, k) => sum + this.opts.mix[k], 0);
    const ratePerKind = Object.fromEntries(
      FACTORY_KINDS.map((k) => {
        // Duplicates are taken from the echoable kinds' payloads, so those pools carry their rate too.
        const echoShare = ECHOABLE.includes(k) ? this.opts.mix.duplicate / ECHOABLE.length : 0;
        return [k, (this.opts.rate * (this.opts.mix[k] + echoShare)) / total];
      }),
    ) as Record<FactoryKind, number>;
    this.pools = new PayloadPools(
      { validatorCount: this.opts.validatorCount, forkDigest: this.opts.forkDigest },
      ratePerKind,
    );
    this.pools.setSnapshot(this.snapshot as ChainSnapshot);

    const peerCount = this.opts.peers ?? 1;
    this.peers = new FloodPeers({
      target: this.opts.target,
      forkDigest: this.opts.forkDigest,
      attestationSubnetCount: this.opts.attestationSubnetCount,
      subnet: this.opts.subnet,
      peers: peerCount,
      echo: this.opts.mix.duplicate > 0 && peerCount === 1,
      status: () => {
        const s = this.snapshot as ChainSnapshot;
        return { finalized: s.finalized, head: s.head };
      },
    });
    await this.peers.start(deadline);
    await this.pools.prefill(64, Math.max(1_000, Math.min(10_000, deadline - Date.now())));
    this.scheduleSnapshots();
  }

  /** Starts sending; resolves immediately. */
  run(): void {
    if (this.scheduler !== null || this.stopped) return;
    this.scheduler = new RateScheduler({ rate: this.opts.rate, send: (n) => this.send(n) });
    this.scheduler.start();
    const every = this.opts.reportEveryMs ?? 5_000;
    if (every > 0) this.reportTimer = setInterval(() => this.report(), every);
    this.memoryTimer = setInterval(() => {
      this.overMemory = process.memoryUsage.rss() > (this.opts.maxRssBytes ?? 2 * 2 ** 30);
    }, 1_000);
  }

  async stop(): Promise<FloodSummary> {
    this.stopped = true;
    this.scheduler?.stop();
    for (const timer of [this.snapshotTimer, this.reportTimer, this.memoryTimer]) if (timer) clearInterval(timer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    const factory = (await this.pools?.factoryStats()) ?? null;
    const summary = this.summary(factory);
    await Promise.all([this.peers?.stop(), this.pools?.close()]);
    return summary;
  }

  summary(factory: PayloadFactoryStats | null = null): FloodSummary {
    const scheduler = this.scheduler?.stats() ?? {
      scheduled: 0,
      sent: 0,
      behind: 0,
      elapsedMs: 0,
      achievedRate: 0,
      ticks: 0,
    };
    const s = this.snapshot;
    const peers = this.opts.peers ?? 1;
    return {
      target: this.opts.target,
      rate: this.opts.rate,
      peers,
      perPeerRate: perPeerRate(this.opts.rate, peers),
      peerStats: this.peers?.stats() ?? [],
      mix: this.opts.mix,
      elapsedS: scheduler.elapsedMs / 1000,
      scheduled: scheduler.scheduled,
      sentTotal: scheduler.sent,
      achievedRate: scheduler.achievedRate,
      counters: {
        ...this.counters,
        sent: { ...this.counters.sent },
        byTopic: { ...this.counters.byTopic },
        starved: { ...this.counters.starved },
        noRecipients: { ...this.counters.noRecipients },
      },
      scheduler,
      pools: this.pools?.stats() ?? {
        size: perKind(0),
        received: perKind(0),
        shortAnswers: perKind(0),
        workerErrors: 0,
      },
      factory,
      snapshotsTaken: this.snapshotsTaken,
      snapshotFailures: this.snapshotFailures,
      lastSnapshot:
        s === null
          ? null
          : {
              head: s.head.slot,
              justified: s.justified.slot,
              finalized: s.finalized.slot,
              currentSlot: s.currentSlot,
            },
    };
  }

  // ---- sending -----------------------------------------------------------------------------

  private send(count: number): number {
    if (this.overMemory) {
      this.counters.pausedForMemory += count;
      return 0;
    }
    let sent = 0;
    for (let i = 0; i < count; i++) {
      const kind = this.picker.next();
      if (kind === "duplicate" ? this.sendDuplicate() : this.sendFresh(kind)) {
        this.counters.sent[kind]++;
        sent++;
      } else {
        this.counters.starved[kind]++;
      }
    }
    return sent;
  }

  private sendFresh(kind: FactoryKind): boolean {
    const payload = this.pools?.take(kind) ?? null;
    if (payload === null || this.peers === null) return false;
    const sender = this.rotation.next();
    this.publish(sender, payload, kind);
    if (ECHOABLE.includes(kind)) this.recent.push({ payload, sender });
    return true;
  }

  private sendDuplicate(): boolean {
    // Newest first: the target's seen-cache certainly still holds it, which is the cheap case a
    // node must handle at line rate.
    const sent = this.peers === null ? undefined : this.recent.popNewest();
    if (sent === undefined) return false;
    const echo = this.rotation.echoFor(sent.sender) ?? ECHO;
    if (echo === ECHO && !this.peers?.hasEcho) return false;
    this.publish(echo, sent.payload, "duplicate");
    return true;
  }

  private publish(sender: number, payload: FloodPayload, kind: FloodKind): void {
    this.counters.byTopic[payload.topic]++;
    void this.peers?.publish(sender, payload.topic, payload.bytes).then((recipients) => {
      if (recipients === null) this.counters.publishErrors++;
      else if (recipients === 0) this.counters.noRecipients[kind]++;
    });
  }

  // ---- peers and chain view ----------------------------------------------------------------

  private currentSlot(): number {
    return Math.floor((Date.now() - this.opts.genesisTimeSec * 1000) / this.opts.slotDurationMs);
  }

  private async refreshSnapshot(): Promise<void> {
    const snapshot = await fetchChainSnapshot(this.opts.httpUrl, this.currentSlot());
    if (snapshot === null) {
      this.snapshotFailures++;
      return;
    }
    this.snapshot = snapshot;
    this.snapshotsTaken++;
    this.pools?.setSnapshot(snapshot);
  }

  /** A fresh chain view shortly after every slot start (the slot's block has had time to arrive). */
  private scheduleSnapshots(): void {
    if (this.stopped) return;
    const slotMs = this.opts.slotDurationMs;
    const sinceGenesis = Date.now() - this.opts.genesisTimeSec * 1000;
    const wait = slotMs - (((sinceGenesis % slotMs) + slotMs) % slotMs) + Math.min(SNAPSHOT_DELAY_MS, slotMs / 4);
    this.snapshotTimer = setTimeout(async () => {
      await this.refreshSnapshot();
      this.scheduleSnapshots();
    }, wait);
  }

  private report(): void {
    const s = this.summary();
    const kinds = FLOOD_KINDS.filter((k) => this.opts.mix[k] > 0)
      .map((k) => `${k}=${s.counters.sent[k]}${s.counters.starved[k] > 0 ? `(starved ${s.counters.starved[k]})` : ""}`)
      .join(" ");
    const snap = s.lastSnapshot;
    this.log(
      `flood t=${s.elapsedS.toFixed(0)}s sent ${s.sentTotal} at ${s.achievedRate.toFixed(0)}/s (target ${this.opts.rate}/s) ` +
        `${kinds} | topics att=${s.counters.byTopic.attestation} agg=${s.counters.byTopic.aggregation}` +
        (noRecipients(s) > 0 ? ` no_recipients=${noRecipients(s)}` : "") +
        (s.counters.publishErrors > 0 ? ` errors=${s.counters.publishErrors}` : "") +
        (snap ? ` | chain head ${snap.head} justified ${snap.justified} finalized ${snap.finalized}` : ""),
    );
  }
}

export function noRecipients(s: FloodSummary): number {
  return Object.values(s.counters.noRecipients).reduce((a, b) => a + b, 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
