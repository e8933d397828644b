// Application-level peer score: what gossipsub cannot see (req/resp abuse) costs a peer points
// here, in the spirit of Lodestar's network/peers/score. The score decays back toward 0; below
// DISCONNECT_APP_SCORE the peer is disconnected. It also feeds gossipsub's P5 (APP_SCORE_WEIGHT),
// so a peer that abuses req/resp loses gossip privileges on the same scale. A peer disconnected
// for its score is banned: refused on dial and on inbound connection for BAN_COOLDOWN_MS.
// Pure logic, the clock injected; the network host does the disconnecting.

export const PEER_ACTIONS = [
  "rate_limited",
  "invalid_request",
  "malformed_response",
  "oversized_response",
  "unwanted_gossip",
] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];

/**
 * Points lost per event. Rate-limit hits happen to an honest peer syncing hard, so ten of them
 * (within a half-life) disconnect; a malformed response is never honest, so two do.
 */
export const PEER_ACTION_PENALTY: Readonly<Record<PeerAction, number>> = {
  rate_limited: -2,
  invalid_request: -5,
  malformed_response: -10,
  oversized_response: -20,
  // A gossip message an honest peer never forwards but that is not provably invalid (a vote more
  // than a slot ahead of our clock: the sender's own clock would have dropped it). Gossipsub gets an
  // IGNORE, which costs nothing, so without this a peer could keep the node busy with them for
  // ever. Twenty within a half-life disconnect (Lighthouse charges its low-tolerance penalty for
  // these), so a peer whose clock is off by more than a slot is cut off and a stray is forgiven.
  unwanted_gossip: -1,
};

/** A count of zero for every action, in PEER_ACTIONS order. */
export function emptyPenaltyCounts(): Record<PeerAction, number> {
  return Object.fromEntries(PEER_ACTIONS.map((action) => [action, 0])) as Record<PeerAction, number>;
}

/** Floor of the score: the worst a peer can be, so recovery time is bounded too. */
export const MIN_APP_SCORE = -100;
/** At or below this, the peer is disconnected and banned. */
export const DISCONNECT_APP_SCORE = -20;
/** Lodestar's half-life: a peer penalised by mistake is forgiven within the hour. */
export const APP_SCORE_HALF_LIFE_MS = 10 * 60_000;
/** How long a peer disconnected for its score is refused (dial and inbound). */
export const BAN_COOLDOWN_MS = 10 * 60_000;
/**
 * Peers with a score entry (and, separately, bans). An entry is a peer id and two numbers, about
 * 200 bytes, so the count cap bounds the store at about 1 MiB; the least recently touched entry is
 * evicted (and counted) when full.
 */
export const MAX_SCORED_PEERS = 4096;

export const SCORE_DISCONNECT_REASONS = ["gossip_score", "app_score"] as const;
export type ScoreDisconnectReason = (typeof SCORE_DISCONNECT_REASONS)[number];

/** A peer's decaying score and how many of each penalty it took (for the ban's log line). */
type Entry = {
  score: number;
  updatedMs: number;
  actions: Partial<Record<PeerAction, number>>;
  /** What the last penalised event was, when the caller said (cut to MAX_DETAIL_CHARS). */
  lastDetail?: string;
};

/** A penalty's detail is a peer-influenced error message: kept short so the store stays small. */
const MAX_DETAIL_CHARS = 160;

export type PeerScoreStats = {
  penalties: Record<PeerAction, number>;
  disconnects: Record<ScoreDisconnectReason, number>;
  bannedNow: number;
  /** Dials and inbound connections refused because the peer is banned. */
  refusedConnections: number;
  evictions: number;
};

export class PeerScoreStore {
  private readonly now: () => number;
  private readonly scores = new Map<string, Entry>();
  private readonly bans = new Map<string, number>();
  private readonly stats: PeerScoreStats = {
    penalties: emptyPenaltyCounts(),
    disconnects: { gossip_score: 0, app_score: 0 },
    bannedNow: 0,
    refusedConnections: 0,
    evictions: 0,
  };

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Applies the penalty for `action`; returns the peer's new score. */
  apply(peer: string, action: PeerAction, detail?: string): number {
    this.stats.penalties[action]++;
    const score = Math.max(MIN_APP_SCORE, this.score(peer) + PEER_ACTION_PENALTY[action]);
    const entry: Entry = this.scores.get(peer) ?? { score: 0, updatedMs: 0, actions: {} };
    entry.score = score;
    entry.updatedMs = this.now();
    entry.actions[action] = (entry.actions[action] ?? 0) + 1;
    if (detail !== undefined) entry.lastDetail = detail.slice(0, MAX_DETAIL_CHARS);
    this.scores.delete(peer); // re-inserted last: the map's order is least recently touched first
    this.scores.set(peer, entry);
    this.evictOverflow(this.scores);
    return score;
  }

  /** The decayed score (0 for a peer never penalised). */
  score(peer: string): number {
    const entry = this.scores.get(peer);
    if (entry === undefined) return 0;
    const elapsed = Math.max(0, this.now() - entry.updatedMs);
    const decayed = entry.score * 0.5 ** (elapsed / APP_SCORE_HALF_LIFE_MS);
    return Math.abs(decayed) < 0.01 ? 0 : decayed;
  }

  /**
   * The penalties a peer has taken since its entry was made, e.g. "rate_limited x10" ("" if none):
   * the operator's answer to "why was this peer banned?".
   */
  penaltySummary(peer: string): string {
    const entry = this.scores.get(peer);
    const actions = entry?.actions ?? {};
    const counts = PEER_ACTIONS.filter((a) => (actions[a] ?? 0) > 0)
      .map((a) => `${a} x${actions[a]}`)
      .join(", ");
    return entry?.lastDetail === undefined ? counts : `${counts}; last: ${entry.lastDetail}`;
  }

  /**
   * Compared in whole points: four -5 penalties a few seconds apart have decayed to -19.99, and
   * must still count as reaching -20.
   */
  shouldDisconnect(peer: string): boolean {
    return Math.round(this.score(peer)) <= DISCONNECT_APP_SCORE;
  }

  /** Records a disconnection for `reason` and bans the peer for BAN_COOLDOWN_MS. */
  ban(peer: string, reason: ScoreDisconnectReason): void {
    this.stats.disconnects[reason]++;
    this.bans.delete(peer);
    this.bans.set(peer, this.now() + BAN_COOLDOWN_MS);
    this.evictOverflow(this.bans);
  }

  isBanned(peer: string): boolean {
    const until = this.bans.get(peer);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.bans.delete(peer);
    return false;
  }

  /** The connection gater's question; a refusal is counted. */
  refuses(peer: string): boolean {
    const banned = this.isBanned(peer);
    if (banned) this.stats.refusedConnections++;
    return banned;
  }

  snapshot(): PeerScoreStats {
    const now = this.now();
    let bannedNow = 0;
    for (const until of this.bans.values()) if (until > now) bannedNow++;
    return {
      penalties: { ...this.stats.penalties },
      disconnects: { ...this.stats.disconnects },
      bannedNow,
      refusedConnections: this.stats.refusedConnections,
      evictions: this.stats.evictions,
    };
  }

  private evictOverflow(map: Map<string, unknown>): void {
    while (map.size > MAX_SCORED_PEERS) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
      this.stats.evictions++;
    }
  }
}
