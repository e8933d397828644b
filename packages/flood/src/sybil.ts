// How a flood is spread over several peer identities (`metronome flood --peers N`): one schedule
// at the total rate, each message published by the next identity in turn, so every identity sends
// rate / N, evenly spread, and the target sees N moderate peers instead of one loud one. A
// duplicate is re-sent by the next identity in turn other than the one that first sent it
// (gossipsub refuses to publish bytes it has already seen, and a node does receive repeats from
// other peers).

/** Largest --peers: each identity is a libp2p host with its own connection to the target. */
export const MAX_FLOOD_PEERS = 64;

/** Messages per second each of `peers` identities sends at a total `rate`. */
export function perPeerRate(rate: number, peers: number): number {
  checkPeerCount(peers);
  return rate / peers;
}

export function checkPeerCount(peers: number): void {
  if (!Number.isInteger(peers) || peers < 1 || peers > MAX_FLOOD_PEERS) {
    throw new RangeError(`--peers must be an integer from 1 to ${MAX_FLOOD_PEERS}, got ${peers}`);
  }
}

/** Round-robin over `count` identities. */
export class PeerRotation {
  private readonly count: number;
  private cursor = 0;

  constructor(count: number) {
    checkPeerCount(count);
    this.count = count;
  }

  /** The identity that sends the next fresh message. */
  next(): number {
    const i = this.cursor;
    this.cursor = (this.cursor + 1) % this.count;
    return i;
  }

  /**
   * The identity that echoes a message first sent by `sender`: the next in turn, skipping the
   * sender, so echoes keep every identity's share even; null with one identity (a single-identity
   * flood needs a separate echo host).
   */
  echoFor(sender: number): number | null {
    if (this.count < 2) return null;
    const next = this.next();
    return next === sender ? this.next() : next;
  }
}
