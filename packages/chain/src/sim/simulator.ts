// Deterministic in-process simulation of K nodes running every validator duty through the real
// chain code on the PROTOCOL.md section 1 interval schedule. No network, no wall clock: each
// interval's duty runs, then the bus delivers what it published, then the next interval starts.
import { PubkeyCache } from "../crypto/pubkeyCache.ts";
import { SigningDomains } from "../crypto/signing.ts";
import { isChainError } from "../errors.ts";
import { ForkChoiceStore } from "../forkChoice/store.ts";
import { computeForkDigest, createGenesisBlock, createGenesisState } from "../genesis.ts";
import type { Checkpoint } from "../ssz/types.ts";
import { proposerIndexForSlot } from "../stateTransition/index.ts";
import { aggregateAttestations, signAttestation } from "../validator/attest.ts";
import { produceBlock } from "../validator/produceBlock.ts";
import { SimBus, type SimMessage } from "./bus.ts";
import { simSecretKey, simValidators } from "./keys.ts";
import { isOffline, type ResolvedSimOptions, resolveSimOptions, type SimOptions } from "./options.ts";
import { SeededRandom } from "./rng.ts";
import { type NodeStats, type NodeView, SimNode } from "./simNode.ts";

export interface SlotRecord {
  slot: number;
  /** null for the genesis slot, which has no proposal. */
  proposer: number | null;
  /** The block proposed this slot; null when the proposer was offline (or the slot is genesis). */
  block: Checkpoint | null;
  /** Aggregates the proposed block carried. */
  blockAttestations: number;
  attestationsPublished: number;
  aggregatesPublished: number;
  aggregatorNode: number;
  /** Each node's view at the end of the slot (after interval 4), indexed by node id. */
  nodes: NodeView[];
}

export interface SimResult {
  options: ResolvedSimOptions;
  slots: SlotRecord[];
  /** The nodes as they ended, for inspecting their stores. */
  nodes: SimNode[];
  nodeStats: NodeStats[];
  /** An online proposer whose block could not be produced or imported (a bug in an honest run). */
  proposalFailures: number;
  busDropped: number;
  busDelivered: number;
}

export interface SimHooks {
  onSlot?: (record: SlotRecord) => void;
}

function buildNodes(opts: ResolvedSimOptions): SimNode[] {
  const validators = simValidators(opts.validators);
  const genesisState = createGenesisState(0, validators);
  const genesisBlock = createGenesisBlock(genesisState);
  // Immutable after construction, so every node may share them.
  const pubkeys = new PubkeyCache(validators);
  const domains = new SigningDomains(computeForkDigest(genesisState));
  return Array.from({ length: opts.nodes }, (_, id) => {
    const hosted = validators.map((v) => v.index).filter((i) => i % opts.nodes === id);
    return new SimNode(id, new ForkChoiceStore(genesisState, genesisBlock, pubkeys, domains), hosted, opts.verifyMode);
  });
}

export function runSimulation(options: SimOptions, hooks: SimHooks = {}): SimResult {
  const opts = resolveSimOptions(options);
  const rng = new SeededRandom(opts.seed);
  const bus = new SimBus();
  const nodes = buildNodes(opts);
  const online = (validator: number, slot: number) => !isOffline(opts.offline, validator, slot);
  const hostOf = (validator: number) => nodes[validator % opts.nodes] as SimNode;
  const tickAll = (slot: number, interval: number, proposerNode: SimNode | null = null) => {
    for (const node of nodes) node.tick(slot, interval, node === proposerNode);
  };

  const slots: SlotRecord[] = [];
  let proposalFailures = 0;

  for (let slot = 0; slot <= opts.slots; slot++) {
    // Interval 0: the proposer builds on its head, imports its own block, publishes it.
    const proposer = slot === 0 ? null : proposerIndexForSlot(slot, opts.validators);
    const proposing = proposer !== null && online(proposer, slot) ? hostOf(proposer) : null;
    tickAll(slot, 0, proposing);
    let block: Checkpoint | null = null;
    let blockAttestations = 0;
    if (proposing !== null && proposer !== null) {
      try {
        const signed = produceBlock(proposing.store, slot, proposer, simSecretKey(proposer));
        block = { root: proposing.importOwnBlock(signed), slot };
        blockAttestations = signed.block.body.attestations.length;
        bus.publish(proposing.id, { kind: "block", block: signed });
      } catch (err) {
        if (!isChainError(err)) throw err;
        proposalFailures++;
      }
    }
    bus.flush(nodes, rng);

    // Interval 1: every online validator votes for its node's view of the head.
    tickAll(slot, 1);
    let attestationsPublished = 0;
    for (const node of nodes) {
      const voters = node.validatorIndices.filter((i) => online(i, slot));
      if (voters.length === 0) continue;
      const data = node.store.produceAttestationData(slot);
      const own: SimMessage[] = voters.map((index) => ({
        kind: "attestation",
        attestation: signAttestation(simSecretKey(index), index, data, node.store.domains),
      }));
      // A node's own votes pass through its own gossip checks too, as in the node's chain service.
      node.receiveBatch(own);
      for (const m of own) bus.publish(node.id, m);
      attestationsPublished += own.length;
    }
    bus.flush(nodes, rng);

    // Interval 2: one aggregator node folds the slot's verified singles and publishes aggregates.
    tickAll(slot, 2);
    const aggregator = nodes[rng.int(nodes.length)] as SimNode;
    const aggregates = aggregateAttestations(aggregator.collectedFor(slot));
    const ownAggregates: SimMessage[] = aggregates.map((aggregate) => ({ kind: "aggregate", aggregate }));
    aggregator.receiveBatch(ownAggregates);
    for (const m of ownAggregates) bus.publish(aggregator.id, m);
    bus.flush(nodes, rng);

    // Intervals 3 and 4: safe target, then accept new votes and recompute the head.
    tickAll(slot, 3);
    tickAll(slot, 4);

    const record: SlotRecord = {
      slot,
      proposer,
      block,
      blockAttestations,
      attestationsPublished,
      aggregatesPublished: aggregates.length,
      aggregatorNode: aggregator.id,
      nodes: nodes.map((n) => n.view()),
    };
    slots.push(record);
    hooks.onSlot?.(record);
  }

  return {
    options: opts,
    slots,
    nodes,
    nodeStats: nodes.map((n) => n.stats),
    proposalFailures,
    busDropped: bus.dropped,
    busDelivered: bus.delivered,
  };
}
