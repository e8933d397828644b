// The validator client (`metronome validator`) against a real 3-node devnet. The nodes run
// validators 0-23 and the client 24-31, so once a node is killed (16 of 32 left in nodes) the
// chain finalizes only if the client's votes count. Scenarios, in order:
//   - the client attests every slot and proposes its slots through the nodes;
//   - node 0 is SIGKILLed: the client keeps attesting through the others (no missed duty after
//     the kill slot), finality keeps advancing, its stream-disconnection counter shows the kill;
//   - node 0 restarts: its head stream is back within about a slot (reconnection counter);
//   - the node list is replaced at run time through the admin API (with a scripted SSE node):
//     heads are attributed to the right URLs;
//   - a second client on the same data dir is refused (the record's lock); the record exports,
//     imports into a fresh data dir, and a corrupt file gives a clear error.
// Run under the shared lock: flock /tmp/metronome-heavy.lock node --test test/validatorClient.test.ts
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { EventSource } from "eventsource";
import { TestDevnet, waitUntil } from "./helpers/devnet.ts";

const METRONOME_BIN = fileURLToPath(new URL("../packages/node/src/bin/metronome.ts", import.meta.url));
const NODE_VALIDATORS = ["0-7", "8-15", "16-23"];
const VC_INDICES = [24, 25, 26, 27, 28, 29, 30, 31];
const VICTIM = 0;

interface VcProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logFile: string;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function runMetronome(args: string[], logFile: string): VcProcess {
  const child = spawn(process.execPath, [METRONOME_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => {
      children.delete(child);
      log.end();
      resolve({ code, signal });
    }),
  );
  return { child, exited, logFile };
}

