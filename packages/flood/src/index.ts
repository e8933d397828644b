// factoryWorker.ts is a worker thread's entry file (payloadPools.ts starts it by URL): not exported.
export * from "./busyCores.ts";
export * from "./capacity.ts";
export * from "./chainView.ts";
export * from "./factoryProtocol.ts";
export * from "./floodCommand.ts";
export * from "./flooder.ts";
export * from "./mix.ts";
export * from "./payloadData.ts";
export * from "./payloadFactory.ts";
export * from "./payloadPools.ts";
export * from "./periodSummary.ts";
export * from "./probeSample.ts";
export * from "./promText.ts";
export * from "./rateScheduler.ts";
export * from "./targetProbe.ts";
