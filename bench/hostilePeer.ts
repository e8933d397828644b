// The hostile-peer benchmark (issue 15's memory target): a 2-node devnet (4 s slots), then for
// `--seconds` a rogue libp2p peer attacks node 0 with what a peer can make a node hold:
//   - junk blocks with unknown parents, correctly signed by the slot's proposer (so they pass the
//     signature check before the orphan cache and the node asks the rogue for their parents);
//   - snappy bombs: small compressed payloads that declare 10 MiB on the block topic and 1 MiB on
//     the vote topic;
//   - oversized req/resp responses: every BlocksByRoot/BlocksByRange the node sends it is answered
//     with 16 blocks of 2.6 MB (4096 full aggregates, the SSZ type's maxSize), and its Status claims
//     a head ahead. With `--response-blocks valid` the blocks are instead the largest a node can
//     import (8 full aggregates, 5,380 bytes): what this attacker is left with once oversized blocks
//     are refused by their length, so each is decoded and hashed before it proves unasked-for.
// When node 0 cuts the rogue off, the attacker comes back under a new identity (a real attacker's
// move). Node 0's RSS is sampled from /proc every second, and every 2 s its /metrics for the heap of
// each V8 isolate that can grow under this attack (the main thread's, the network worker's) and the
// req/resp response bytes in flight; finality is read before and after.
// Writes bench/results/hostilePeer.json.
//   node bench/hostilePeer.ts [--seconds 70] [--validators 16] [--slot-seconds 4]
//                             [--response-blocks huge|valid]
import {
  AggregationBits,
  type Block,
  fromHex,
  interopSecretKey,
  MAX_ATTESTATIONS_DATA,
  proposerIndexForSlot,
  type SignedBlock,
  SigningDomains,
  signBlock,
} from "@metronome/chain";
import { compressBlock, NetworkHost } from "@metronome/network";
import { TestDevnet, waitUntil } from "../test/helpers/devnet.ts";
import { benchOptions } from "./lib/benchArgs.ts";
import { machineInfo } from "./lib/machine.ts";
import { procSample } from "./lib/procStats.ts";
import { printTable, writeResult } from "./lib/report.ts";

const values = benchOptions(import.meta.url, {
  seconds: { type: "string", default: "70" },
  validators: { type: "string", default: "16" },
  "slot-seconds": { type: "string", default: "4" },
  "response-blocks": { type: "string", default: "huge" },
});
if (values["response-blocks"] !== "huge" && values["response-blocks"] !== "valid") {
  console.error(`hostilePeer: --response-blocks is huge or valid, not ${values["response-blocks"]}`);
  process.exit(2);
}
const params = {
  seconds: Number(values.seconds),
  validators: Number(values.validators),
  slotSeconds: Number(values["slot-seconds"]),
  responseBlocks: values["response-blocks"] as "huge" | "valid",
};

const TARGET = 0;
/** The issue's bound on node 0's resident memory under this attack. */
const RSS_TARGET_MIB = 400;
/** One round of junk block + two bombs per this many ms: fast, yet leaves the attacker's own CPU for the node. */
const ATTACK_PERIOD_MS = 200;
/** Blocks per response: 16 (the node asks at most 16 roots at a time), each over or at the size bound. */
const OVERSIZED_RESPONSE_BLOCKS = 16;
/** Node 0's heap and response-budget series are scraped this often (a scrape costs it a few ms). */
const HEAP_SAMPLE_MS = 2_000;
/** The series sampled, by the name the summary gives their peak. */
const HEAP_SERIES = {
  mainHeapTotal: "nodejs_heap_size_total_bytes",
  mainHeapUsed: "nodejs_heap_size_used_bytes",
  mainExternal: "nodejs_external_memory_bytes",
  networkHeapTotal: 'metronome_network_thread_heap_bytes{kind="total"}',
  networkHeapUsed: 'metronome_network_thread_heap_bytes{kind="used"}',
  networkExternal: 'metronome_network_thread_heap_bytes{kind="external"}',
  responseBytesInflight: "metronome_reqresp_response_bytes_inflight",
} as const;
type HeapSeries = keyof typeof HEAP_SERIES;

/** The value of each HEAP_SERIES line in a Prometheus exposition (absent ones are left out). */
function heapValues(exposition: string): Partial<Record<HeapSeries, number>> {
  const out: Partial<Record<HeapSeries, number>> = {};
  for (const line of exposition.split("\n")) {
    for (const [key, series] of Object.entries(HEAP_SERIES) as [HeapSeries, string][]) {
      if (line.startsWith(`${series} `)) out[key] = Number(line.slice(series.length + 1));
    }
  }
  return out;
}

