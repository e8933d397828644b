// The SSZ hasher is a speed choice only: the roots it gives must be the ones @chainsafe/ssz's
// default (noble) gives, for every type, or nodes with different hashers would not agree.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setHasher } from "@chainsafe/persistent-merkle-tree";
import { hasher as nobleHasher } from "@chainsafe/persistent-merkle-tree/hasher/noble";
import type { Type } from "@chainsafe/ssz";
import {
  createGenesisBlock,
  createGenesisState,
  interopValidators,
  SignedBlock,
  SSZ_HASHER,
  State,
  sszTypes,
  toHex,
} from "../../src/index.ts";

/** Roots of a populated genesis state and block, and of every type's default value. */
function roots(): string[] {
  const state = createGenesisState(1_700_000_000, interopValidators(64));
  const block = SignedBlock.defaultValue();
  block.block = createGenesisBlock(state);
  const out = [toHex(State.hashTreeRoot(state)), toHex(SignedBlock.hashTreeRoot(block))];
  for (const sszType of Object.values(sszTypes)) {
    const type = sszType as unknown as Type<unknown>;
    out.push(toHex(type.hashTreeRoot(type.defaultValue())));
  }
  return out;
}

describe("SSZ hasher", () => {
  it("is a fast one on this platform, and gives the same roots as the default noble hasher", async () => {
    assert.ok(SSZ_HASHER === "hashtree" || SSZ_HASHER === "as-sha256", SSZ_HASHER);
    const chosen = await import(
      SSZ_HASHER === "hashtree"
        ? "@chainsafe/persistent-merkle-tree/hasher/hashtree"
        : "@chainsafe/persistent-merkle-tree/hasher/as-sha256"
    );
    const fast = roots();
    setHasher(nobleHasher);
    try {
      assert.deepEqual(roots(), fast);
    } finally {
      setHasher(chosen.hasher);
    }
  });
});
