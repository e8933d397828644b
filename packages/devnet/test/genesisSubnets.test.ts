// `metronome genesis --committee-count`: the chain config carries the subnet count the nodes read,
// and each node's validators are laid over subnets so that it joins as few as possible.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readGenesisFolder } from "@metronome/common";
import { type GenesisOptions, runGenesis, validateGenesisOptions } from "../src/genesisCommand.ts";
import { unstartedGenesisOptions } from "./genesisFixture.ts";

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function options(out: string, committeeCount: number | undefined): GenesisOptions {
  return unstartedGenesisOptions(out, { validators: 12, nodes: 3, committeeCount });
}

describe("genesis --committee-count", () => {
  it("writes the subnet count to config.json and stripes validators so each node owns whole subnets", async () => {
    const dir = await mkdtemp(join(tmpdir(), "metronome-genesis-subnets-"));
    dirs.push(dir);
    await runGenesis(options(dir, 3));
    const folder = await readGenesisFolder(dir);
    assert.equal(folder.chain.attestationCommitteeCount, 3);
    for (const [nodeId, node] of folder.nodes.entries()) {
      // Every validator of node k votes on subnet k: the node joins one subnet, not three.
      assert.ok(node.validatorIndices.length > 0);
      for (const v of node.validatorIndices) assert.equal(v % 3, nodeId, `validator ${v} on node ${nodeId}`);
    }
  });

  it("keeps one subnet and contiguous ranges when none is asked for", async () => {
    const dir = await mkdtemp(join(tmpdir(), "metronome-genesis-subnets-"));
    dirs.push(dir);
    await runGenesis(options(dir, undefined));
    const folder = await readGenesisFolder(dir);
    assert.equal(folder.chain.attestationCommitteeCount, 1);
    assert.deepEqual(folder.nodes[0]?.validatorIndices, [0, 1, 2, 3]);
  });

  it("refuses a subnet count below 1 or above the validator count", () => {
    assert.throws(
      () => validateGenesisOptions(options("/unused", 0)),
      /--committee-count must be an integer in \[1, validators\]/,
    );
    assert.throws(() => validateGenesisOptions(options("/unused", 13)), /--committee-count/);
    assert.doesNotThrow(() => validateGenesisOptions(options("/unused", 12)));
  });
});