/** Largest aggregation bitlist: 4096 bits and the delimiter bit, 513 bytes. */
const FULL_BITS = AggregationBits.deserialize(Uint8Array.from([...new Array(512).fill(0xff), 0x01]));

/**
 * A block of `aggregates` aggregated votes with full bitlists: 4096 (the SSZ type's maxSize, ~2.6 MB,
 * all with one data), or MAX_ATTESTATIONS_DATA of distinct data (the largest importable, 5,380 bytes).
 */
function fullBlock(slot: number, aggregates: number): SignedBlock {
  const checkpoint = { root: new Uint8Array(32), slot: 0 };
  const distinct = aggregates <= MAX_ATTESTATIONS_DATA;
  const block: Block = {
    slot,
    proposerIndex: 0,
    parentRoot: new Uint8Array(32).fill(7),
    stateRoot: new Uint8Array(32),
    body: {
      attestations: Array.from({ length: aggregates }, (_, i) => ({
        aggregationBits: FULL_BITS,
        data: { slot: distinct ? i : slot, head: checkpoint, target: checkpoint, source: checkpoint },
      })),
    },
  };
  return { block, signature: new Uint8Array(96) };
}

interface Tally {
  identities: number;
  junkBlocks: number;
  bombs: number;
  oversizedResponses: number;
  publishFailures: number;
}

