import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HISTORICAL_ROOTS_LIMIT, ZERO_ROOT } from "../../src/constants.ts";
import { RejectionCode } from "../../src/errors.ts";
import { toHex } from "../../src/ssz/codec.ts";
import { BlockBody, BlockHeader, State } from "../../src/ssz/types.ts";
import { processBlockHeader, processSlots } from "../../src/stateTransition/index.ts";
import { buildBlock, buildChain, isCode, makeFixture, stateBytes } from "./helpers.ts";

const fx = makeFixture(4);
const hex = toHex;

describe("processSlots", () => {
  it("fills the header state root once with the pre-slot state root and advances", () => {
    const [b1] = buildChain(fx, fx.genesis, [1]);
    const state = b1!.postState;
    assert.equal(hex(state.latestBlockHeader.stateRoot), hex(ZERO_ROOT), "a fresh header has no state root yet");
    const before = stateBytes(state);

    const advanced = processSlots(state, 3);
    assert.equal(advanced.slot, 3);
    assert.equal(hex(advanced.latestBlockHeader.stateRoot), hex(State.hashTreeRoot(state)));
    assert.equal(stateBytes(state), before, "input untouched");

    // Later empty slots keep the cached root instead of hashing the advanced state.
    const further = processSlots(advanced, 7);
    assert.equal(further.slot, 7);
    assert.equal(hex(further.latestBlockHeader.stateRoot), hex(State.hashTreeRoot(state)));

    // One call over several slots equals stepping slot by slot.
    const stepped = processSlots(processSlots(processSlots(state, 2), 3), 4);
    assert.equal(hex(State.hashTreeRoot(stepped)), hex(State.hashTreeRoot(processSlots(state, 4))));
  });

  it("the filled header root is the block root children must name", () => {
    const [b1] = buildChain(fx, fx.genesis, [1]);
    const header = processSlots(b1!.postState, 2).latestBlockHeader;
    assert.equal(hex(BlockHeader.hashTreeRoot(header)), hex(b1!.root));
    // Genesis: the anchor block root equals the advanced genesis header root.
    assert.equal(hex(BlockHeader.hashTreeRoot(processSlots(fx.genesis, 1).latestBlockHeader)), hex(fx.genesisRoot));
  });

  it("rejects a target slot that is not in the future", () => {
    const [b1] = buildChain(fx, fx.genesis, [1]);
    assert.throws(() => processSlots(b1!.postState, 1), isCode(RejectionCode.BLOCK_SLOT_NOT_IN_FUTURE));
    assert.throws(() => processSlots(b1!.postState, 0), isCode(RejectionCode.BLOCK_SLOT_NOT_IN_FUTURE));
    assert.throws(() => processSlots(fx.genesis, 0), isCode(RejectionCode.BLOCK_SLOT_NOT_IN_FUTURE));
  });

  it("rejects slots that are not safe integers instead of looping", () => {
    assert.throws(() => processSlots(fx.genesis, Number.POSITIVE_INFINITY), isCode(RejectionCode.SLOT_OUT_OF_RANGE));
    assert.throws(() => processSlots(fx.genesis, 1.5), isCode(RejectionCode.SLOT_OUT_OF_RANGE));
  });
});

describe("processBlockHeader", () => {
  it("anchors justified and finalized to the genesis block on the first block", () => {
    const { postState } = buildBlock(fx, fx.genesis, 1);
    assert.deepEqual(postState.latestJustified, { root: fx.genesisRoot, slot: 0 });
    assert.deepEqual(postState.latestFinalized, { root: fx.genesisRoot, slot: 0 });
    assert.equal(postState.historicalBlockHashes.length, 1);
    assert.equal(hex(postState.historicalBlockHashes[0]!), hex(fx.genesisRoot));
    assert.equal(postState.justifiedSlots.bitLen, 0, "slot 1 itself is not materialized yet");
  });

  it("records zero hashes for skipped slots and extends justified slots", () => {
    const [b1, b4] = buildChain(fx, fx.genesis, [1, 4]);
    const state = b4!.postState;
    assert.deepEqual(state.historicalBlockHashes.map(hex), [
      hex(fx.genesisRoot),
      hex(b1!.root),
      hex(ZERO_ROOT),
      hex(ZERO_ROOT),
    ]);
    assert.equal(state.justifiedSlots.bitLen, 3, "slots 1..3 are tracked after finalized slot 0");
    assert.deepEqual(state.justifiedSlots.toBoolArray(), [false, false, false]);
    // The first block's checkpoints are kept; only attestations move them afterwards.
    assert.deepEqual(state.latestJustified, { root: fx.genesisRoot, slot: 0 });
    assert.equal(state.latestBlockHeader.slot, 4);
    assert.equal(hex(state.latestBlockHeader.parentRoot), hex(b1!.root));
    assert.equal(hex(state.latestBlockHeader.stateRoot), hex(ZERO_ROOT));
    assert.equal(hex(state.latestBlockHeader.bodyRoot), hex(BlockBody.hashTreeRoot(b4!.block.body)));
  });

  it("rejects a block that would grow history past the limit", () => {
    const slot = HISTORICAL_ROOTS_LIMIT + 1;
    const advanced = processSlots(fx.genesis, slot);
    const block = {
      slot,
      proposerIndex: slot % fx.n,
      parentRoot: BlockHeader.hashTreeRoot(advanced.latestBlockHeader),
      stateRoot: new Uint8Array(32),
      body: { attestations: [] },
    };
    assert.throws(() => processBlockHeader(advanced, block), isCode(RejectionCode.SLOT_OUT_OF_RANGE));
  });
});
