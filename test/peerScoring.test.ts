// A peer flooding votes with bad signatures at a devnet node is cut off: 4 real node processes, 32
// validators, 1 s slots, and a raw libp2p peer in this process that joins node 0's mesh and sends
// well-formed votes for the genesis block signed with the wrong key (each passes every cheap check
// and fails only at BLS verification, so node 0 must REJECT it). Node 0's gossipsub score of the
// peer must fall below the graylist, node 0 must disconnect it within the deadline and refuse its
// redials, and finality must keep advancing throughout.
//
// Refusal is judged on node 0's side (its counters and its peer count), not by the flooder's view:
// noise negotiates the muxer inside the handshake, so a redialing initiator holds a connection for
// the instant between finishing the handshake and node 0's gater hanging up on it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { interopSecretKey, type SignedAttestation } from "@metronome/chain";
import { NetworkHost } from "@metronome/network";
import { TestDevnet, waitUntil } from "./helpers/devnet.ts";

const NODES = [0, 1, 2, 3];
/** The flooder's send rate: far above any honest peer's, far below what could starve node 0. */
const FLOOD_PER_SECOND = 200;
/** From the first invalid vote to node 0 hanging up (the target is 30 s under the bench). */
const CUT_DEADLINE_MS = 15_000;

/** A sample's value from a Prometheus exposition (0 when absent). */
function counter(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("peer scoring: a flooder of invalid signatures is disconnected while the devnet finalizes", () => {
  let net: TestDevnet;
  let flooder: NetworkHost | undefined;
  let stopFlood = false;

  before(async () => {
    net = await TestDevnet.create({ name: "peerscore", nodes: 4, validators: 32, logLevel: "warn" });
    net.startAll();
  });

  after(async () => {
    stopFlood = true;
    await flooder?.stop();
    await net?.teardown();
  });

  it("node 0 cuts the flooder off and refuses it, and finality keeps moving", async () => {
    const ready = await net.waitForHealth(NODES, (hs) => hs.every((h) => h.finalized_slot >= 2), "finality", 60_000);
    const node0PeerId = (ready[0] as { peer_id: string }).peer_id;
    const genesisHex = await waitUntil(() => net.headerRoot(0, 0), "the genesis block root", 5_000);
    const genesisRoot = Uint8Array.from(Buffer.from(genesisHex.replace(/^0x/, ""), "hex"));

    flooder = new NetworkHost({
      forkDigest: net.forkDigest,
      listenAddresses: ["/ip4/127.0.0.1/tcp/0"],
      bootnodes: [net.multiaddr(0)],
      redial: { initialDelayMs: 200, maxDelayMs: 500 },
    });
    await flooder.start();
    flooder.subscribe([0]);
    const host = flooder;
    await waitUntil(
      async () => host.gossipMeshPeers("attestation", 0).includes(node0PeerId),
      "node 0 in the flooder's vote mesh",
      20_000,
    );

    // A valid G2 point from a key no validator holds: decodes fine, never verifies.
    const wrongKey = interopSecretKey(10_000);
    const started = Date.now();
    let sent = 0;
    const flood = (async () => {
      let n = 0;
      while (!stopFlood) {
        const health = await net.health(0);
        const slot = health?.head_slot ?? 0;
        for (let i = 0; i < FLOOD_PER_SECOND / 10 && !stopFlood; i++, n++) {
          const vote: SignedAttestation = {
            validatorIndex: n % 32,
            data: {
              slot,
              head: { root: genesisRoot, slot: 0 },
              target: { root: genesisRoot, slot: 0 },
              source: { root: genesisRoot, slot: 0 },
            },
            signature: wrongKey.sign(Uint8Array.of(n & 0xff, n >> 8, n >> 16)).toBytes(),
          };
          if (host.isConnected(node0PeerId)) {
            await host.publishAttestation(0, vote).catch(() => 0);
            sent++;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const finalizedAtStart = Math.min(...(await net.healths(NODES)).map((h) => h?.finalized_slot ?? 0));
    await waitUntil(async () => !host.isConnected(node0PeerId), "node 0 to disconnect the flooder", CUT_DEADLINE_MS);
    const cutAfterMs = Date.now() - started;
    assert.ok(sent > 0, "the flooder sent invalid votes");

    // Finality advances by three more slots after the cut, on every node, while the flooder keeps
    // redialing; node 0 must not let it back in.
    await net.waitForHealth(
      NODES,
      (hs) => hs.every((h) => h.finalized_slot >= finalizedAtStart + 3),
      "finality to advance after the cut",
      30_000,
    );
    const metrics = await net.scrapeMetrics(0);
    assert.ok(
      counter(metrics, 'metronome_peer_score_disconnects_total{reason="gossip_score"}') >= 1,
      "node 0 counted no gossip-score disconnection",
    );
    assert.ok(counter(metrics, "metronome_peers_banned") >= 1, "node 0 holds no ban");
    assert.ok(
      counter(metrics, "metronome_peer_connections_refused_total") >= 1,
      "node 0 refused none of the flooder's redials",
    );
    const node0 = await net.health(0);
    assert.ok((node0?.peers ?? 0) <= NODES.length - 1, `the flooder got back in: node 0 has ${node0?.peers} peers`);
    stopFlood = true;
    await flood;
    console.log(`flooder cut off ${cutAfterMs} ms after its first vote, after ${sent} invalid votes`);
  });
});