/** Runs a metronome command to completion; resolves with its exit code and output. */
async function runToEnd(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [METRONOME_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    output += b.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  clearTimeout(timer);
  children.delete(child);
  return { code, output };
}

/** Prometheus text -> sum of the samples of `name` whose labels include `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labelText = match[1] ?? "";
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(match[2]);
  }
  return sum;
}

/** A stand-in beacon node that only serves a head stream announcing a fixed, recognizable root. */
async function scriptedHeadNode(root: string, slotOf: () => number): Promise<{ url: string; close(): Promise<void> }> {
  const streams = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith("/eth/v1/events")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"code":404,"message":"not here"}');
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    streams.add(res);
    res.on("close", () => streams.delete(res));
  });
  const timer = setInterval(() => {
    const data = JSON.stringify({ slot: String(slotOf()), block: root, state: root, epoch_transition: true });
    for (const res of streams) res.write(`event: head\ndata: ${data}\n\n`);
  }, 250);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("validator client against a 3-node devnet", { timeout: 170_000 }, () => {
  let net: TestDevnet;
  let vc: VcProcess;
  let vcDataDir: string;
  let adminPort: number;
  let metricsPort: number;
  let token: string;
  const urls: string[] = [];
  /** slot -> VC validators whose vote for that slot some node reported (attestation events). */
  const seenVotes = new Map<number, Set<number>>();
  const sources: EventSource[] = [];
  let killSlot = -1;

  const nowSlot = () => Math.floor((Date.now() - net.genesis.chain.genesisTime * 1000) / net.slotMs);
  const metrics = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const admin = (path: string, init: RequestInit = {}, auth = true) =>
    fetch(`http://127.0.0.1:${adminPort}${path}`, {
      ...init,
      headers: { ...(auth ? { authorization: `Bearer ${token}` } : {}), "content-type": "application/json" },
    });
  const vcLog = () =>
    existsSync(vc.logFile) ? readFileSync(vc.logFile, "utf8").split("\n").slice(-30).join("\n") : "";

  before(async () => {
    net = await TestDevnet.create({ name: "vc", nodes: 3, validators: 32, aggregators: 3 });
    for (const id of [0, 1, 2]) {
      net.start(id, ["--validator-indices", NODE_VALIDATORS[id] as string]);
      urls.push(`http://127.0.0.1:${net.entry(id).httpPort}`);
    }
    // Every node's attestation stream: the VC's votes as the chain sees them.
    for (const url of urls) {
      const es = new EventSource(`${url}/eth/v1/events?topics=attestation`);
      es.addEventListener("attestation", (e) => {
        const att = JSON.parse(e.data) as { data: { slot: string }; attesting_indices: string[] };
        const slot = Number(att.data.slot);
        for (const i of att.attesting_indices.map(Number)) {
          if (!VC_INDICES.includes(i)) continue;
          let set = seenVotes.get(slot);
          if (set === undefined) {
            set = new Set();
            seenVotes.set(slot, set);
          }
          set.add(i);
        }
      });
      es.onerror = () => {};
      sources.push(es);
    }
    vcDataDir = join(net.dir, "vc");
    adminPort = await freePort();
    metricsPort = await freePort();
    vc = runMetronome(
      [
        "validator",
        "--beacon-nodes",
        urls.join(","),
        "--validator-indices",
        "24-31",
        "--data-dir",
        vcDataDir,
        "--genesis",
        net.genesisDir,
        "--http-port",
        String(adminPort),
        "--metrics-port",
        String(metricsPort),
      ],
      join(net.dir, "vc.log"),
    );
    token = await waitUntil(
      async () => {
        const path = join(vcDataDir, "api-token.txt");
        return existsSync(path) ? (await readFile(path, "utf8")).trim() : null;
      },
      "the VC's generated token file",
      15_000,
    );
  });

  after(async () => {
    for (const es of sources) es.close();
    if (vc !== undefined && vc.child.exitCode === null && vc.child.signalCode === null) {
      vc.child.kill("SIGTERM");
      await vc.exited;
    }
    await net?.teardown();
  });

  it("attests every slot for its 8 validators; the nodes see the votes", async () => {
    await net.waitForHealth([0, 1, 2], (hs) => hs.every((h) => h.finalized_slot >= 4), "finality past slot 4", 60_000);
    const from = nowSlot() - 3;
    for (let slot = from; slot < from + 3; slot++) {
      assert.equal(
        seenVotes.get(slot)?.size,
        8,
        `VC votes seen for slot ${slot}: ${[...(seenVotes.get(slot) ?? [])]}\n${vcLog()}`,
      );
    }
    const text = await metrics();
    assert.ok(metricSum(text, "vc_attestations_published_total") >= 24, vcLog());
    assert.equal(metricSum(text, "vc_slashing_protection_refusals_total"), 0);
  });

  it("a second client on the same data dir refuses to start (the record is locked)", async () => {
    const second = await runToEnd([
      "validator",
      "--beacon-nodes",
      urls[1] as string,
      "--validator-indices",
      "24-31",
      "--data-dir",
      vcDataDir,
      "--genesis",
      net.genesisDir,
      "--http-port",
      "0",
      "--metrics-port",
      "0",
    ]);
    assert.equal(second.code, 1, second.output);
    assert.match(
      second.output,
      /locked by another process: is another validator client or node running on this --data-dir/,
    );
  });

  it("node 0 is killed: the client keeps attesting through the others, finality keeps advancing", async () => {
    const beforeKill = await metrics();
    assert.equal(
      metricSum(beforeKill, "vc_head_monitor_stream_disconnections_total", { url: urls[VICTIM] as string }),
      0,
    );
    killSlot = nowSlot();
    await net.stop(VICTIM, "SIGKILL");
    // 16 validators in the surviving nodes + the client's 8 = 24 of 32. Finalizing a slot after
    // the kill needs 2/3 of votes cast after it: without the client's votes it cannot happen.
    await net.waitForHealth(
      [1, 2],
      (hs) => hs.every((h) => h.finalized_slot >= killSlot + 2 && h.current_slot >= killSlot + 5),
      `finality past slot ${killSlot + 2} without node 0`,
      25_000,
    );
    const through = nowSlot() - 1;
    for (let slot = killSlot + 1; slot <= through; slot++) {
      assert.equal(
        seenVotes.get(slot)?.size,
        8,
        `slot ${slot} (kill at ${killSlot}): VC votes seen ${[...(seenVotes.get(slot) ?? [])]}\n${vcLog()}`,
      );
    }
    const text = await metrics();
    assert.ok(metricSum(text, "vc_head_monitor_stream_disconnections_total", { url: urls[VICTIM] as string }) >= 1);
    assert.ok(metricSum(text, "vc_beacon_node_request_errors_total", { url: urls[VICTIM] as string }) >= 1);
  });

  it("node 0 restarts: its head stream is back within about a slot", async () => {
    net.start(VICTIM, ["--validator-indices", NODE_VALIDATORS[VICTIM] as string]);
    await net.waitForHealth([VICTIM], () => true, "node 0's API after the restart", 20_000);
    const apiUpAt = Date.now();
    await waitUntil(
      async () =>
        metricSum(await metrics(), "vc_head_monitor_stream_reconnections_total", { url: urls[VICTIM] as string }) >= 1,
      "the VC's stream to node 0 reconnecting",
      5_000,
    );
    const backAfterMs = Date.now() - apiUpAt;
    // The monitor retries once per slot boundary; allow one slot plus the polls' granularity.
    assert.ok(backAfterMs <= net.slotMs + 750, `stream back ${backAfterMs} ms after node 0's API was up`);
  });

  it("the VC proposed its slots' blocks and the chain imported them", async () => {
    // Validators 24-31 propose slots 24-31 (round robin over 32).
    await net.waitForHealth([1], (hs) => hs.every((h) => h.head_slot >= 32), "head past slot 32", 30_000);
    const text = await metrics();
    assert.ok(metricSum(text, "vc_blocks_published_total") >= 1, vcLog());
    let imported = 0;
    for (let slot = 24; slot <= 31; slot++) {
      const { status, body } = await net.getJson(1, `/eth/v1/beacon/headers/${slot}`);
      if (status !== 200) continue;
      const header = (body as { data: { header: { message: { slot: string; proposer_index: string } } } }).data.header;
      if (header.message.slot === String(slot) && VC_INDICES.includes(Number(header.message.proposer_index)))
        imported++;
    }
    assert.ok(imported >= 1, `no block of the VC's proposers in slots 24-31 on node 1\n${vcLog()}`);
    assert.equal(imported, metricSum(text, "vc_blocks_published_total"), "every published block is on the chain");
  });

  it("replacing the node list at run time: heads are attributed to the right URLs", async () => {
    const fakeRoot = `0x${"dd".repeat(32)}`;
    const scripted = await scriptedHeadNode(fakeRoot, nowSlot);
    try {
      const unauthorized = await admin("/vc/v0/beacon_nodes", {}, false);
      assert.equal(unauthorized.status, 401);
      const bad = await admin("/vc/v0/beacon_nodes", { method: "POST", body: JSON.stringify({ urls: ["nope"] }) });
      assert.equal(bad.status, 400);
      const next = [scripted.url, urls[2] as string, urls[1] as string];
      const res = await admin("/vc/v0/beacon_nodes", { method: "POST", body: JSON.stringify({ urls: next }) });
      assert.equal(res.status, 200, await res.text());
      type View = { url: string; head: { slot: string; root: string } | null };
      const list = await waitUntil(
        async () => {
          const body = (await (await admin("/vc/v0/beacon_nodes")).json()) as { data: View[] };
          return body.data.every((n) => n.head !== null) ? body.data : null;
        },
        "a head from every node of the new list",
        5_000,
      );
      assert.deepEqual(
        list.map((n) => n.url),
        next,
      );
      assert.equal(list[0]?.head?.root, fakeRoot, "the scripted node's head");
      for (const view of list.slice(1)) {
        const id = urls.indexOf(view.url);
        assert.notEqual(view.head?.root, fakeRoot, `${view.url} got the scripted node's head`);
        assert.equal(
          view.head?.root,
          await net.headerRoot(id, Number(view.head?.slot)),
          `${view.url}'s head is its own block`,
        );
      }
      const text = await metrics();
      assert.ok(metricSum(text, "vc_head_monitor_restarts_total", { reason: "replace_urls" }) >= 1);
      // The dropped node's per-URL series are gone.
      assert.equal(metricSum(text, "vc_head_monitor_stream_disconnections_total", { url: urls[VICTIM] as string }), 0);
      // The client keeps attesting with the new list (the scripted node serves no validator routes).
      const published = metricSum(text, "vc_attestations_published_total");
      await waitUntil(
        async () => metricSum(await metrics(), "vc_attestations_published_total") >= published + 16,
        "two more slots of attestations with the new list",
        5_000,
      );
    } finally {
      await scripted.close();
    }
  });

  it("the record exports after the client stops, imports into a fresh data dir; a corrupt file is refused", async () => {
    vc.child.kill("SIGTERM");
    const exit = await vc.exited;
    assert.equal(exit.code, 0, vcLog());
    const file = join(net.dir, "record.json");
    const exported = await runToEnd([
      "validator",
      "slashing-protection",
      "export",
      "--data-dir",
      vcDataDir,
      "--genesis",
      net.genesisDir,
      "--file",
      file,
    ]);
    assert.equal(exported.code, 0, exported.output);
    const doc = JSON.parse(await readFile(file, "utf8")) as {
      metadata: { fork_digest: string };
      data: { pubkey: string; signed_attestations: { slot: string; signing_root: string }[] }[];
    };
    assert.equal(doc.metadata.fork_digest, `0x${net.forkDigest.replace(/^0x/, "")}`);
    assert.equal(doc.data.length, 8);
    for (const entry of doc.data) {
      const slots = entry.signed_attestations.map((a) => Number(a.slot));
      assert.equal(new Set(slots).size, slots.length, "one attestation per slot");
      assert.ok(slots.includes(killSlot + 1), `${entry.pubkey.slice(0, 10)} signed slot ${killSlot + 1}`);
    }
    const imported = await runToEnd([
      "validator",
      "slashing-protection",
      "import",
      "--data-dir",
      join(net.dir, "vc2"),
      "--genesis",
      net.genesisDir,
      "--file",
      file,
    ]);
    assert.equal(imported.code, 0, imported.output);
    assert.match(imported.output, /slots added, 0 already on record, 0 conflicting/);
    await writeFile(join(net.dir, "corrupt.json"), '{"metadata": {"interchange_format": ');
    const corrupt = await runToEnd([
      "validator",
      "slashing-protection",
      "import",
      "--data-dir",
      join(net.dir, "vc2"),
      "--genesis",
      net.genesisDir,
      "--file",
      join(net.dir, "corrupt.json"),
    ]);
    assert.equal(corrupt.code, 1);
    assert.match(corrupt.output, /corrupt\.json: not valid JSON/);
    assert.doesNotMatch(corrupt.output, /\n\s+at /, "a clear error, not a stack trace");
  });
});
