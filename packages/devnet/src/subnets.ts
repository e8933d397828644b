// How a devnet lays its validators over attestation subnets (PROTOCOL.md section 5: a vote goes on
// subnet validator_index % committee count; aggregators may subscribe to more subnets).

/**
 * Devnets up to this many nodes keep PROTOCOL.md's default of one subnet, which every node joins.
 * It is the mesh degree D: up to D + 1 nodes each node is in every other's mesh. Beyond it, with
 * one shared subnet every node receives, verifies and relays every single vote (nodes x validators
 * deliveries per slot, each several times over the mesh): at 16 nodes x 256 validators on a 2-core
 * machine that was 1.9 of the 2 cores and justification trailed the head by 4-6 slots
 * (docs/performance.md). With one subnet per node a single vote travels one hop, from its node to
 * the aggregator, and the other nodes see the slot's votes as aggregates.
 */
export const SHARED_SUBNET_MAX_NODES = 8;

/**
 * The committee count a devnet gets when none is asked for: 1 up to SHARED_SUBNET_MAX_NODES nodes,
 * and on a ring (a node that is not directly connected to the aggregator can only reach it through
 * peers that joined its subnet, so everyone joins the one subnet); one subnet per node otherwise.
 */
export function defaultCommitteeCount(nodes: number, ring: number | undefined): number {
  if (ring !== undefined || nodes <= SHARED_SUBNET_MAX_NODES) return 1;
  return nodes;
}

/**
 * Splits validators [0, n) over k nodes. With one subnet, or fewer subnets than nodes, in
 * contiguous ranges (the first n % k nodes get one more). With at least as many subnets as nodes,
 * subnet s goes to node s % k, so a node's validators share as few subnets as possible and the
 * node joins only those (the aggregator joins all).
 */
export function splitValidators(validatorCount: number, nodeCount: number, committeeCount = 1): number[][] {
  if (committeeCount > 1 && committeeCount >= nodeCount) {
    const out: number[][] = Array.from({ length: nodeCount }, () => []);
    for (let v = 0; v < validatorCount; v++) out[(v % committeeCount) % nodeCount]?.push(v);
    return out;
  }
  const base = Math.floor(validatorCount / nodeCount);
  const extra = validatorCount % nodeCount;
  const out: number[][] = [];
  let next = 0;
  for (let i = 0; i < nodeCount; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push(Array.from({ length: size }, (_, j) => next + j));
    next += size;
  }
  return out;
}
