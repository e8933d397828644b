// The worker side of the req/resp requests the node answers: a peer's request becomes a typed
// `serve` message to the driver thread and a promise here, settled by its `served` reply. At most
// MAX_PENDING_SERVES wait at once (beyond, the request fails as a server error) and each waits at
// most the req/resp response timeout, so an unanswered one cannot stay here.

import type { ErrorShape, ServeRequest, ServeResult } from "../boundary/messages.ts";
import { reviveBlocks } from "../boundary/revive.ts";
import { NetworkError, NetworkErrorCode } from "../errors.ts";
import { RESPONSE_TIMEOUT_MS } from "../reqresp/protocols.ts";

/** The req/resp server serves 16 streams per protocol per peer; this many in all is plenty. */
export const MAX_PENDING_SERVES = 512;

type Waiter = { resolve: (value: unknown) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class ServeRequests {
  private readonly pending = new Map<number, Waiter>();
  private nextId = 1;
  private readonly send: (id: number, request: ServeRequest) => void;
  private readonly timeoutMs: number;
  refused = 0;

  constructor(send: (id: number, request: ServeRequest) => void, timeoutMs = RESPONSE_TIMEOUT_MS) {
    this.send = send;
    this.timeoutMs = timeoutMs;
  }

  ask<M extends ServeRequest["method"]>(request: Extract<ServeRequest, { method: M }>): Promise<ServeResult[M]> {
    if (this.pending.size >= MAX_PENDING_SERVES) {
      this.refused++;
      return Promise.reject(new NetworkError(NetworkErrorCode.TIMEOUT, "too many requests waiting for the node"));
    }
    const id = this.nextId++;
    return new Promise<ServeResult[M]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NetworkError(NetworkErrorCode.TIMEOUT, `node did not answer ${request.method} in time`));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.send(id, request);
    });
  }

  answered<M extends keyof ServeResult>(id: number, method: M, value: ServeResult[M]): void {
    const waiter = this.take(id);
    if (waiter === undefined) return;
    waiter.resolve(method === "status" ? value : reviveBlocks(value as ServeResult["blocksByRoot"]));
  }

  failed(id: number, error: ErrorShape): void {
    this.take(id)?.reject(new NetworkError(error.code ?? NetworkErrorCode.PEER_ERROR, error.message));
  }

  private take(id: number): Waiter | undefined {
    const waiter = this.pending.get(id);
    if (waiter === undefined) return undefined;
    this.pending.delete(id);
    clearTimeout(waiter.timer);
    return waiter;
  }
}
