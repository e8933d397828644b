// What a head change tells the rest of the node: a chain_reorg event (and a warning) when the new
// head does not descend from the old one, then the head event, with the state roots the Beacon
// API's events carry.
import { type ForkChoiceStore, type HeadUpdate, shortRoot } from "@metronome/chain";
import type { Logger } from "@metronome/common";
import type { ChainEvents } from "./chainEvents.ts";

export function emitHeadChange(events: ChainEvents, store: ForkChoiceStore, logger: Logger, update: HeadUpdate): void {
  if (!update.changed) return;
  const headBlock = store.getBlock(update.newHead.root);
  const stateRoot = headBlock?.stateRoot ?? new Uint8Array(32);
  if (update.reorg !== null) {
    const oldBlock = store.getBlock(update.oldHead.root);
    events.emit("chain_reorg", {
      slot: update.newHead.slot,
      depth: update.reorg.depth,
      oldHead: update.oldHead,
      newHead: update.newHead,
      oldHeadStateRoot: oldBlock?.stateRoot ?? new Uint8Array(32),
      newHeadStateRoot: stateRoot,
    });
    logger.warn("chain reorg", {
      depth: update.reorg.depth,
      old: `${update.oldHead.slot}/${shortRoot(update.oldHead.root)}`,
      new: `${update.newHead.slot}/${shortRoot(update.newHead.root)}`,
    });
  }
  events.emit("head", {
    slot: update.newHead.slot,
    root: update.newHead.root,
    stateRoot,
    previousHead: update.oldHead,
  });
}
