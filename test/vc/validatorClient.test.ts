// The duty loop against real validator routes over real fork-choice stores (fakeBeaconNode.ts),
// with real BLS, a real LevelDB slashing-protection record, and the clock driven by hand.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { aggregateAttestations, Block, interopSecretKey, produceBlock, signAttestation, toHex } from "@metronome/chain";
import { SlotClock, type TimerApi } from "@metronome/clock";
import { Logger } from "@metronome/common";
import { makeChain, tickTo } from "../../packages/node/test/api/chainFixture.ts";
import { waitFor } from "../../packages/node/test/api/helpers.ts";
import { BeaconNodes } from "../../packages/validator/src/beaconNodes.ts";
import type { HeadUpdate } from "../../packages/validator/src/headMonitor.ts";
import { interchangeToJson, parseInterchangeText } from "../../packages/validator/src/slashing/slashingInterchange.ts";
import { SlashingProtection } from "../../packages/validator/src/slashing/slashingProtection.ts";
import { type HeadSource, ValidatorClient } from "../../packages/validator/src/validatorClient.ts";
import { VcMetrics } from "../../packages/validator/src/vcMetrics.ts";
import { deadUrl, type FakeBeaconNode, startFakeBeaconNode, startSilentServer } from "./fakeBeaconNode.ts";

const GENESIS_MS = 1_000_000;
const SLOT_MS = 4000;
const INTERVAL_MS = SLOT_MS / 5;
const INDICES = [0, 1, 2, 3];
const noTimers: TimerApi = { setTimeout: () => null, clearTimeout: () => {} };

interface Harness {
  client: ValidatorClient;
  metrics: VcMetrics;
  record: SlashingProtection;
  heads: { first: Map<number, HeadUpdate>; lagging: Set<string> };
  nodes: BeaconNodes;
  logs: string[];
  setTime(slot: number, interval: number): void;
}

const cleanups: (() => Promise<unknown>)[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "metronome-vc-"));
  dirs.push(dir);
  return dir;
}

async function node(): Promise<FakeBeaconNode> {
  const n = await startFakeBeaconNode(makeChain(GENESIS_MS / 1000));
  cleanups.push(() => n.close());
  return n;
}

async function harness(urls: string[], dataDir?: string, timeoutMs = 1000, fetchImpl?: typeof fetch): Promise<Harness> {
  let now = GENESIS_MS - 1;
  const clock = new SlotClock({ genesisTimeSec: GENESIS_MS / 1000, slotDurationMs: SLOT_MS, now: () => now });
  const metrics = new VcMetrics({ processMetrics: false });
  const nodes = new BeaconNodes({
    urls,
    timeoutMs,
    fetchImpl,
    onRequestError: (err) => metrics.requestErrors.inc({ url: err.url, kind: err.kind }),
  });
  const record = await SlashingProtection.open(
    dataDir ?? (await tempDir()),
    toHex(makeChain(GENESIS_MS / 1000).domains.forkDigest),
  );
  const heads = { first: new Map<number, HeadUpdate>(), lagging: new Set<string>() };
  const headSource: HeadSource = {
    firstHeadForSlot: (slot) => heads.first.get(slot),
    laggingUrls: () => heads.lagging,
  };
  const logs: string[] = [];
  const client = new ValidatorClient({
    clock,
    nodes,
    heads: headSource,
    protection: record,
    keys: INDICES.map((index) => {
      const secretKey = interopSecretKey(index);
      return { index, secretKey, pubkey: secretKey.toPublicKey().toBytes() };
    }),
    domains: makeChain(GENESIS_MS / 1000).domains,
    metrics,
    logger: new Logger({ level: "debug", format: "text", write: (l) => logs.push(l) }),
    timers: noTimers,
  });
  client.start();
  const stop = async () => {
    await client.stop();
    await record.close();
  };
  cleanups.push(stop);
  return {
    client,
    metrics,
    record,
    heads,
    nodes,
    logs,
    setTime: (slot, interval) => {
      now = GENESIS_MS + slot * SLOT_MS + interval * INTERVAL_MS + 10;
    },
  };
}

