// lean-quickstart's flag names on `metronome node`: a command line as its client-cmds scripts
// write it resolves to the same node options as Metronome's own flags; contradictions are errors.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runGenesis } from "@metronome/devnet";
import type { Command } from "commander";
import { buildCli } from "../../src/cli/index.ts";
import { type NodeCommandFlags, resolveNodeOptions } from "../../src/cli/nodeCommand.ts";
import { nodeIdArg, nodeOptionsWithAliases, QUICKSTART_ALIASES } from "../../src/cli/quickstartAliases.ts";

/** Parses `metronome node <args>` and applies the aliases exactly as the node command's action does. */
function parseNode(args: string[]): NodeCommandFlags {
  const cli = buildCli().exitOverride();
  const node = cli.commands.find((c) => c.name() === "node") as Command;
  node.exitOverride();
  let out: NodeCommandFlags | undefined;
  node.action((raw, cmd: Command) => {
    out = nodeOptionsWithAliases(raw, (key) => cmd.getOptionValueSource(key) === "default") as NodeCommandFlags;
  });
  cli.parse(["node", "metronome", "node", ...args]);
  assert.ok(out);
  return out;
}

describe("lean-quickstart flag aliases", () => {
  let dir: string;
  let genesis: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "metronome-aliases-"));
    genesis = join(dir, "genesis");
    await runGenesis({
      validators: 4,
      nodes: 2,
      out: genesis,
      genesisDelay: 0,
      slotSeconds: 4,
      basePort: 9000,
      baseHttpPort: 5052,
      baseMetricsPort: 8008,
      aggregators: 1,
      host: "127.0.0.1",
    });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a lean-quickstart command line resolves like Metronome's own flags", async () => {
    const keyFile = join(dir, "metronome_1.key");
    await writeFile(keyFile, `${"ab".repeat(32)}\n`);
    const quickstart = parseNode([
      "--custom-genesis",
      genesis,
      "--node-id",
      "metronome_1",
      "--node-key",
      keyFile,
      "--data-dir",
      join(dir, "data"),
      "--api-port",
      "5999",
      "--http-address",
      "0.0.0.0",
      "--metrics-enable",
      "--metrics-port",
      "8999",
      "--aggregator",
      "--listen-addr",
      "/ip4/0.0.0.0/tcp/9777",
      "--checkpoint-sync-url",
      "http://127.0.0.1:5052",
    ]);
    const own = parseNode([
      "--genesis",
      genesis,
      "--node-id",
      "1",
      "--node-key",
      keyFile,
      "--data-dir",
      join(dir, "data"),
      "--http-port",
      "5999",
      "--http-host",
      "0.0.0.0",
      "--metrics-port",
      "8999",
      "--is-aggregator",
      "--listen",
      "/ip4/0.0.0.0/tcp/9777",
      "--checkpoint-sync-url",
      "http://127.0.0.1:5052",
    ]);
    const a = await resolveNodeOptions(quickstart);
    const b = await resolveNodeOptions(own);
    assert.deepEqual(a, b);
    assert.equal(a.nodeId, 1);
    assert.equal(a.httpPort, 5999);
    assert.equal(a.httpHost, "0.0.0.0");
    assert.equal(a.isAggregator, true, "node 1 is not an aggregator in nodes.json: the alias set it");
    assert.equal(a.listen, "/ip4/0.0.0.0/tcp/9777");
    assert.deepEqual(a.identitySeed, new Uint8Array(32).fill(0xab));
    for (const alias of QUICKSTART_ALIASES) assert.ok(!(alias.key in quickstart), `${alias.flag} left unmapped`);
  });

  it("--genesis-dir is --genesis too; without either the node refuses", () => {
    assert.equal(parseNode(["--genesis-dir", genesis, "--node-id", "0", "--data-dir", dir]).genesis, genesis);
    assert.throws(() => parseNode(["--node-id", "0", "--data-dir", dir]), /required option '--genesis <dir>'/);
  });

  it("two spellings of one option with different values are an error", () => {
    assert.throws(
      () =>
        parseNode(["--genesis", genesis, "--node-id", "0", "--data-dir", dir, "--http-port", "1", "--api-port", "2"]),
      /--api-port 2 contradicts --http-port 1/,
    );
    assert.throws(
      () => parseNode(["--genesis", genesis, "--custom-genesis", "/x", "--node-id", "0", "--data-dir", dir]),
      /--custom-genesis \/x contradicts --genesis/,
    );
    // The same value twice, or an alias over a mere default, is fine.
    assert.equal(
      parseNode(["--genesis", genesis, "--node-id", "0", "--data-dir", dir, "--api-host", "10.0.0.1"]).httpHost,
      "10.0.0.1",
    );
  });

  it("node ids: integers or names ending in _<id>; anything else is a clear error", async () => {
    assert.equal(nodeIdArg("3"), 3);
    assert.equal(nodeIdArg("metronome_0"), 0);
    assert.equal(nodeIdArg("zeam_12"), 12);
    assert.throws(() => nodeIdArg("metronome"), /node name like metronome_0/);
    assert.throws(() => nodeIdArg("-1"), /node name like metronome_0/);
    const badKey = join(dir, "bad.key");
    await writeFile(badKey, "0x1234\n");
    await assert.rejects(
      resolveNodeOptions(parseNode(["--genesis", genesis, "--node-id", "0", "--data-dir", dir, "--node-key", badKey])),
      /--node-key .*expected 32 bytes of hex/,
    );
  });

  it("--no-peer-score-disconnects turns score disconnections off; they are on by default", async () => {
    const base = ["--genesis", genesis, "--node-id", "0", "--data-dir", join(dir, "d0")];
    assert.equal((await resolveNodeOptions(parseNode(base))).peerScoreDisconnects, true);
    const off = await resolveNodeOptions(parseNode([...base, "--no-peer-score-disconnects"]));
    assert.equal(off.peerScoreDisconnects, false);
  });
});
