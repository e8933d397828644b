// One budget of response bytes shared by every outbound req/resp exchange of a host. Each exchange
// reserves the most its response may bring (count x the largest valid chunk, capped per response)
// before its request is sent, and gives it back when the exchange ends, whatever the outcome. A
// request that does not fit in what is left is refused at once, sent to nobody and counted: so
// however many requests the node has outstanding, and however their peers answer, the network
// thread never holds more than the budget in response payloads (and their decoded objects, which
// are proportional to them).

export type ResponseBudgetStats = {
  capacityBytes: number;
  /** Bytes reserved by the exchanges outstanding now. */
  inFlightBytes: number;
  inFlightRequests: number;
  /** The largest inFlightBytes seen. */
  peakBytes: number;
  /** Requests refused because their reservation did not fit. */
  refused: number;
};

/** A reservation; release() is idempotent so every exit path may call it. */
export type BudgetReservation = { readonly bytes: number; release(): void };

export class ResponseBudget {
  readonly capacityBytes: number;
  private inFlight = 0;
  private requests = 0;
  private peak = 0;
  private refusals = 0;

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes <= 0) {
      throw new RangeError(`response budget must be a positive integer, got ${capacityBytes}`);
    }
    this.capacityBytes = capacityBytes;
  }

  /** Reserves `bytes`, or returns null (and counts a refusal) when they do not fit in what is left. */
  tryReserve(bytes: number): BudgetReservation | null {
    if (this.inFlight + bytes > this.capacityBytes) {
      this.refusals++;
      return null;
    }
    this.inFlight += bytes;
    this.requests++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.inFlight -= bytes;
        this.requests--;
      },
    };
  }

  stats(): ResponseBudgetStats {
    return {
      capacityBytes: this.capacityBytes,
      inFlightBytes: this.inFlight,
      inFlightRequests: this.requests,
      peakBytes: this.peak,
      refused: this.refusals,
    };
  }
}
