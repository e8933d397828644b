// One line per slot for operators: where the head, justification and finality are, and how the
// node is keeping time.
import { shortRoot } from "@metronome/chain";
import type { Logger } from "@metronome/common";
import type { ChainQueries } from "../chain/interface.ts";
import type { DriverStats } from "../driver/driver.ts";

export class SlotLogger {
  private readonly logger: Logger;
  private lastTicks = 0;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  log(
    slot: number,
    chain: Pick<ChainQueries, "head" | "justified" | "finalized">,
    peers: number,
    syncState: string,
    driver: DriverStats,
  ): void {
    const { head, justified, finalized } = chain;
    this.logger.info(`slot ${slot}`, {
      head: `${head.slot}/${shortRoot(head.root)}`,
      justified: `${justified.slot}/${shortRoot(justified.root)}`,
      finalized: `${finalized.slot}/${shortRoot(finalized.root)}`,
      peers,
      sync: syncState,
      ticks: driver.ticks - this.lastTicks,
      late_ms: Math.round(driver.lastTickLateMs),
      missed: driver.intervalsMissed,
    });
    this.lastTicks = driver.ticks;
  }
}
