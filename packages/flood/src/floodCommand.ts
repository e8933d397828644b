// `metronome flood`: joins a devnet as a gossip peer of one node and floods it at a steady rate
// with a mix of valid, invalid, unknown-root, future, duplicate and malformed attestations (see
// src/flood/). A benchmark and test tool: it holds the devnet's interop validator keys.
import { writeFile } from "node:fs/promises";
import { fromHex, interopSecretKey, toHex } from "@metronome/chain";
import { assertFetchableUrl, type ChainConfig, type GenesisFolder, readGenesisFolder } from "@metronome/common";
import { Flooder, type FloodSummary } from "./flooder.ts";
import { FLOOD_KINDS, formatMix, parseMix } from "./mix.ts";
import { checkPeerCount, perPeerRate } from "./sybil.ts";

export interface FloodOptions {
  target: string;
  genesis: string;
  rate: number;
  /** Distinct peer identities sharing the rate (a Sybil flood when > 1). */
  peers: number;
  duration: number;
  mix: string;
  http?: string;
  subnet: number;
  reportSeconds: number;
  summaryFile?: string;
}

/** The target's HTTP API from nodes.json: the entry whose peer id (or listen address) the multiaddr names. */
export function httpUrlFor(target: string, genesis: GenesisFolder): string | null {
  const peerId = target.split("/p2p/")[1];
  const listen = target.split("/p2p/")[0];
  const entry = genesis.nodes.find((n) => (peerId !== undefined && n.peerId === peerId) || n.listen === listen);
  if (entry === undefined || entry.httpPort === 0) return null;
  const host = /^\/ip4\/([^/]+)\//.exec(target)?.[1] ?? "127.0.0.1";
  return `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${entry.httpPort}`;
}

/** Valid and unknown-root votes need the validators' keys: only devnets on interop keys qualify. */
function checkInteropKeys(chain: ChainConfig): void {
  for (const index of [0, chain.validators.length - 1]) {
    const expected = toHex(interopSecretKey(index).toPublicKey().toBytes());
    if (toHex(chain.validators[index]?.pubkey ?? new Uint8Array()) !== expected) {
      throw new Error(`validator ${index}'s key is not the interop key: the flooder cannot sign for this genesis`);
    }
  }
}

export async function runFloodCommand(o: FloodOptions): Promise<FloodSummary> {
  const mix = parseMix(o.mix);
  checkPeerCount(o.peers);
  const genesis = await readGenesisFolder(o.genesis);
  if (!o.target.includes("/p2p/")) throw new Error(`--target must end in /p2p/<peer id>, got ${o.target}`);
  const httpUrl = o.http ?? httpUrlFor(o.target, genesis);
  if (httpUrl === null) {
    throw new Error(`no node in ${o.genesis}/nodes.json matches ${o.target}; pass --http <url of its API>`);
  }
  assertFetchableUrl(httpUrl, "--http");
  if (mix.valid > 0 || mix.redundant > 0 || mix.unknown_root > 0 || mix.invalid_sig > 0) {
    checkInteropKeys(genesis.chain);
  }
  if (o.subnet >= Math.max(1, genesis.chain.attestationCommitteeCount)) {
    throw new Error(`--subnet ${o.subnet} does not exist: the chain has ${genesis.chain.attestationCommitteeCount}`);
  }

  const flooder = new Flooder({
    target: o.target,
    httpUrl,
    forkDigest: fromHex(`0x${genesis.chain.forkDigest}`),
    genesisTimeSec: genesis.chain.genesisTime,
    slotDurationMs: genesis.chain.slotDurationMs,
    validatorCount: genesis.chain.validators.length,
    attestationSubnetCount: genesis.chain.attestationCommitteeCount,
    subnet: o.subnet,
    rate: o.rate,
    peers: o.peers,
    mix,
    reportEveryMs: o.reportSeconds * 1000,
  });
  const identities =
    o.peers === 1 ? "" : ` from ${o.peers} peer identities (${perPeerRate(o.rate, o.peers).toFixed(0)} msgs/s each)`;
  console.log(
    `flood: joining ${o.target} (API ${httpUrl}), ${o.rate} msgs/s${identities} for ${o.duration} s, mix ${formatMix(mix)}`,
  );
  await flooder.start();
  flooder.run();
  console.log("flood: sending");

  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, o.duration * 1000);
    const onSignal = () => {
      clearTimeout(timer);
      resolve();
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  });
  const summary = await flooder.stop();
  printSummary(summary);
  if (o.summaryFile !== undefined) await writeFile(o.summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

function printSummary(s: FloodSummary): void {
  console.log(
    `flood: done after ${s.elapsedS.toFixed(1)} s: ${s.sentTotal} sent of ${s.scheduled} scheduled, ` +
      `${s.achievedRate.toFixed(0)}/s achieved (asked ${s.rate}/s)`,
  );
  for (const kind of FLOOD_KINDS) {
    if (s.mix[kind] === 0) continue;
    const starved = s.counters.starved[kind];
    console.log(
      `  ${kind.padEnd(13)} ${String(s.counters.sent[kind]).padStart(9)}${starved ? `  (starved ${starved})` : ""}`,
    );
  }
  console.log(
    `  topics: attestation ${s.counters.byTopic.attestation}, aggregation ${s.counters.byTopic.aggregation}; ` +
      `no recipients ${JSON.stringify(s.counters.noRecipients)}, publish errors ${s.counters.publishErrors}`,
  );
  const fresh = s.peerStats.slice(0, s.peers);
  if (fresh.length > 1) {
    const sent = fresh.map((p) => p.sent);
    const reached = fresh.map((p) => p.sent - p.noRecipients);
    console.log(
      `  ${s.peers} identities: sent ${Math.min(...sent)}..${Math.max(...sent)} each, reached the target ` +
        `${Math.min(...reached)}..${Math.max(...reached)} each, ${fresh.filter((p) => p.connected).length} still connected at the end`,
    );
  } else if (fresh[0] !== undefined) {
    console.log(`  identity ${fresh[0].peerId}: ${fresh[0].connected ? "still connected" : "disconnected"} at the end`);
  }
  if (s.factory !== null) {
    console.log(
      `  payload worker: ${s.factory.signatures} signatures, valid singles ${s.factory.validSingles}, valid aggregates ${s.factory.validAggregates}`,
    );
  }
}
