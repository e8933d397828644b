// The genesis the node's chain and duty tests build on: interop validators (keys derived from the
// index), their genesis state and block, and the key cache and signing domains a store checks with.
import {
  type Block,
  computeForkDigest,
  createGenesisBlock,
  createGenesisState,
  interopValidators,
  PubkeyCache,
  SigningDomains,
  type State,
  type Validator,
} from "@metronome/chain";

export interface InteropGenesis {
  validators: Validator[];
  genesis: State;
  genesisBlock: Block;
  pubkeys: PubkeyCache;
  domains: SigningDomains;
}

export function interopGenesis(validatorCount: number, genesisTime = 0): InteropGenesis {
  const validators = interopValidators(validatorCount);
  const genesis = createGenesisState(genesisTime, validators);
  return {
    validators,
    genesis,
    genesisBlock: createGenesisBlock(genesis),
    pubkeys: new PubkeyCache(validators),
    domains: new SigningDomains(computeForkDigest(genesis)),
  };
}
