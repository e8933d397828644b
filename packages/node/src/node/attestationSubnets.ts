// Which attestation subnets a node joins (PROTOCOL.md section 5: a vote goes on subnet
// validator_index % committee count; aggregators may subscribe to more subnets).

export interface SubnetRole {
  validatorIndices: readonly number[];
  isAggregator: boolean;
}

/**
 * An aggregator joins every subnet: it aggregates them all. Any other node joins the subnets its
 * own validators publish on, so it relays its subnet's votes and never verifies the rest: it sees
 * them as aggregates. With one subnet (the protocol's default) every node joins it, so a vote can
 * cross any topology hop by hop.
 */
export function attestationSubnetsToJoin(committeeCount: number, role: SubnetRole): number[] {
  const all = Array.from({ length: committeeCount }, (_, subnet) => subnet);
  if (role.isAggregator || committeeCount === 1) return all;
  const own = new Set(role.validatorIndices.map((index) => index % committeeCount));
  return all.filter((subnet) => own.has(subnet));
}