async function main(): Promise<void> {
  const m = machineInfo();
  console.log(`machine: ${m.nproc} cpus, ${m.cpuModel}, load ${m.loadAverage1m}; ${JSON.stringify(params)}`);
  const net = await TestDevnet.create({
    name: "bench-hostile-peer",
    nodes: 2,
    validators: params.validators,
    slotSeconds: params.slotSeconds,
    logLevel: "warn",
  });
  const tally: Tally = { identities: 0, junkBlocks: 0, bombs: 0, oversizedResponses: 0, publishFailures: 0 };
  let rogue: NetworkHost | null = null;
  try {
    net.startAll();
    const [ready] = await net.waitForHealth(
      [0, 1],
      (hs) => hs.every((h) => h.finalized_slot >= 2),
      "finality",
      120_000,
    );
    const targetPeer = (ready as { peer_id: string }).peer_id;
    const pid = net.node(TARGET).child?.pid;
    if (pid === undefined) throw new Error("node 0 has no process");
    const domains = new SigningDomains(fromHex(net.forkDigest));
    const big = fullBlock(1, params.responseBlocks === "huge" ? 4096 : MAX_ATTESTATIONS_DATA);
    const blockBomb = compressBlock(new Uint8Array(10 * 1024 * 1024));
    const voteBomb = compressBlock(new Uint8Array(1024 * 1024));

    const connect = async (): Promise<NetworkHost> => {
      await rogue?.stop().catch(() => {});
      const host = new NetworkHost({
        forkDigest: net.forkDigest,
        listenAddresses: ["/ip4/127.0.0.1/tcp/0"],
        reqResp: { timeoutMs: 5_000 },
      });
      host.setReqRespHandlers({
        status: async () => {
          const h = await net.health(TARGET);
          const head = (h?.head_slot ?? 0) + 64;
          return {
            finalized: { root: new Uint8Array(32).fill(9), slot: head - 4 },
            head: { root: new Uint8Array(32).fill(8), slot: head },
          };
        },
        blocksByRoot: () => {
          tally.oversizedResponses++;
          return new Array(OVERSIZED_RESPONSE_BLOCKS).fill(big);
        },
        blocksByRange: () => {
          tally.oversizedResponses++;
          return new Array(OVERSIZED_RESPONSE_BLOCKS).fill(big);
        },
      });
      await host.start();
      await host.dial(net.multiaddr(TARGET));
      tally.identities++;
      rogue = host;
      await waitUntil(
        async () => host.gossipSubscribers("block").includes(targetPeer),
        "node 0's block topic",
        10_000,
      ).catch(() => null);
      return host;
    };

    const rss: number[] = [];
    const sampler = setInterval(() => {
      void procSample(pid).then((s) => {
        if (s !== null) rss.push(s.rssMiB);
      });
    }, 1_000);
    const heapPeak: Partial<Record<HeapSeries, number>> = {};
    const heapAtStart = heapValues(await net.scrapeMetrics(TARGET));
    const heapSampler = setInterval(() => {
      void net
        .scrapeMetrics(TARGET)
        .then((text) => {
          for (const [key, value] of Object.entries(heapValues(text)) as [HeapSeries, number][]) {
            heapPeak[key] = Math.max(heapPeak[key] ?? 0, value);
          }
        })
        .catch(() => {});
    }, HEAP_SAMPLE_MS);
    const before = await net.health(TARGET);
    const rssBefore = (await procSample(pid))?.rssMiB ?? 0;
    const deadline = Date.now() + params.seconds * 1000;
    let host = await connect();
    let n = 0;
    while (Date.now() < deadline) {
      if (!host.isConnected(targetPeer)) {
        host = await connect().catch(() => host);
        continue;
      }
      const slot = Math.max(1, (await net.health(TARGET))?.head_slot ?? 1);
      const proposer = proposerIndexForSlot(slot, params.validators);
      const parentRoot = new Uint8Array(32);
      parentRoot.set([n & 0xff, (n >> 8) & 0xff, 0xee]);
      const block: Block = {
        slot,
        proposerIndex: proposer,
        parentRoot,
        stateRoot: new Uint8Array(32),
        body: { attestations: [] },
      };
      const junk: SignedBlock = { block, signature: signBlock(block, interopSecretKey(proposer), [], domains) };
      n++;
      const sends = [
        host.publishBlock(junk).then(() => tally.junkBlocks++),
        host.publishRaw(host.topicName("block"), blockBomb).then(() => tally.bombs++),
        host.publishRaw(host.topicName("attestation", 0), voteBomb).then(() => tally.bombs++),
      ];
      for (const r of await Promise.allSettled(sends)) if (r.status === "rejected") tally.publishFailures++;
      await new Promise((resolve) => setTimeout(resolve, ATTACK_PERIOD_MS));
    }
    clearInterval(sampler);
    clearInterval(heapSampler);
    await (rogue as NetworkHost | null)?.stop().catch(() => {});
    rogue = null;
    const after = await net.waitForHealth(
      [TARGET],
      ([h]) => (h?.finalized_slot ?? 0) > (before?.finalized_slot ?? 0),
      "node 0 finalizing after the attack",
      30_000,
    );
    const metrics = await net.scrapeMetrics(TARGET);
    const series = (prefix: string) =>
      metrics
        .split("\n")
        .filter((l) => l.startsWith(prefix))
        .map((l) => l.replace(/^metronome_/, ""));
    const rssMax = Math.max(rssBefore, ...rss);
    const mib = (bytes: number | undefined) => (bytes === undefined ? null : Number((bytes / 2 ** 20).toFixed(1)));
    const heapMiB = (values: Partial<Record<HeapSeries, number>>) =>
      Object.fromEntries(Object.keys(HEAP_SERIES).map((k) => [k, mib(values[k as HeapSeries])]));
    const summary = {
      attackSeconds: params.seconds,
      ...tally,
      rssBeforeMiB: Number(rssBefore.toFixed(1)),
      rssMaxMiB: Number(rssMax.toFixed(1)),
      rssEndMiB: Number((rss[rss.length - 1] ?? 0).toFixed(1)),
      rssTargetMiB: RSS_TARGET_MIB,
      rssWithinTarget: rssMax < RSS_TARGET_MIB,
      finalized: `${before?.finalized_slot} -> ${after[0]?.finalized_slot}`,
      /** MiB, before the attack and the peak of the 2 s samples during it (each series on its own). */
      heapBeforeMiB: heapMiB(heapAtStart),
      heapPeakMiB: heapMiB(heapPeak),
      responseBudgetRefused: series("metronome_reqresp_response_budget_refused_total"),
      scoreDisconnects: series("metronome_peer_score_disconnects_total"),
      penalties: series("metronome_peer_score_penalties_total"),
      refusedConnections: series("metronome_peer_connections_refused_total"),
      gossipDrops: (after[0]?.drops ?? {}) as Record<string, number>,
      loadAfter: machineInfo().loadAverage1m,
    };
    printTable("hostile peer against node 0", [
      {
        seconds: params.seconds,
        identities: tally.identities,
        "junk blocks": tally.junkBlocks,
        bombs: tally.bombs,
        "oversized responses": tally.oversizedResponses,
        "RSS before MiB": summary.rssBeforeMiB,
        "RSS max MiB": summary.rssMaxMiB,
        "RSS end MiB": summary.rssEndMiB,
        finalized: summary.finalized,
      },
    ]);
    printTable("node 0's heaps (MiB): before the attack, and the peak of 2 s samples during it", [
      { when: "before", ...summary.heapBeforeMiB },
      { when: "peak", ...summary.heapPeakMiB },
    ]);
    console.log(JSON.stringify(summary, null, 2));
    console.log(`written to ${writeResult("hostilePeer", { ...params, machine: m }, summary)}`);
  } finally {
    await (rogue as NetworkHost | null)?.stop().catch(() => {});
    await net.teardown();
  }
}

await main();
