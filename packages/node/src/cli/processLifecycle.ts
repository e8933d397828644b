// How a long-running command lives and dies: crashes exit non-zero for the supervisor to restart
// (the process never restarts itself), and SIGTERM/SIGINT stop the service cleanly, never taking
// longer than a supervisor will wait. Shared by `metronome node` and `metronome validator`.
import type { Logger } from "@metronome/common";

/** Exit code for a crash (EX_SOFTWARE): the supervisor restarts the process. */
export const CRASH_EXIT_CODE = 70;
const SHUTDOWN_DEADLINE_MS = 8_000;

export function exitOnUncaughtErrors(logger: Logger): void {
  process.on("uncaughtException", (err) => {
    logger.error("uncaught exception; exiting for the supervisor to restart", undefined, err);
    process.exit(CRASH_EXIT_CODE);
  });
  process.on("unhandledRejection", (err) => {
    logger.error("unhandled rejection; exiting for the supervisor to restart", undefined, err);
    process.exit(CRASH_EXIT_CODE);
  });
}

/**
 * Starts the service and resolves once a signal has stopped it. Signals are handled from the
 * start: one that arrives during start-up stops the service as soon as it is up. A second signal,
 * or a shutdown past the deadline, exits at once with code 1.
 */
export async function runUntilSignal(logger: Logger, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let service: { stop(): Promise<void> } | null = null;
  let stopping = false;
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const shutdown = (svc: { stop(): Promise<void> }) => {
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    force.unref();
    svc.stop().then(
      () => stopped(),
      (err: unknown) => {
        logger.error("error during shutdown", undefined, err);
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (stopping) {
      logger.warn(`second ${signal}: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal} received, shutting down`);
    if (service !== null) shutdown(service);
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  service = await start();
  if (stopping) shutdown(service);
  await done;
}
