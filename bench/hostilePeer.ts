// The hostile-peer benchmark (issue 15's memory target): a 2-node devnet (4 s slots), then for
// `--seconds` a rogue libp2p peer attacks node 0 with what a peer can make a node hold:
//   - junk blocks with unknown parents, correctly signed by the slot's proposer (so they pass the
//     signature check before the orphan cache and the node asks the rogue for their parents);
//   - snappy bombs: small compressed payloads that declare 10 MiB on the block topic and 1 MiB on
//     the vote topic;
//   - oversized req/resp responses: every BlocksByRoot/BlocksByRange the node sends it is answered
//     with 2.6 MB blocks until far past the response byte cap, and its Status claims a head ahead.
// When node 0 cuts the rogue off, the attacker comes back under a new identity (a real attacker's
// move). Node 0's RSS is sampled from /proc every second; finality is read before and after.
// Writes bench/results/hostilePeer.json.
//   node bench/hostilePeer.ts [--seconds 70] [--validators 16] [--slot-seconds 4]
import {
  AggregationBits,
  type Block,
  fromHex,
  interopSecretKey,
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
});
const params = {
  seconds: Number(values.seconds),
  validators: Number(values.validators),
  slotSeconds: Number(values["slot-seconds"]),
};

const TARGET = 0;
/** The issue's bound on node 0's resident memory under this attack. */
const RSS_TARGET_MIB = 400;
/** One round of junk block + two bombs per this many ms: fast, yet leaves the attacker's own CPU for the node. */
const ATTACK_PERIOD_MS = 200;
/** Blocks per oversized response: 16 x 2.6 MB = 42 MB, past the node's 32 MiB response cap. */
const OVERSIZED_RESPONSE_BLOCKS = 16;
/** Largest aggregation bitlist: 4096 bits and the delimiter bit, 513 bytes. */
const FULL_BITS = AggregationBits.deserialize(Uint8Array.from([...new Array(512).fill(0xff), 0x01]));

/** A block at the protocol's largest size: 4096 aggregated votes with full bitlists (~2.6 MB). */
function hugeBlock(slot: number): SignedBlock {
  const checkpoint = { root: new Uint8Array(32), slot: 0 };
  const attestation = {
    aggregationBits: FULL_BITS,
    data: { slot, head: checkpoint, target: checkpoint, source: checkpoint },
  };
  const block: Block = {
    slot,
    proposerIndex: 0,
    parentRoot: new Uint8Array(32).fill(7),
    stateRoot: new Uint8Array(32),
    body: { attestations: new Array(4096).fill(attestation) },
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
    const big = hugeBlock(1);
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
    const summary = {
      attackSeconds: params.seconds,
      ...tally,
      rssBeforeMiB: Number(rssBefore.toFixed(1)),
      rssMaxMiB: Number(rssMax.toFixed(1)),
      rssEndMiB: Number((rss[rss.length - 1] ?? 0).toFixed(1)),
      rssTargetMiB: RSS_TARGET_MIB,
      rssWithinTarget: rssMax < RSS_TARGET_MIB,
      finalized: `${before?.finalized_slot} -> ${after[0]?.finalized_slot}`,
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
    console.log(JSON.stringify(summary, null, 2));
    console.log(`written to ${writeResult("hostilePeer", { ...params, machine: m }, summary)}`);
  } finally {
    await (rogue as NetworkHost | null)?.stop().catch(() => {});
    await net.teardown();
  }
}

await main();
