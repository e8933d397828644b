// In-process multi-node simulation over the real consensus code (no network).
export { MAX_BUS_QUEUE, type MessageSink, SimBus, type SimMessage } from "./bus.ts";
export { formatSlotLine, formatVerdict } from "./format.ts";
export { simSecretKey, simValidators } from "./keys.ts";
export {
  DEFAULT_SIM_SEED,
  type IndexRange,
  isOffline,
  MAX_SIM_NODES,
  MAX_SIM_SLOTS,
  type OfflineWindow,
  parseOfflineWindow,
  type ResolvedSimOptions,
  resolveSimOptions,
  type SimOptions,
} from "./options.ts";
export { SeededRandom } from "./rng.ts";
export { type NodeStats, type NodeView, SimNode, type VerifyMode } from "./simNode.ts";
export { runSimulation, type SimHooks, type SimResult, type SlotRecord } from "./simulator.ts";
export { allAgree, judgeSimulation, type SimVerdict } from "./verdict.ts";
