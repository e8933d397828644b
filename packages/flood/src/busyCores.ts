// Keeps every core but this thread's busy while a measurement runs. During a flood the node's
// verifier never has the machine to itself (its main thread, the other nodes, the flooder and the
// kernel's loopback traffic run beside it), and on this class of VM a second busy core alone slows
// a blst pairing by about 10%. A capacity figure taken that way is the fair baseline for "what raw
// blst does on the same cores"; the idle figure is kept beside it.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

const SPIN_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const shared = new Int32Array(workerData);
parentPort.postMessage("spinning");
while (Atomics.load(shared, 0) === 0) Atomics.add(shared, 1, 1);
`;

/**
 * Runs `measure` (synchronous) on this thread while `spinners` threads (default: cores - 1) spin;
 * `spins()` reads how many loop turns they have made so far.
 */
export async function withOtherCoresBusy<T>(
  measure: (spins: () => number) => T,
  spinners = availableParallelism() - 1,
): Promise<T> {
  // [0]: stop flag, [1]: spin counter.
  const shared = new SharedArrayBuffer(8);
  const view = new Int32Array(shared);
  const workers = Array.from(
    { length: Math.max(0, spinners) },
    () => new Worker(SPIN_SOURCE, { eval: true, workerData: shared }),
  );
  try {
    await Promise.all(
      workers.map((w) => new Promise((resolve, reject) => w.once("message", resolve).once("error", reject))),
    );
    return measure(() => Atomics.load(view, 1));
  } finally {
    Atomics.store(view, 0, 1);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
