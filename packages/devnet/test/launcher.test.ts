import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { NodeEntry } from "@metronome/common";
import { foreignReason, type NodeHealth } from "../src/health.ts";
import { Devnet } from "../src/launcher.ts";
import { renderStatusTable } from "../src/statusTable.ts";

const OUR_FORK = "1a2b3c4d";
const servers: Server[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function health(over: Partial<NodeHealth>): NodeHealth {
  return {
    status: "healthy",
    reasons: [],
    node_id: 0,
    peer_id: "peer-0",
    fork_digest: OUR_FORK,
    current_slot: 5,
    head_slot: 5,
    head_root: "0xaa",
    justified_slot: 3,
    justified_root: "0xbb",
    finalized_slot: 2,
    finalized_root: "0xcc",
    peers: 3,
    sync_state: "SYNCED",
    ticks: 25,
    last_tick_age_ms: 10,
    intervals_missed: 0,
    drops: {},
    ...over,
  };
}

/** An HTTP server on a free loopback port answering /lean/v0/health with `body`. */
async function healthServer(body: NodeHealth): Promise<number> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

function entry(nodeId: number, httpPort: number): NodeEntry {
  return {
    nodeId,
    validatorIndices: [nodeId],
    isAggregator: nodeId === 0,
    peerId: `peer-${nodeId}`,
    listen: "/ip4/127.0.0.1/tcp/0",
    httpPort,
    metricsPort: 0,
  };
}

describe("devnet poller", () => {
  it("tells our node from another chain's or another devnet's on the same port", () => {
    assert.equal(foreignReason(health({}), { forkDigest: OUR_FORK, peerId: "peer-0" }), null);
    assert.match(
      foreignReason(health({ fork_digest: "deadbeef" }), { forkDigest: OUR_FORK, peerId: "peer-0" }) ?? "",
      /foreign: fork deadbeef/,
    );
    assert.match(
      foreignReason(health({ peer_id: "peer-9" }), { forkDigest: OUR_FORK, peerId: "peer-0" }) ?? "",
      /foreign: peer peer-9/,
    );
  });

  it("ignores a node whose health reports another fork digest or peer id, and shows why", async () => {
    const ours = await healthServer(health({ node_id: 0, peer_id: "peer-0" }));
    const otherChain = await healthServer(health({ node_id: 1, peer_id: "peer-1", fork_digest: "deadbeef" }));
    const otherDevnet = await healthServer(health({ node_id: 2, peer_id: "someone-else" }));
    const out = await mkdtemp(join(tmpdir(), "metronome-launcher-"));
    dirs.push(out);
    const devnet = new Devnet([entry(0, ours), entry(1, otherChain), entry(2, otherDevnet)], {
      genesisDir: out,
      outDir: out,
      logLevel: "error",
      forkDigest: OUR_FORK,
    });
    // Polled as if running; nothing is spawned.
    for (const n of devnet.nodes) n.child = {} as ChildProcess;
    const healths = await devnet.pollAll();
    assert.equal(healths[0]?.node_id, 0, "our node is read");
    assert.equal(healths[1], null, "another chain's node is not");
    assert.equal(healths[2], null, "another devnet's node is not");
    assert.deepEqual(
      devnet.nodes.map((n) => n.foreign),
      [null, "foreign: fork deadbeef", "foreign: peer someone-else"],
    );
    const table = renderStatusTable(
      devnet.nodes.map((n, i) => ({
        nodeId: n.entry.nodeId,
        health: healths[i] ?? null,
        exited: n.foreign ?? undefined,
      })),
    );
    assert.match(table, /\n1 +- +foreign: fork deadbeef/);
    for (const n of devnet.nodes) n.child = null;
  });
});
