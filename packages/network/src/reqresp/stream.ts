// The slice of a libp2p Stream that req/resp needs. libp2p's Stream satisfies it; tests could fake it.
import type { ByteChunk } from "./streamReader.ts";

export type AbortOptions = { signal?: AbortSignal };

export interface ReqRespStream extends AsyncIterable<ByteChunk> {
  send(data: Uint8Array): boolean;
  onDrain(options?: AbortOptions): Promise<void>;
  close(options?: AbortOptions): Promise<void>;
  abort(err: Error): void;
}

/** Writes with backpressure: waits for 'drain' whenever the transport's buffer is full. */
export async function writeChunk(stream: ReqRespStream, data: Uint8Array, signal?: AbortSignal): Promise<void> {
  if (!stream.send(data)) await stream.onDrain({ signal });
}

/** A timer that aborts a controller; `clear()` must run in a finally. */
export class Deadline {
  readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number, onExpire?: () => void) {
    this.timer = setTimeout(() => {
      this.controller.abort();
      onExpire?.();
    }, ms);
    // A deadline alone must not keep a stopped node's process alive.
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
