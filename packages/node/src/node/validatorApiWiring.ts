// The node's side of the validator API: the backend the routes (api/validatorRoutes.ts) call, wired
// to the chain, the network and the BLS verifier, and the bearer-token rule for where it is bound.
import { join } from "node:path";
import { isLoopbackHost, loadOrCreateToken, TOKEN_FILE_NAME } from "@metronome/api";
import type { BlsVerifier } from "@metronome/bls";
import type { SlotClock } from "@metronome/clock";
import type { Logger } from "@metronome/common";
import type { INetwork } from "@metronome/network";
import type { FastifyInstance } from "fastify";
import type { ApiServerStats } from "../api/serverLimits.ts";
import { validatorRoutesPlugin } from "../api/validatorRoutes.ts";
import type { BeaconChain } from "../chain/interface.ts";
import { publishApiAttestations } from "./apiAttestations.ts";
import type { NodeOptions } from "./options.ts";

export interface ValidatorApiParts {
  options: NodeOptions;
  chain: BeaconChain;
  network: INetwork;
  clock: SlotClock;
  verifier: BlsVerifier;
  apiStats: ApiServerStats;
  logger: Logger;
}

/**
 * The validator client's routes. Bound to loopback they are open to this machine's users; bound
 * elsewhere they need the bearer token, read from --api-token-file or generated into the data dir.
 */
export async function validatorRoutes(node: ValidatorApiParts): Promise<(app: FastifyInstance) => void> {
  const { chain, network, clock, verifier, apiStats, logger } = node;
  const subnetCount = node.options.chain.attestationCommitteeCount;
  const genesisValidators = node.options.chain.validators;
  const { apiTokenFile, httpHost, dataDir } = node.options;
  let token: string | undefined;
  if (apiTokenFile !== undefined || !isLoopbackHost(httpHost)) {
    const file = apiTokenFile ?? join(dataDir, TOKEN_FILE_NAME);
    token = await loadOrCreateToken(file, apiTokenFile === undefined);
    logger.info("validator API needs a bearer token", { tokenFile: file });
  }
  return validatorRoutesPlugin(
    {
      currentSlot: () => Math.max(0, clock.currentSlot()),
      validatorCount: () => chain.validatorCount(),
      validatorPubkey: (i) => genesisValidators[i]?.pubkey,
      attestationSubnetCount: () => subnetCount,
      attestationData: (slot) => chain.attestationData(slot),
      produceBlock: (slot, proposer) => chain.produceBlock(slot, proposer),
      blockSigningRoot: (b) => chain.domains.blockSigningRoot(b),
      publishBlock: async (signed) => {
        const outcome = chain.importBlock(signed, "api");
        if (outcome.status === "imported") {
          void network.publishBlock(signed).catch(() => {});
          return { status: "imported" };
        }
        if (outcome.status === "known") return { status: "known" };
        if (outcome.status === "orphan") return { status: "pending" };
        // The database write queue is full: not imported, not invalid; the client may post again.
        if (outcome.status === "deferred") return { status: "rejected", code: "DATABASE_BUSY" };
        return { status: "rejected", code: outcome.status === "invalid" ? outcome.code : "PRE_FINALIZED_SLOT" };
      },
      publishAttestations: (atts) =>
        publishApiAttestations(
          {
            chain,
            verifier,
            stats: apiStats,
            publish: (att) => void network.publishAttestation(att.validatorIndex % subnetCount, att).catch(() => {}),
          },
          atts,
        ),
    },
    { token, stats: apiStats },
  );
}
