// Calls from the driver thread to the network worker: each gets an id, waits for its typed result,
// and fails with NOT_STARTED when the worker dies under it. Bounded: past MAX_PENDING_CALLS a new
// call fails at once instead of queueing behind a stuck worker.
import type { ErrorShape, ToWorker, WorkerCall, WorkerCallResult } from "../boundary/messages.ts";
import { reviveBlocks } from "../boundary/revive.ts";
import { NetworkError, NetworkErrorCode } from "../errors.ts";

/** Publishes and requests in flight at once; the node makes a few per slot, sync at most 32. */
export const MAX_PENDING_CALLS = 4096;

type Waiter = { op: WorkerCall["op"]; resolve: (value: unknown) => void; reject: (err: Error) => void };

export class WorkerCalls {
  private readonly pending = new Map<number, Waiter>();
  private nextId = 1;
  refused = 0;

  /** Sends `call` with `post` (null while no worker runs) and resolves to its result. */
  call<C extends WorkerCall>(post: ((m: ToWorker) => void) | null, call: C): Promise<WorkerCallResult[C["op"]]> {
    if (post === null) {
      return Promise.reject(new NetworkError(NetworkErrorCode.NOT_STARTED, "network worker is not running"));
    }
    if (this.pending.size >= MAX_PENDING_CALLS) {
      this.refused++;
      return Promise.reject(new NetworkError(NetworkErrorCode.TIMEOUT, "too many network calls in flight"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { op: call.op, resolve: resolve as (value: unknown) => void, reject });
      post({ type: "call", id, call });
    });
  }

  resolve(id: number, value: unknown): void {
    const waiter = this.take(id);
    if (waiter === undefined) return;
    const blocks = waiter.op === "blocksByRoot" || waiter.op === "blocksByRange";
    waiter.resolve(blocks ? reviveBlocks(value as WorkerCallResult["blocksByRoot"]) : value);
  }

  reject(id: number, error: ErrorShape): void {
    this.take(id)?.reject(
      error.code === null
        ? new Error(error.message)
        : new NetworkError(error.code, stripCode(error.message, error.code)),
    );
  }

  /** The worker died: every call waiting on it fails. */
  failAll(reason: string): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiters) w.reject(new NetworkError(NetworkErrorCode.NOT_STARTED, reason));
  }

  private take(id: number): Waiter | undefined {
    const waiter = this.pending.get(id);
    this.pending.delete(id);
    return waiter;
  }
}

/** NetworkError prefixes its message with the code; rebuilding it must not do so twice. */
function stripCode(message: string, code: string): string {
  return message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}
