import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isFetchBlockedPort } from "@metronome/common";
import { type DevnetOptions, runDevnet } from "../src/devnetCommand.ts";
import { findPortConflicts, findPortHolders, isPortFree, parseProcNetTcp } from "../src/portProbe.ts";
import {
  DEFAULT_BASE_HTTP_PORT,
  DEFAULT_BASE_METRICS_PORT,
  DEFAULT_BASE_P2P_PORT,
  devnetPorts,
  validateDevnetPorts,
} from "../src/ports.ts";

const MAX_DEVNET_NODES = 64;
const defaults = (nodes: number) => ({
  nodes,
  basePort: DEFAULT_BASE_P2P_PORT,
  baseHttpPort: DEFAULT_BASE_HTTP_PORT,
  baseMetricsPort: DEFAULT_BASE_METRICS_PORT,
});

const servers: Server[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A listener on a free loopback port the OS picks (never a hard-coded port). */
async function holdPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

describe("devnet port plan", () => {
  it("the default bases give every devnet size a port fetch accepts, none twice", () => {
    for (let nodes = 1; nodes <= MAX_DEVNET_NODES; nodes++) {
      assert.doesNotThrow(() => validateDevnetPorts(defaults(nodes)), `${nodes} nodes`);
      const http = devnetPorts(defaults(nodes)).filter((p) => p.kind !== "p2p");
      assert.deepEqual(
        http.filter((p) => isFetchBlockedPort(p.port)),
        [],
      );
    }
    // Node K is on base + K, with no exceptions to remember.
    const node11 = devnetPorts(defaults(12)).filter((p) => p.nodeId === 11);
    assert.deepEqual(
      node11.map((p) => p.port),
      [DEFAULT_BASE_P2P_PORT + 11, DEFAULT_BASE_HTTP_PORT + 11, DEFAULT_BASE_METRICS_PORT + 11],
    );
  });

  it("the old HTTP base 5052 is refused at 12 nodes, naming node 8's port 5060 and the flag", () => {
    assert.throws(
      () => validateDevnetPorts({ ...defaults(12), baseHttpPort: 5052 }),
      /--base-http-port 5052 puts node 8 HTTP API port 5060 on a blocked port.*Blocked in this range: 5060, 5061/,
    );
    assert.doesNotThrow(() => validateDevnetPorts({ ...defaults(8), baseHttpPort: 5052 }), "nodes 0-7 stop at 5059");
    assert.throws(
      () => validateDevnetPorts({ ...defaults(4), baseMetricsPort: 5998 }),
      /--base-metrics-port 5998 puts node 2 metrics port 6000/,
    );
  });

  it("refuses overlapping ranges and ports above 65535", () => {
    assert.throws(
      () => validateDevnetPorts({ ...defaults(4), baseHttpPort: DEFAULT_BASE_P2P_PORT + 2 }),
      /port ranges overlap: node 0 HTTP API port 9002 and node 2 libp2p port 9002; move --base-port or --base-http-port/,
    );
    assert.throws(() => validateDevnetPorts({ ...defaults(4), basePort: 65_534 }), /--base-port too high: node 2/);
  });
});

describe("devnet port probe", () => {
  it("parses /proc/net/tcp rows: hex port, LISTEN state, inode", () => {
    const text = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:13BC 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0 100 0 0 10 0",
      "   1: 0100007F:A3F2 0100007F:13BC 01 00000000:00000000 00:00000000 00000000  1000        0 434343 1 0 20 4 30 10 -1",
    ].join("\n");
    assert.deepEqual(parseProcNetTcp(text), [
      { port: 5052, inode: 424242, listening: true },
      { port: 41970, inode: 434343, listening: false },
    ]);
  });

  it("finds a port in use and the process holding it (this one)", async () => {
    const port = await holdPort();
    assert.equal(await isPortFree("127.0.0.1", port), false);
    const conflicts = await findPortConflicts("127.0.0.1", [{ nodeId: 3, kind: "http", port }]);
    assert.equal(conflicts.length, 1);
    if (process.platform === "linux") {
      assert.equal(conflicts[0]?.holder?.pid, process.pid);
      assert.match(conflicts[0]?.holder?.command ?? "", /node/);
    }
    // A port nobody holds has no holder, and no conflict once released.
    const free = await holdPort();
    await new Promise((r) => servers.pop()?.close(r));
    assert.equal(await isPortFree("127.0.0.1", free), true);
    assert.deepEqual(await findPortConflicts("127.0.0.1", [{ nodeId: 0, kind: "p2p", port: free }]), []);
    assert.equal((await findPortHolders([free])).size, 0);
  });

  it("`devnet` fails on a port in use, naming it and its holder, before touching the output folder", async () => {
    const port = await holdPort();
    const out = await mkdtemp(join(tmpdir(), "metronome-devnet-ports-"));
    dirs.push(out);
    // A previous devnet's files in the output folder must survive the refused start.
    mkdirSync(join(out, "node-0"), { recursive: true });
    writeFileSync(join(out, "node-0", "node.log"), "still needed\n");
    const options: DevnetOptions = {
      nodes: 2,
      validators: 4,
      slotSeconds: 1,
      genesisDelay: 5,
      duration: 1,
      out,
      // Node 1's metrics port is the held one; the other ports are far from it.
      basePort: port > 40_000 ? port - 20_000 : port + 20_000,
      baseHttpPort: port > 40_000 ? port - 10_000 : port + 10_000,
      baseMetricsPort: port - 1,
      aggregators: 1,
      quiet: true,
      logLevel: "error",
    };
    const pidPart = process.platform === "linux" ? `held by pid ${process.pid} \\(node ` : "in use";
    await assert.rejects(runDevnet(options), (err: Error) => {
      assert.match(err.message, new RegExp(`node 1 metrics port ${port}: ${pidPart}`));
      assert.match(err.message, /--base-metrics-port/);
      return true;
    });
    assert.ok(existsSync(join(out, "node-0", "node.log")), "the output folder was not wiped");
    assert.ok(!existsSync(join(out, "genesis")), "no genesis was written");
  });
});
