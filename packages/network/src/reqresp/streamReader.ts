// Pull-based reader over a libp2p stream's async iterator. It keeps ONE iterator for the whole
// exchange so no bytes fall between reads, and buffers only what the caller has not consumed yet.
import { Uint8ArrayList } from "uint8arraylist";
import { NetworkError, NetworkErrorCode } from "../errors.ts";

/** What libp2p streams yield. Structural, because libp2p may bundle its own uint8arraylist copy. */
export type ByteChunk = Uint8Array | { readonly byteLength: number; subarray(): Uint8Array };

export class StreamReader {
  readonly buffer = new Uint8ArrayList();
  private readonly iterator: AsyncIterator<ByteChunk>;
  private ended = false;

  constructor(source: AsyncIterable<ByteChunk>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Pulls one more chunk into the buffer; false once the source has ended. */
  async pull(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done === true) {
      this.ended = true;
      return false;
    }
    const chunk = next.value;
    this.buffer.append(chunk instanceof Uint8Array ? chunk : chunk.subarray());
    return true;
  }

  /** Whether any byte is left: pulls only if none is buffered; false once the source has ended. */
  async hasMore(): Promise<boolean> {
    while (this.buffer.byteLength === 0) {
      if (!(await this.pull())) return false;
    }
    return true;
  }

  /** Pulls until at least `n` bytes are buffered; STREAM_ENDED if the source ends first. */
  async require(n: number): Promise<void> {
    while (this.buffer.byteLength < n) {
      if (!(await this.pull())) {
        throw new NetworkError(NetworkErrorCode.STREAM_ENDED, `stream ended with ${this.buffer.byteLength}/${n} bytes`);
      }
    }
  }

  /** Stops listening to the stream; anything the peer sends afterwards stays in libp2p's capped buffer. */
  async release(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.iterator.return?.();
  }
}
