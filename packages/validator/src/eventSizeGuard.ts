// The per-event byte cap of an SSE stream, enforced on the raw bytes before anything is decoded.

const LF = 0x0a;
const CR = 0x0d;

/**
 * Tracks the size of the event being received on the raw bytes: the bytes since the last blank
 * line (the SSE event terminator), so one endless line and an endless run of data: lines are
 * both caught. Line terminators are not counted; CRLF counts as one terminator.
 */
export class EventSizeGuard {
  private readonly maxBytes: number;
  private eventBytes = 0;
  private atLineStart = true;
  private afterCR = false;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Feeds a chunk; returns -1, or the offset of the first byte past the cap (the event is then too large). */
  overflowAt(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (byte === LF || byte === CR) {
        if (byte === LF && this.afterCR) {
          this.afterCR = false;
          continue;
        }
        this.afterCR = byte === CR;
        if (this.atLineStart) this.eventBytes = 0;
        this.atLineStart = true;
        continue;
      }
      this.afterCR = false;
      this.atLineStart = false;
      if (++this.eventBytes > this.maxBytes) return i;
    }
    return -1;
  }
}