async function metricValue(metrics: VcMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Imports the slot-1 block (proposer 1) into `n`'s store; returns its root as 0x-hex. */
function importSlotOne(n: FakeBeaconNode): string {
  tickTo(n.chain, 1, 0);
  const signed = produceBlock(n.chain.store, 1, 1, interopSecretKey(1));
  n.chain.store.onBlock(signed);
  return toHex(Block.hashTreeRoot(signed.block));
}

function head(url: string, slot: number, root: string): HeadUpdate {
  return { url, slot, root, receivedAtMs: 0, delayMs: 100 };
}

describe("validator client: attesting", () => {
  it("attests at the attestation interval from the best node when no early head came", async () => {
    const a = await node();
    const h = await harness([a.url]);
    tickTo(a.chain, 1, 1);
    h.setTime(1, 1);
    h.client.onInterval(1, 1);
    await waitFor(() => h.client.attestationRecords.length === 1, "an attestation record");
    const [rec] = h.client.attestationRecords;
    assert.equal(rec?.source, "interval");
    assert.equal(rec?.published, 4);
    assert.deepEqual([...a.published.attestationIndices].sort(), INDICES);
    assert.equal(await metricValue(h.metrics, "vc_attestations_published_total", { source: "interval" }), 4);
  });

  it("attests at once on the first head of the slot, with data from that node, checking the root", async () => {
    const a = await node();
    const b = await node();
    const h = await harness([a.url, b.url]);
    const rootOnB = importSlotOne(b);
    tickTo(a.chain, 1, 0);
    h.setTime(1, 0);
    // B, ranked second, announced the slot's head: its data is used, not the best node's.
    h.client.onHead(head(b.url, 1, rootOnB));
    await waitFor(() => h.client.attestationRecords.length === 1, "an early attestation");
    const [rec] = h.client.attestationRecords;
    assert.equal(rec?.source, "head");
    assert.equal(rec?.url, b.url);
    assert.equal(rec?.headRoot, rootOnB);
    assert.equal(b.published.attestations, 4, "published first through the node that served the data");
    assert.equal(a.published.attestations, 0);
    // The attestation interval then has nothing left to do for this slot.
    h.setTime(1, 1);
    h.client.onInterval(1, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.client.attestationRecords.length, 1);
  });

  it("ignores an early head whose root the node does not serve, and heads from lagging nodes", async () => {
    const a = await node();
    const b = await node();
    const asked: string[] = [];
    const counting = ((input: string | URL | Request, init?: RequestInit) => {
      if (String(input).includes("/attestation_data")) asked.push(new URL(String(input)).origin);
      return fetch(input, init);
    }) as typeof fetch;
    const h = await harness([a.url, b.url], undefined, 1000, counting);
    const rootOnA = importSlotOne(a);
    tickTo(b.chain, 1, 0);
    h.setTime(1, 0);
    // B claims a head for slot 1 but its store has none: the root check refuses the early path.
    h.client.onHead(head(b.url, 1, rootOnA));
    // A is marked lagging: its head does not trigger either.
    h.heads.lagging.add(a.url);
    h.client.onHead(head(a.url, 1, rootOnA));
    await waitFor(() => h.logs.some((l) => /early attestation skipped/.test(l)), "the early path to give up");
    // B repeating its head does not make the client ask it again this slot.
    h.client.onHead(head(b.url, 1, rootOnA));
    h.client.onHead(head(b.url, 1, rootOnA));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(asked, [b.url], "one early try, on B only");
    assert.equal(h.client.attestationRecords.length, 0);
    assert.equal(a.published.attestations + b.published.attestations, 0);
    tickTo(a.chain, 1, 1);
    h.setTime(1, 1);
    h.client.onInterval(1, 1);
    await waitFor(() => h.client.attestationRecords.length === 1, "the interval attestation");
    assert.equal(h.client.attestationRecords[0]?.source, "interval");
  });

  it("falls back past a dead node and a silent one without stalling the loop", async () => {
    const dead = await deadUrl();
    const silent = await startSilentServer();
    cleanups.push(() => silent.close());
    const b = await node();
    const h = await harness([silent.url, dead, b.url], undefined, 300);
    tickTo(b.chain, 1, 1);
    h.setTime(1, 1);
    const t0 = performance.now();
    h.client.onInterval(1, 1);
    assert.ok(performance.now() - t0 < 50, "onInterval must not wait for any beacon node");
    await waitFor(() => h.client.attestationRecords.length === 1, "an attestation via the third node", 5000);
    assert.equal(h.client.attestationRecords[0]?.url, b.url);
    assert.equal(b.published.attestations, 4);
    assert.ok(
      (await metricValue(h.metrics, "vc_beacon_node_request_errors_total", { url: silent.url, kind: "timeout" })) >= 1,
    );
    assert.ok(
      (await metricValue(h.metrics, "vc_beacon_node_request_errors_total", { url: dead, kind: "network" })) >= 1,
    );
    // Failed nodes now rank last: the next call goes straight to the working one.
    assert.equal(h.nodes.ranked()[0]?.client.url, b.url);
  });

  it("attestation data fetched across a chain_reorg is fetched again before signing", async () => {
    const a = await node();
    let dataRequests = 0;
    let reorg: (() => void) | null = null;
    let newRoot = "";
    // The reorg lands while the first attestation_data answer is on its way back.
    const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (String(input).includes("/attestation_data") && ++dataRequests === 1) {
        newRoot = importSlotOne(a);
        tickTo(a.chain, 1, 1);
        reorg?.();
      }
      return res;
    }) as typeof fetch;
    const h = await harness([a.url], undefined, 1000, fetchImpl);
    reorg = () => h.client.onReorg({ url: a.url, slot: 1, depth: 1, oldHead: "0x00", newHead: newRoot });
    tickTo(a.chain, 1, 1);
    h.setTime(1, 1);
    h.client.onInterval(1, 1);
    await waitFor(() => h.client.attestationRecords.length === 1, "the attestation");
    assert.equal(dataRequests, 2, "the data from before the reorg was fetched again");
    assert.equal(h.client.attestationRecords[0]?.headRoot, newRoot, "the vote is on the new head");
  });

  it("a chain_reorg drops cached duties and re-resolves them", async () => {
    const a = await node();
    const h = await harness([a.url]);
    await h.client.duties.get(1);
    assert.ok(h.client.duties.size > 0);
    h.setTime(1, 0);
    h.client.onReorg({ url: a.url, slot: 1, depth: 1, oldHead: "0x00", newHead: "0x01" });
    assert.equal(h.client.duties.peek(1), undefined, "the cache is cleared at once");
    await waitFor(() => h.client.duties.peek(1) !== undefined, "duties re-resolved");
    assert.equal(await metricValue(h.metrics, "vc_duty_fetches_total", { cause: "reorg" }), 1);
  });
});

