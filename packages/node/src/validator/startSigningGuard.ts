// Wires the in-node validators' signing gate: the doppelganger watch (fed with the chain's verified
// votes and imported blocks while it waits) in front of the slashing-protection record.
import type { SlotClock } from "@metronome/clock";
import type { Logger } from "@metronome/common";
import type { SlashingProtection } from "@metronome/validator";
import { DoppelgangerWatch } from "@metronome/validator";
import type { ChainEventSource } from "../chain/chainEvents.ts";
import type { ChainQueries } from "../chain/interface.ts";
import type { NodeOptions } from "../node/options.ts";
import { SigningGuard } from "./signingGuard.ts";

/**
 * The doppelganger watch and the signing gate of the node's validators. The wait is skipped for a
 * node that starts before or in genesis slot 0 with nothing on record: nobody can have signed for
 * this chain yet, and a fresh devnet must not lose its first slots.
 */
export async function startSigningGuard(
  options: NodeOptions,
  parts: {
    protection: SlashingProtection;
    clock: SlotClock;
    events: ChainEventSource;
    chain: Pick<ChainQueries, "domains" | "getBlock">;
    /** The node hears the network's votes (synced); the wait counts from then. */
    isListening: () => boolean;
  },
  logger: Logger,
): Promise<SigningGuard> {
  const { protection, clock, events, chain } = parts;
  const pubkeys = new Map<number, Uint8Array>();
  for (const i of options.validatorIndices) {
    const validator = options.chain.validators[i];
    if (validator !== undefined) pubkeys.set(i, validator.pubkey);
  }
  const startSlot = clock.currentSlot();
  const freshAtGenesis = startSlot <= 0 && !(await protection.hasAnyRecord([...pubkeys.values()]));
  const waitSlots = pubkeys.size === 0 || freshAtGenesis ? 0 : options.doppelgangerSlots;
  const doppelganger = new DoppelgangerWatch({
    keys: pubkeys,
    startSlot,
    waitSlots,
    recordedRoot: (kind, pubkey, slot) => protection.recordedRoot(kind, pubkey, slot),
    isListening: parts.isListening,
    onDetected: (e) =>
      logger.error(
        "DOPPELGANGER DETECTED: another signer is using this node's validator keys; this node signs nothing until an operator stops the other signer and restarts it",
        { validator: e.validatorIndex, duty: e.kind, slot: e.slot, signingRoot: e.signingRoot },
      ),
    onLookupError: (err) =>
      logger.error("doppelganger: record lookup failed, counting the message as evidence", {}, err),
  });
  if (waitSlots > 0) {
    logger.info("doppelganger wait: signing nothing until the node has watched the network for its validators", {
      slots: waitSlots,
      from: "the first slot the node is synced in",
    });
    const watching = () => doppelganger.state(clock.currentSlot()) === "waiting";
    const stopAttestations = events.on("attestation", (e) => {
      if (!watching()) return stopAttestations();
      const own = e.validatorIndices.filter((i) => pubkeys.has(i));
      if (own.length === 0) return;
      const root = chain.domains.attestationSigningRoot(e.data);
      for (const i of own) doppelganger.observe("attestation", i, e.data.slot, root, clock.currentSlot());
    });
    const stopBlocks = events.on("block", (e) => {
      if (!watching()) return stopBlocks();
      if (e.source === "own_proposal" || e.source === "restart") return;
      const block = chain.getBlock(e.root);
      if (block === undefined || !pubkeys.has(block.proposerIndex)) return;
      const root = chain.domains.blockSigningRoot(block);
      doppelganger.observe("block", block.proposerIndex, block.slot, root, clock.currentSlot());
    });
  } else if (pubkeys.size > 0) {
    logger.info("doppelganger wait skipped", {
      reason: freshAtGenesis ? "fresh record at genesis" : "--doppelganger-slots 0",
    });
  }
  return new SigningGuard({ protection, pubkeys, doppelganger, currentSlot: () => clock.currentSlot(), logger });
}
