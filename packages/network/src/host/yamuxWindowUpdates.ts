// @chainsafe/libp2p-yamux 8 answers every data frame it receives with a WINDOW_UPDATE frame: one
// noise-encrypted socket write per gossip message received. Under a gossip flood those writes were
// the main thread's largest single cost (10 of 60 busy seconds in a profile of the flooded node).
// go-yamux and rust-yamux send an update only once half the window has been consumed; the yamux
// spec leaves the moment to the receiver. This makes the JS streams do the same. It reaches into
// the library's internals (version pinned): if their shape changes it patches nothing and returns
// false, and a test fails loudly.
import { StreamState, YamuxStream } from "@chainsafe/libp2p-yamux/stream";

interface WindowInternals {
  state: StreamState;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate(): void;
}

const PATCHED = Symbol.for("metronome.yamuxHalfWindowUpdates");

/**
 * Whether an established stream should hold its window update back: less than half of its
 * receive window has been used since the last one, so the sender still has at least half to go.
 */
export function shouldDeferWindowUpdate(
  stream: Pick<WindowInternals, "state" | "recvWindow" | "recvWindowCapacity">,
): boolean {
  return (
    stream.state === StreamState.Established && stream.recvWindow - stream.recvWindowCapacity < stream.recvWindow / 2
  );
}

/**
 * Patches YamuxStream once per process. Streams in any other state (opening, paused, finished)
 * keep the library's behaviour: those updates carry flags or resume a paused sender.
 */
export function sendWindowUpdatesAtHalfWindow(): boolean {
  const proto = YamuxStream.prototype as unknown as Partial<WindowInternals> & { [PATCHED]?: true };
  if (proto[PATCHED] === true) return true;
  const original = proto.sendWindowUpdate;
  if (typeof original !== "function") return false;
  proto.sendWindowUpdate = function (this: WindowInternals): void {
    if (
      typeof this.recvWindow === "number" &&
      typeof this.recvWindowCapacity === "number" &&
      shouldDeferWindowUpdate(this)
    ) {
      return;
    }
    original.call(this);
  };
  proto[PATCHED] = true;
  return true;
}