describe("validator client: proposing", () => {
  it("proposes at interval 0: signs the node's block and publishes the full aggregate", async () => {
    const a = await node();
    const h = await harness([a.url]);
    // A pool aggregate (validators 0, 2, 3 voting in slot 1) goes into the body: the signature the
    // client sends must aggregate the proposer's with it, or the store rejects the block.
    tickTo(a.chain, 1, 1);
    const data = a.chain.store.produceAttestationData(1);
    const votes = [0, 2, 3].map((i) => signAttestation(interopSecretKey(i), i, data, a.chain.domains));
    const [agg] = aggregateAttestations(votes);
    assert.ok(agg);
    a.chain.store.processGossipAggregate(agg);
    tickTo(a.chain, 2, 0);
    h.setTime(2, 0);
    h.client.onInterval(2, 0);
    await waitFor(() => h.client.counters.blocksPublished === 1, "a published block", 5000);
    assert.equal(a.published.blocks, 1);
    assert.equal(a.chain.store.head.slot, 2);
    const block = a.chain.store.getBlock(a.chain.store.head.root);
    assert.equal(block?.proposerIndex, 2);
    assert.equal(block?.body.attestations.length, 1, "the pool aggregate is in the published block");
    const exported = await h.record.exportInterchange();
    const proposer = exported.data.find((e) => e.pubkey === toHex(interopSecretKey(2).toPublicKey().toBytes()));
    assert.deepEqual(
      proposer?.signedBlocks.map((b) => b.slot),
      [2],
    );
  });
});

describe("validator client: slashing protection in the loop", () => {
  it("a restart in the middle of a slot does not re-sign differently; the same data is re-broadcast", async () => {
    const dir = await tempDir();
    const a = await node();
    const b = await node();
    const rootOnA = importSlotOne(a);
    tickTo(a.chain, 1, 1);
    tickTo(b.chain, 1, 1);
    const first = await harness([a.url], dir);
    first.setTime(1, 1);
    first.client.onInterval(1, 1);
    await waitFor(() => first.client.attestationRecords.length === 1, "the first attestation");
    assert.equal(first.client.attestationRecords[0]?.headRoot, rootOnA);
    await first.client.stop();
    await first.record.close();

    // Restarted mid-slot against B, whose head differs: the vote for slot 1 would differ.
    const second = await harness([b.url], dir);
    second.setTime(1, 1);
    second.client.onInterval(1, 1);
    await waitFor(() => second.client.attestationRecords.length === 1, "the second attempt");
    assert.equal(second.client.attestationRecords[0]?.refused, 4);
    assert.equal(b.published.attestations, 0, "nothing signed differently reached a node");
    assert.equal(
      await metricValue(second.metrics, "vc_slashing_protection_refusals_total", { duty: "attestation" }),
      4,
    );
    await second.client.stop();
    await second.record.close();

    // Against A again, the same vote is allowed out again (re-broadcast).
    const third = await harness([a.url], dir);
    third.setTime(1, 1);
    third.client.onInterval(1, 1);
    await waitFor(() => third.client.attestationRecords.length === 1, "the re-broadcast");
    assert.equal(third.client.attestationRecords[0]?.published, 4);
  });

  it("a second client with the same keys and the imported record refuses the double signature", async () => {
    const a = await node();
    const b = await node();
    importSlotOne(a);
    tickTo(a.chain, 1, 1);
    tickTo(b.chain, 1, 1);
    const first = await harness([a.url]);
    first.setTime(1, 1);
    first.client.onInterval(1, 1);
    await waitFor(() => first.client.attestationRecords.length === 1, "the first client's attestation");
    const file = JSON.stringify(interchangeToJson(await first.record.exportInterchange()));

    const secondDir = await tempDir();
    const imported = await SlashingProtection.open(secondDir, first.record.forkDigest);
    await imported.importInterchange(parseInterchangeText(file));
    await imported.close();
    const second = await harness([b.url], secondDir);
    second.setTime(1, 1);
    second.client.onInterval(1, 1);
    await waitFor(() => second.client.attestationRecords.length === 1, "the second client's attempt");
    assert.equal(second.client.attestationRecords[0]?.published, 0);
    assert.equal(second.client.counters.slashingRefusals, 4);
    assert.equal(b.published.attestations, 0);
  });
});
