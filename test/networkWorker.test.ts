// The network in its own worker thread: a 2-node devnet keeps finalizing across a forced restart of
// node 0's network worker. Node 0 runs with the debug flag --debug-sigusr2-kills-network-worker, so
// SIGUSR2 terminates its network worker as if it had crashed (without the flag SIGUSR2 would end
// the process). The node must log it, restart the worker with the same peer id and port, count the
// restart on /lean/v0/health, reconnect to node 1, and finality must go on.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { parsePromText, promValue } from "../packages/flood/src/promText.ts";
import { type NodeHealth, TestDevnet } from "./helpers/devnet.ts";

const NODES = [0, 1];

describe("network worker: a 2-node devnet keeps finalizing across a network-worker restart", () => {
  let net: TestDevnet;
  let beforeKill: NodeHealth[] = [];
  let afterRestart: NodeHealth | undefined;

  before(async () => {
    net = await TestDevnet.create({ name: "networker", nodes: 2, validators: 16 });
    net.start(0, ["--debug-sigusr2-kills-network-worker"]);
    net.start(1);
  });
  after(async () => {
    await net?.teardown();
  });

  it("both nodes run libp2p in a worker and finalize", async () => {
    beforeKill = await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.finalized_slot >= 3 && h.peers === 1),
      "finalized slot >= 3 with a peer",
      90_000,
    );
    for (const h of beforeKill) {
      assert.equal(h.network_thread, "worker");
      assert.equal(h.network_worker_restarts, 0);
    }
  });

  it("node 0's network worker is terminated; the node logs it and restarts it, same peer id", async () => {
    const child = net.node(0).child;
    assert.ok(child !== null);
    child.kill("SIGUSR2");
    const [restarted] = await net.waitForHealth(
      [0],
      (hs) => hs.every((h) => h.network_worker_restarts === 1 && h.peers === 1),
      "network worker restarted and reconnected",
      30_000,
    );
    assert.ok(net.isRunning(0), "the node process itself never stopped");
    afterRestart = restarted;
    assert.equal(restarted?.peer_id, beforeKill[0]?.peer_id);
    const log = readFileSync(net.logPath(0), "utf8");
    assert.match(log, /network worker exited \(code 1\); restarting it/);
    assert.match(log, /network worker restarted/);
    // The scrape syncs the counters itself; poll in case the restart is counted a moment later.
    const deadline = Date.now() + 10_000;
    let restarts = Number.NaN;
    while (restarts !== 1 && Date.now() < deadline) {
      restarts = promValue(parsePromText(await net.scrapeMetrics(0)), "metronome_network_thread_restarts_total");
      if (restarts !== 1) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(restarts, 1, "metronome_network_thread_restarts_total counts the restart");
  });

  it("peers reconnect and finality goes on after the restart", async () => {
    const finalizedAtRestart = afterRestart?.finalized_slot ?? Number.POSITIVE_INFINITY;
    const healths = await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.finalized_slot >= finalizedAtRestart + 3 && h.peers === 1),
      "finality 3 slots past the restart",
      90_000,
    );
    const lowest = Math.min(...healths.map((h) => h.finalized_slot));
    assert.equal(
      await net.finalizedRoot(0, lowest),
      await net.finalizedRoot(1, lowest),
      "both finalized the same block",
    );
    const [node0] = healths;
    assert.equal(node0?.intervals_missed, 0, "the slot clock never missed an interval");
  });
});
