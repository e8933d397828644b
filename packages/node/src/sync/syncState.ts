// IDLE / SYNCING / SYNCED as leanSpec node/sync (PROTOCOL.md section 6). Pure state: peers'
// Status messages in, a state and a range-sync target out.
import type { Status } from "@metronome/chain";

export const SyncState = { IDLE: "IDLE", SYNCING: "SYNCING", SYNCED: "SYNCED" } as const;
export type SyncState = (typeof SyncState)[keyof typeof SyncState];

/** Peers remembered as not serving what they claim (outlives a reconnect; oldest forgotten first). */
const MAX_DISCREDITED_PEERS = 1024;

/** Tracks the Status of connected peers (bounded by the connection limit: entries die with peers). */
export class SyncTracker {
  private readonly statuses = new Map<string, Status>();
  /**
   * Peers whose claimed chain could not be fetched from them (range sync found nothing there):
   * their Status no longer counts for the sync state, so a peer's word alone cannot hold the node
   * in SYNCING. Credited again as soon as they serve blocks.
   */
  private readonly discredited = new Set<string>();
  private current: SyncState = SyncState.IDLE;
  private readonly onChange: (from: SyncState, to: SyncState) => void;

  /**
   * A node starting from genesis already holds the full genesis state, so it starts SYNCING and
   * processes gossip without waiting for a peer's Status (leanSpec genesis_start).
   */
  constructor(onChange: (from: SyncState, to: SyncState) => void = () => {}, genesisStart = false) {
    this.onChange = onChange;
    if (genesisStart) this.current = SyncState.SYNCING;
  }

  get state(): SyncState {
    return this.current;
  }

  get peerCount(): number {
    return this.statuses.size;
  }

  /** Gossip attestations and aggregates are processed only outside IDLE. */
  get acceptsAttestations(): boolean {
    return this.current !== SyncState.IDLE;
  }

  peerStatus(peer: string): Status | undefined {
    return this.statuses.get(peer);
  }

  /**
   * The finalized slot most peers report (leanSpec's peer manager), ties to the lower slot, or
   * null without peers: one peer lying about its finality cannot hold the node in SYNCING.
   */
  networkFinalizedSlot(): number | null {
    const votes = new Map<number, number>();
    for (const [peer, s] of this.statuses) {
      if (this.discredited.has(peer)) continue;
      votes.set(s.finalized.slot, (votes.get(s.finalized.slot) ?? 0) + 1);
    }
    let best: number | null = null;
    let bestVotes = 0;
    for (const [slot, n] of votes) {
      if (n > bestVotes || (n === bestVotes && best !== null && slot < best)) {
        best = slot;
        bestVotes = n;
      }
    }
    return best;
  }

  /** The peer with the highest head, to range-sync from, skipping peers `exclude` rules out. */
  bestPeer(exclude: (peer: string) => boolean = () => false): { peer: string; status: Status } | null {
    let best: { peer: string; status: Status } | null = null;
    for (const [peer, status] of this.statuses) {
      if (exclude(peer)) continue;
      if (best === null || status.head.slot > best.status.head.slot) best = { peer, status };
    }
    return best;
  }

  /**
   * Records a peer's Status. An impossible one (head in a slot that has not started, finality
   * above the head) is refused and the peer is forgotten: returns false.
   */
  onPeerStatus(peer: string, status: Status, headSlot: number, currentSlot = Number.POSITIVE_INFINITY): boolean {
    if (!(status.head.slot <= currentSlot + 1) || !(status.finalized.slot <= status.head.slot)) {
      this.statuses.delete(peer);
      return false;
    }
    this.statuses.set(peer, status);
    const networkFinalized = this.networkFinalizedSlot() ?? 0;
    if (this.current === SyncState.IDLE || networkFinalized > headSlot) this.transition(SyncState.SYNCING);
    return true;
  }

  /** The peer's claimed chain could not be fetched from it: its Status stops counting. */
  discredit(peer: string): void {
    this.discredited.delete(peer);
    this.discredited.add(peer);
    if (this.discredited.size > MAX_DISCREDITED_PEERS) {
      const oldest = this.discredited.values().next().value;
      if (oldest !== undefined) this.discredited.delete(oldest);
    }
  }

  /** The peer served blocks: its Status counts again. */
  credit(peer: string): void {
    this.discredited.delete(peer);
  }

  isDiscredited(peer: string): boolean {
    return this.discredited.has(peer);
  }

  onPeerDisconnected(peer: string): void {
    this.statuses.delete(peer);
    if (this.statuses.size === 0) this.transition(SyncState.IDLE);
  }

  /** SYNCING becomes SYNCED once the head reaches the network's finalized slot and no gap is open. */
  checkComplete(headSlot: number, gapOpen: boolean): void {
    if (this.current !== SyncState.SYNCING || gapOpen) return;
    const networkFinalized = this.networkFinalizedSlot();
    // Peers connected, all of them discredited: no credible claim is left to sync towards.
    const noCredibleClaim = networkFinalized === null && this.statuses.size > 0;
    if (noCredibleClaim || (networkFinalized !== null && headSlot >= networkFinalized)) {
      this.transition(SyncState.SYNCED);
    }
  }

  /** A synced node that learns of finality beyond its head has a gap again. */
  checkGap(headSlot: number): void {
    const networkFinalized = this.networkFinalizedSlot();
    if (this.current === SyncState.SYNCED && networkFinalized !== null && networkFinalized > headSlot) {
      this.transition(SyncState.SYNCING);
    }
  }

  private transition(to: SyncState): void {
    const from = this.current;
    // No self-transitions and no IDLE -> SYNCED shortcut (leanSpec).
    if (from === to || (from === SyncState.IDLE && to === SyncState.SYNCED)) return;
    this.current = to;
    this.onChange(from, to);
  }
}
