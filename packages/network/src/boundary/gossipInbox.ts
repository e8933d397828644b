// The driver-thread side of the gossip boundary: each batch from the worker is handed, item by
// item, to the node's gossip handlers (O(1) each: gate and enqueue), and the verdicts go back in
// batches, one postMessage per event-loop turn however many verdicts were settled in it.
// Pure logic: the port and the scheduler are injected.
import type { GossipValueByKind } from "../gossip/codec.ts";
import type { GossipHandler, GossipVerdict } from "../gossip/router.ts";
import { aggregationTopic, attestationTopic, blockTopic, type GossipKind, type GossipTopic } from "../gossip/topics.ts";
import type { GossipWorkItem } from "./messages.ts";
import { reviveGossipValue } from "./revive.ts";

type HandlerMap = { [K in GossipKind]?: GossipHandler<K> };

export type GossipInboxOptions = {
  forkDigest: string;
  postVerdicts: (ids: number[], verdicts: GossipVerdict[]) => void;
  /** Runs the flush of settled verdicts later in this turn (default setImmediate). */
  schedule?: (flush: () => void) => void;
};

export class GossipInbox {
  private readonly handlers: HandlerMap = {};
  private readonly forkDigest: string;
  private readonly postVerdicts: (ids: number[], verdicts: GossipVerdict[]) => void;
  private readonly schedule: (flush: () => void) => void;
  private ids: number[] = [];
  private verdicts: GossipVerdict[] = [];
  private flushScheduled = false;
  /** Handlers that threw (their message is IGNOREd). */
  handlerErrors = 0;

  constructor(options: GossipInboxOptions) {
    this.forkDigest = options.forkDigest;
    this.postVerdicts = options.postVerdicts;
    this.schedule = options.schedule ?? ((flush) => setImmediate(flush));
  }

  setHandler<K extends GossipKind>(kind: K, handler: GossipHandler<K> | undefined): void {
    (this.handlers as Record<K, GossipHandler<K> | undefined>)[kind] = handler;
  }

  /** Kinds that have a handler (the worker ignores the others without crossing the boundary). */
  kinds(): GossipKind[] {
    return (["block", "attestation", "aggregation"] as const).filter((k) => this.handlers[k] !== undefined);
  }

  receive(items: readonly GossipWorkItem[]): void {
    for (const item of items) this.dispatch(item);
  }

  /** Posts the verdicts settled so far (normally called by the scheduler). */
  flush(): void {
    this.flushScheduled = false;
    if (this.ids.length === 0) return;
    const ids = this.ids;
    const verdicts = this.verdicts;
    this.ids = [];
    this.verdicts = [];
    this.postVerdicts(ids, verdicts);
  }

  /** Forgets verdicts not yet posted (their worker is gone). */
  reset(): void {
    this.ids = [];
    this.verdicts = [];
  }

  private dispatch(item: GossipWorkItem): void {
    const handler = this.handlers[item.kind] as GossipHandler<GossipKind> | undefined;
    if (handler === undefined) {
      this.settle(item.id, "ignore");
      return;
    }
    let verdict: GossipVerdict | Promise<GossipVerdict>;
    try {
      const value = reviveGossipValue(item.kind, item.value) as GossipValueByKind[GossipKind];
      verdict = handler(value, { peer: item.peer, topic: this.topic(item.kind, item.subnet), bytes: item.bytes });
    } catch {
      this.handlerErrors++;
      this.settle(item.id, "ignore");
      return;
    }
    if (typeof verdict === "string") this.settle(item.id, verdict);
    else {
      verdict.then(
        (v) => this.settle(item.id, v),
        () => {
          this.handlerErrors++;
          this.settle(item.id, "ignore");
        },
      );
    }
  }

  private settle(id: number, verdict: GossipVerdict): void {
    this.ids.push(id);
    this.verdicts.push(verdict);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
  }

  private topic(kind: GossipKind, subnet: number): GossipTopic {
    if (kind === "attestation") return attestationTopic(this.forkDigest, subnet);
    return kind === "block" ? blockTopic(this.forkDigest) : aggregationTopic(this.forkDigest);
  }
}
