// `metronome node` and `metronome validator` refuse an HTTP port fetch would refuse, before
// starting anything: run as the real binary, as an operator would.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runGenesis } from "@metronome/devnet";
import { unstartedGenesisOptions } from "../../../devnet/test/genesisFixture.ts";

const BIN = fileURLToPath(new URL("../../src/bin/metronome.ts", import.meta.url));
const RUN_TIMEOUT_MS = 30_000;

let dir = "";
let genesisDir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "metronome-blocked-ports-"));
  genesisDir = join(dir, "genesis");
  // Bases far from anything the test binds; the refused runs never listen.
  await runGenesis(unstartedGenesisOptions(genesisDir, { validators: 4, nodes: 2 }));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (b: Buffer) => {
      output += b.toString("utf8");
    });
    child.stderr.on("data", (b: Buffer) => {
      output += b.toString("utf8");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`metronome ${args[0]} still running after ${RUN_TIMEOUT_MS} ms:\n${output}`));
    }, RUN_TIMEOUT_MS);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("blocked HTTP ports on the command line", () => {
  for (const [flag, port, what] of [
    ["--http-port", 5060, "HTTP API port"],
    ["--metrics-port", 6000, "metrics port"],
  ] as const) {
    it(`metronome node ${flag} ${port} exits 1 naming the port, with no data dir created`, async () => {
      const dataDir = join(dir, `node-${port}`);
      const { code, output } = await runCli([
        "node",
        "--genesis",
        genesisDir,
        "--node-id",
        "0",
        "--data-dir",
        dataDir,
        flag,
        String(port),
      ]);
      assert.equal(code, 1, output);
      assert.match(
        output,
        new RegExp(`metronome: ${what} ${port}: port ${port} is on the fetch standard's blocked-port list`),
      );
      assert.ok(!existsSync(dataDir), "refused before opening the database");
    });
  }

  it("metronome node refuses a --checkpoint-sync-url on a blocked port", async () => {
    const { code, output } = await runCli([
      "node",
      "--genesis",
      genesisDir,
      "--node-id",
      "1",
      "--data-dir",
      join(dir, "node-cp"),
      "--checkpoint-sync-url",
      "http://127.0.0.1:6667",
    ]);
    assert.equal(code, 1, output);
    assert.match(output, /--checkpoint-sync-url http:\/\/127\.0\.0\.1:6667: port 6667 is on the fetch/);
  });

  it("metronome validator refuses a beacon node URL or its own port on the blocked list", async () => {
    const common = ["validator", "--validator-indices", "0", "--genesis", genesisDir];
    const url = await runCli([
      ...common,
      "--data-dir",
      join(dir, "vc-url"),
      "--beacon-nodes",
      "http://127.0.0.1:25000,http://127.0.0.1:5061",
    ]);
    assert.equal(url.code, 1, url.output);
    assert.match(url.output, /beacon node URL http:\/\/127\.0\.0\.1:5061\/: port 5061 is on the fetch/);
    const own = await runCli([
      ...common,
      "--data-dir",
      join(dir, "vc-port"),
      "--beacon-nodes",
      "http://127.0.0.1:25000",
      "--http-port",
      "10080",
    ]);
    assert.equal(own.code, 1, own.output);
    assert.match(own.output, /--http-port 10080: port 10080 is on the fetch/);
    assert.ok(!existsSync(join(dir, "vc-port")), "refused before creating the data dir");
  });
});
