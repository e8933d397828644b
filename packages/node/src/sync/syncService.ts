// Sync: exchange Status with every peer, track IDLE/SYNCING/SYNCED, range-sync (BlocksByRange)
// towards the best peer's head when behind, and serve peers' Status/BlocksByRoot/BlocksByRange.
import { type Checkpoint, MAX_REQUEST_BLOCKS, rootKey, type SignedBlock, type Status } from "@metronome/chain";
import type { Logger } from "@metronome/common";
import type { INetwork } from "@metronome/network";
import type { BeaconChain } from "../chain/interface.ts";
import { type SyncState, SyncTracker } from "./syncState.ts";

/** Blocks asked per BlocksByRange request while catching up. */
export const RANGE_BATCH = 32;
/**
 * Failed or empty range requests in a row after which a peer's Status stops counting for the sync
 * state: it claims a chain it does not serve.
 */
export const UNSERVED_RANGE_LIMIT = 3;
/** How often each peer's Status is refreshed. */
const STATUS_REFRESH_MS = 8_000;

export type BlockSubmitter = (blocks: SignedBlock[], source: "blocks_by_range", peer: string) => Promise<void>;

export interface SyncServiceOptions {
  chain: BeaconChain;
  network: INetwork;
  logger: Logger;
  genesisStart: boolean;
  now?: () => number;
}

export class SyncService {
  readonly tracker: SyncTracker;
  readonly counters = {
    statusRequests: 0,
    statusFailures: 0,
    implausibleStatuses: 0,
    rangeRequests: 0,
    rangeFailures: 0,
    rangeBlocks: 0,
    discreditedPeers: 0,
  };
  /** Peers whose range request failed or came back empty rest before being asked again. */
  private readonly rangeBackoff = new Map<string, { until: number; failures: number }>();
  private readonly chain: BeaconChain;
  private readonly network: INetwork;
  private readonly logger: Logger;
  private readonly now: () => number;
  private submit: BlockSubmitter | null = null;
  private rangeInFlight = false;
  private readonly lastStatusAt = new Map<string, number>();
  private readonly statusInFlight = new Set<string>();
  private unsubscribe: (() => void)[] = [];
  private stopped = false;

  constructor(opts: SyncServiceOptions) {
    this.chain = opts.chain;
    this.network = opts.network;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.tracker = new SyncTracker(
      (from, to) => this.logger.info("sync state changed", { from, to }),
      opts.genesisStart,
    );
  }

  get state(): SyncState {
    return this.tracker.state;
  }

  /** Where range-synced blocks go: the driver's block queue (set once the ingress exists). */
  setBlockSubmitter(submit: BlockSubmitter): void {
    this.submit = submit;
  }

  ourStatus(): Status {
    return { finalized: this.chain.finalized, head: this.chain.head };
  }

