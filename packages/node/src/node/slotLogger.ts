// One line per slot for operators: where the head, justification and finality are, and how the
// node is keeping time.
import { shortRoot } from "@metronome/chain";
import type { DueInterval } from "@metronome/clock";
import type { Logger } from "@metronome/common";
import type { ChainQueries } from "../chain/interface.ts";
import type { DriverStats } from "../driver/driver.ts";
import type { TickCpuWatch } from "./tickCpuWatch.ts";

/**
 * A tick serviced this much after its boundary gets a line of its own, naming the slot and the
 * interval (the lateness histogram cannot say which duty was late): half the 50 ms a tick may be
 * late at worst under a flood (the clock's target), ten times an idle node's typical lateness.
 */
export const LATE_TICK_LOG_MS = 25;

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

  /**
   * One line for a tick serviced LATE_TICK_LOG_MS or more after its boundary; replays stay quiet.
   * With `cpu`, the line also says how the driver thread spent the moments before: on a CPU (the
   * node's own work) or waiting for one (the machine's).
   */
  lateTick(
    due: Pick<DueInterval, "slot" | "intervalInSlot" | "lateMs" | "caughtUp" | "boundaryMs">,
    cpu?: Pick<TickCpuWatch, "explain">,
  ): boolean {
    if (due.caughtUp || due.lateMs < LATE_TICK_LOG_MS) return false;
    const share = cpu?.explain(due.boundaryMs) ?? null;
    this.logger.info("interval tick late", {
      slot: due.slot,
      interval: due.intervalInSlot,
      late_ms: Math.round(due.lateMs),
      ...(share === null
        ? {}
        : {
            window_ms: tenths(share.windowMs),
            on_cpu_ms: tenths(share.onCpuMs),
            cpu_wait_ms: tenths(share.cpuWaitMs),
          }),
    });
    return true;
  }
}

function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}
