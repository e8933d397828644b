// The flooder's payload worker: signing costs ~1 ms per signature, so payloads are built here,
// ahead of time, and the main thread only publishes. Stateless beyond its PayloadFactory.
import { parentPort, workerData } from "node:worker_threads";
import { type FactoryWorkerData, type FromFactory, packBatch, type ToFactory } from "./factoryProtocol.ts";
import { PayloadFactory } from "./payloadFactory.ts";

const port = parentPort;
if (port === null) throw new Error("factoryWorker.ts must run as a worker thread");
const init = workerData as FactoryWorkerData;
const factory = new PayloadFactory({ validatorCount: init.validatorCount, forkDigest: init.forkDigest });

function reply(message: FromFactory, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

port.on("message", (message: ToFactory) => {
  try {
    switch (message.type) {
      case "snapshot":
        factory.setSnapshot(message.snapshot);
        return;
      case "produce": {
        const batch = packBatch(factory.produce(message.kind, message.count));
        reply({ type: "payloads", id: message.id, kind: message.kind, batch }, [
          batch.topics.buffer as ArrayBuffer,
          batch.offsets.buffer as ArrayBuffer,
          batch.data.buffer as ArrayBuffer,
        ]);
        return;
      }
      case "stats":
        reply({ type: "stats", id: message.id, stats: factory.stats() });
        return;
    }
  } catch (err) {
    reply({ type: "error", id: "id" in message ? message.id : 0, message: String(err) });
  }
});