  start(): void {
    this.network.setReqRespHandlers({
      status: () => this.ourStatus(),
      blocksByRoot: (roots) => this.serveByRoot(roots),
      blocksByRange: (start, count) => this.serveByRange(start, count),
      onPeerStatus: (peer, status) => this.onPeerStatus(peer, status),
    });
    this.unsubscribe.push(
      this.network.onPeerConnected((peer) => this.requestStatus(peer)),
      this.network.onPeerDisconnected((peer) => {
        this.lastStatusAt.delete(peer);
        this.rangeBackoff.delete(peer);
        this.tracker.onPeerDisconnected(peer);
      }),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  /** Called every driver pass: refresh stale statuses, start a range request when behind. */
  tick(): void {
    if (this.stopped) return;
    const now = this.now();
    for (const peer of this.network.peers()) {
      if (now - (this.lastStatusAt.get(peer) ?? 0) >= STATUS_REFRESH_MS) this.requestStatus(peer);
    }
    const head = this.chain.head.slot;
    this.tracker.checkGap(head);
    // Only credible peers open a gap: one that does not serve its claimed chain is still asked
    // (backed off) but cannot keep the node SYNCING.
    this.tracker.checkComplete(
      head,
      this.isBehind((peer) => this.tracker.isDiscredited(peer)),
    );
    if (!this.rangeInFlight && this.submit !== null && this.isBehind()) void this.rangeSyncStep();
  }

  /** Behind: the best peer's head is more than one slot ahead of ours. */
  isBehind(exclude: (peer: string) => boolean = () => false): boolean {
    const best = this.rangePeer(exclude);
    return (
      best !== null && best.status.head.slot > this.chain.head.slot + 1 && !this.chain.hasBlock(best.status.head.root)
    );
  }

  private onPeerStatus(peer: string, status: Status): void {
    this.lastStatusAt.set(peer, this.now());
    if (!this.tracker.onPeerStatus(peer, status, this.chain.head.slot, this.chain.storeSlot)) {
      this.counters.implausibleStatuses++;
      this.logger.debug("ignoring an impossible status", {
        peer,
        head: status.head.slot,
        finalized: status.finalized.slot,
      });
    }
  }

  private requestStatus(peer: string): void {
    if (this.statusInFlight.has(peer) || this.stopped) return;
    this.statusInFlight.add(peer);
    this.lastStatusAt.set(peer, this.now());
    this.counters.statusRequests++;
    this.network
      .status(peer)
      .then((status) => this.onPeerStatus(peer, status))
      .catch((err: unknown) => {
        this.counters.statusFailures++;
        this.logger.debug("status request failed", { peer, error: String(err) });
      })
      .finally(() => this.statusInFlight.delete(peer));
  }

  /** The best peer not resting after a failed or empty range request. */
  private rangePeer(exclude: (peer: string) => boolean = () => false): ReturnType<SyncTracker["bestPeer"]> {
    const now = this.now();
    return this.tracker.bestPeer((peer) => exclude(peer) || (this.rangeBackoff.get(peer)?.until ?? 0) > now);
  }

  private noteRangeResult(peer: string, useful: boolean): void {
    if (useful) {
      this.rangeBackoff.delete(peer);
      this.tracker.credit(peer);
      return;
    }
    const failures = (this.rangeBackoff.get(peer)?.failures ?? 0) + 1;
    if (failures >= UNSERVED_RANGE_LIMIT && !this.tracker.isDiscredited(peer)) {
      this.tracker.discredit(peer);
      this.counters.discreditedPeers++;
      this.logger.info("peer's status no longer counts for sync: it does not serve the blocks it claims", { peer });
    }
    // 1 s, 2 s, 4 s ... up to 64 s: a peer that promises blocks it cannot serve is asked rarely.
    this.rangeBackoff.set(peer, { until: this.now() + Math.min(64_000, 1000 * 2 ** (failures - 1)), failures });
  }

  private async rangeSyncStep(): Promise<void> {
    const best = this.rangePeer();
    const submit = this.submit;
    if (best === null || submit === null) return;
    this.rangeInFlight = true;
    // Right above our head: if our head sits on another fork, the first block's parent is unknown,
    // it parks as an orphan and the fetcher walks its ancestry back by root.
    const start = this.chain.head.slot + 1;
    const count = Math.min(RANGE_BATCH, MAX_REQUEST_BLOCKS, best.status.head.slot - start + 1);
    try {
      this.counters.rangeRequests++;
      const blocks = await this.network.blocksByRange(best.peer, start, Math.max(1, count));
      this.counters.rangeBlocks += blocks.length;
      this.noteRangeResult(best.peer, blocks.length > 0);
      if (blocks.length > 0) await submit(blocks, "blocks_by_range", best.peer);
    } catch (err) {
      this.counters.rangeFailures++;
      this.noteRangeResult(best.peer, false);
      this.logger.debug("range request failed", { peer: best.peer, start, error: String(err) });
    } finally {
      this.rangeInFlight = false;
    }
  }

  // ---- serving peers ---------------------------------------------------------------------

  private async serveByRoot(roots: Uint8Array[]): Promise<SignedBlock[]> {
    const out: SignedBlock[] = [];
    for (const root of roots) {
      const block = await this.chain.signedBlock(root);
      if (block !== null) out.push(block);
    }
    return out;
  }

  private async serveByRange(start: number, count: number): Promise<SignedBlock[]> {
    const chain = this.chain;
    const end = start + count;
    const roots: { slot: number; root: Uint8Array }[] = [];
    const finalized = chain.finalized;
    if (start <= finalized.slot)
      roots.push(...(await chain.finalizedRoots(start, Math.min(end, finalized.slot + 1) - start)));
    // Above finality: the canonical chain is the head's ancestry in the fork-choice store.
    const recent: Checkpoint[] = [];
    let cursor: Checkpoint | undefined = chain.head;
    while (cursor !== undefined && cursor.slot > finalized.slot) {
      if (cursor.slot >= start && cursor.slot < end) recent.push(cursor);
      const block = chain.getBlock(cursor.root);
      if (block === undefined) break;
      cursor =
        block.slot === 0 ? undefined : { root: block.parentRoot, slot: chain.getBlock(block.parentRoot)?.slot ?? -1 };
    }
    recent.reverse();
    const seen = new Set(roots.map((r) => rootKey(r.root)));
    for (const c of recent) if (!seen.has(rootKey(c.root))) roots.push({ slot: c.slot, root: c.root });
    roots.sort((a, b) => a.slot - b.slot);
    const out: SignedBlock[] = [];
    for (const { root } of roots) {
      const block = await this.chain.signedBlock(root);
      if (block !== null) out.push(block);
    }
    return out;
  }
}
