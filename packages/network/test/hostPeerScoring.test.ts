// Peer scoring between real hosts: verdicts move gossipsub scores, a graylisted peer's messages
// are dropped unread, flooders and req/resp abusers are cut off and refused on redial, responses
// are capped in bytes, and idle sockets cannot lock honest peers out.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { SignedBlock } from "@metronome/chain";
import { encodeVarint } from "../src/encoding/varint.ts";
import { isNetworkError, NetworkErrorCode } from "../src/errors.ts";
import type { GossipVerdict } from "../src/gossip/router.ts";
import { GRAYLIST_THRESHOLD, INVALID_MESSAGES_TO_GRAYLIST } from "../src/gossip/scoring.ts";
import { GOSSIP_MAX_SSZ_BYTES } from "../src/gossip/topicLimits.ts";
import { INBOUND_UPGRADE_TIMEOUT_MS, type NetworkHost } from "../src/host/networkHost.ts";
import { APP_SCORE_HALF_LIFE_MS, DISCONNECT_APP_SCORE, PEER_ACTION_PENALTY } from "../src/host/peerScores.ts";
import { sampleAttestation, sampleBlock, sampleStatus, waitFor } from "./fixtures.ts";
import { HostPool } from "./hosts.ts";

/** One P4 count on a topic of weight 1 (the block topic's P4 is normalised by its weight). */
const ONE_INVALID = GRAYLIST_THRESHOLD / INVALID_MESSAGES_TO_GRAYLIST ** 2;

type Verdicts = { next: GossipVerdict; blocks: number; attestations: number };

/** a receives with verdicts the test sets; b sends. Both in each other's meshes. */
async function pair(pool: HostPool, aOptions: Parameters<HostPool["start"]>[0] = {}) {
  const a = await pool.start({ attestationSubnetCount: 2, ...aOptions });
  const b = await pool.start({ attestationSubnetCount: 2, bootnodes: [a.multiaddrs()[0] as string] });
  const seen: Verdicts = { next: "accept", blocks: 0, attestations: 0 };
  a.setGossipHandler("block", () => {
    seen.blocks++;
    return seen.next;
  });
  a.setGossipHandler("attestation", () => {
    seen.attestations++;
    return seen.next;
  });
  a.subscribe([0, 1]);
  b.subscribe([0, 1]);
  await waitFor(
    () => b.gossipMeshPeers("block").includes(a.peerId) && b.gossipMeshPeers("attestation", 0).includes(a.peerId),
    "b to have a in its block and subnet-0 meshes",
  );
  return { a, b, seen };
}

describe("gossip peer scoring between real hosts", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("REJECT, an oversized payload and a wrong-subnet vote each cost P4; IGNORE costs nothing", async () => {
    const { a, b, seen } = await pair(pool, { peerScoreDisconnects: false });
    let slot = 1;
    const start = a.gossipScore(b.peerId);

    seen.next = "ignore";
    await b.publishBlock(sampleBlock(slot++));
    await waitFor(() => seen.blocks === 1, "the ignored block at a");
    // Scores are cached for a heartbeat: wait two, then the score must not have dropped.
    const afterIgnore = await settledScore(a, b.peerId);
    assert.ok(afterIgnore >= start, `IGNORE moved the score: ${start} -> ${afterIgnore}`);

    seen.next = "reject";
    await b.publishBlock(sampleBlock(slot++));
    await waitFor(() => a.gossipScore(b.peerId) <= afterIgnore + ONE_INVALID + 1, "the REJECT penalty");
    const afterReject = a.gossipScore(b.peerId);

    // One byte over the attestation topic's bound, declared in the snappy preamble: refused
    // before decompression (the handler never runs), and penalised.
    const decompressed = a.gossipDecompressions();
    const oversized = new Uint8Array([...encodeVarint(GOSSIP_MAX_SSZ_BYTES.attestation + 1), 0, 0]);
    await b.publishRaw(b.topicName("attestation", 0), oversized);
    // At least once: gossipsub keeps no seen-id for a message its transform refused, so once a
    // has pruned b (its score went negative at the REJECT) b's IHAVE can bring it back by IWANT,
    // and each copy is refused and costs b again. Polling for exactly 1 raced those copies.
    await waitFor(() => a.stats().gossip_rejected_too_large >= 1, "the oversized attestation refused");
    assert.equal(a.gossipDecompressions(), decompressed, "refused before decompression");
    assert.equal(seen.attestations, 0);
    await waitFor(() => a.gossipScore(b.peerId) < afterReject - 1, "the oversize penalty");
    const afterOversize = a.gossipScore(b.peerId);

    // Validator 3 votes on subnet 1 of 2; on subnet 0 its vote is rejected before the handler.
    seen.next = "accept";
    await b.publishAttestation(0, sampleAttestation(3));
    await waitFor(() => a.stats().gossip_rejected_wrong_subnet === 1, "the wrong-subnet vote refused");
    assert.equal(seen.attestations, 0);
    await waitFor(() => a.gossipScore(b.peerId) < afterOversize - 1, "the wrong-subnet penalty");
  });

  it("a graylisted peer's messages are dropped before decompression", async () => {
    let now = 1_000_000;
    const { a, b, seen } = await pair(pool, { peerScoreDisconnects: false, scoreClock: () => now });
    // Req/resp offences (P5) take b below the graylist; the test's clock can forgive them later.
    for (let i = 0; i < 5; i++) a.penalise(b.peerId, "oversized_response");
    await waitFor(() => a.gossipScore(b.peerId) < GRAYLIST_THRESHOLD, "b graylisted at a");
    const decompressed = a.gossipDecompressions();
    const received = a.stats().gossip_received_block;
    assert.equal(await b.publishBlock(sampleBlock(40)), 1, "b still sends to a");

    // Forgive b, then send again: b's RPCs reach a in order, so once the second block has been
    // handled the first one was seen and dropped before it.
    now += 40 * APP_SCORE_HALF_LIFE_MS;
    await waitFor(() => a.gossipScore(b.peerId) > GRAYLIST_THRESHOLD, "b forgiven");
    await b.publishBlock(sampleBlock(41));
    await waitFor(() => seen.blocks === 1, "the block sent after forgiveness");
    assert.equal(a.gossipDecompressions(), decompressed + 1, "only the second block was decompressed");
    assert.equal(a.stats().gossip_received_block, received + 1);
  });

  it("a peer flooding invalid messages is graylisted, disconnected, and refused on redial", async () => {
    const { a, b, seen } = await pair(pool);
    const told: string[] = [];
    a.onPeerScoreDisconnect((peer, reason, score) => told.push(`${peer} ${reason} ${score < GRAYLIST_THRESHOLD}`));
    seen.next = "reject";
    for (let i = 0; i <= INVALID_MESSAGES_TO_GRAYLIST; i++) {
      await b.publishBlock(sampleBlock(100 + i)).catch(() => 0);
    }
    await waitFor(() => !a.isConnected(b.peerId), "a to cut b off");
    const stats = a.peerScoreStats();
    assert.equal(stats.disconnects.gossip_score, 1);
    assert.equal(stats.graylistedTotal, 1);
    assert.equal(a.isBanned(b.peerId), true);
    assert.deepEqual(told, [`${b.peerId} gossip_score true`]);
    // b dials again: a's gater refuses the connection once b's identity is known.
    await b.dial(a.multiaddrs()[0] as string).catch(() => "");
    await waitFor(() => a.peerScoreStats().refusedConnections >= 1, "the redial refused");
    assert.equal(a.isConnected(b.peerId), false);
  });
  it("a peer whose votes the node judges ignore_penalise is charged unwanted_gossip and cut off, none forwarded", async () => {
    const { a, b, seen } = await pair(pool);
    const c = await pool.start({ attestationSubnetCount: 2, bootnodes: [a.multiaddrs()[0] as string] });
    let atC = 0;
    c.setGossipHandler("attestation", () => {
      atC++;
      return "accept";
    });
    c.subscribe([0, 1]);
    await waitFor(() => a.gossipMeshPeers("attestation", 0).includes(c.peerId), "c in a's subnet-0 mesh");
    seen.next = "ignore_penalise";
    const needed = -DISCONNECT_APP_SCORE / -PEER_ACTION_PENALTY.unwanted_gossip;
    // Even validator indices belong on subnet 0 of 2; each vote is a distinct message.
    for (let i = 0; i < needed + 5 && a.isConnected(b.peerId); i++) {
      await b.publishAttestation(0, sampleAttestation(2 * i)).catch(() => 0);
    }
    await waitFor(() => !a.isConnected(b.peerId), "a to cut b off for unwanted gossip");
    const stats = a.peerScoreStats();
    assert.ok(stats.penalties.unwanted_gossip >= needed, `${stats.penalties.unwanted_gossip} penalties`);
    assert.equal(stats.disconnects.app_score, 1);
    assert.equal(a.isBanned(b.peerId), true);
    // IGNORE to gossipsub: nothing was forwarded to c, and no P4 was charged (the cut is the app score's).
    assert.equal(atC, 0);
    assert.equal(stats.disconnects.gossip_score, 0);
  });
});

describe("req/resp responses are bounded and penalised", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("a response over the byte cap is aborted, counted and costs the server its connection", async () => {
    const blocks = Array.from({ length: 8 }, (_, i) => sampleBlock(10 + i));
    const oneBlock = SignedBlock.serialize(blocks[0] as SignedBlock).length;
    const server = await pool.start();
    server.setReqRespHandlers({ status: () => sampleStatus(1), blocksByRange: () => blocks });
    // Room for three blocks, not eight.
    const client = await pool.start({
      bootnodes: [server.multiaddrs()[0] as string],
      reqResp: { timeoutMs: 2000, maxResponseBytes: 3 * oneBlock + 10 },
    });
    await waitFor(() => client.isConnected(server.peerId), "connected");
    assert.equal((await client.blocksByRange(server.peerId, 10, 3)).length, 3, "a response within the cap");
    await assert.rejects(client.blocksByRange(server.peerId, 10, 8), (err) =>
      isNetworkError(err, NetworkErrorCode.INVALID_RESPONSE),
    );
    assert.equal(client.stats().reqresp_outbound_oversized_responses, 1);
    assert.equal(client.peerScoreStats().penalties.oversized_response, 1);
    await waitFor(() => !client.isConnected(server.peerId), "client to cut the server off");
    assert.equal(client.isBanned(server.peerId), true);
    await assert.rejects(client.dial(server.multiaddrs()[0] as string));
  });
});

describe("inbound connection limits", () => {
  const pool = new HostPool();
  const sockets: Socket[] = [];
  after(async () => {
    for (const s of sockets) s.destroy();
    await pool.stopAll();
  });

  it("a node holding 50 idle inbound sockets still accepts a new peer, and cuts the idle ones", async () => {
    // The per-host rate limit is raised so all 50 arrive at once; the pending cap is under test.
    const node = await pool.start({ inboundConnectionThreshold: 1000 });
    const { port } = parseTcp(node.multiaddrs()[0] as string);
    let closed = 0;
    const opened = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const socket = connect({ host: "127.0.0.1", port }, () => resolve(socket));
            socket.on("error", reject);
            socket.on("close", () => closed++);
          }),
      ),
    );
    sockets.push(...opened);
    const started = Date.now();
    // The kernel hands connections to the node in arrival order: the 50 idle ones come first.
    const honest = await pool.start();
    assert.equal(await honest.dial(node.multiaddrs()[0] as string), node.peerId);
    await waitFor(() => node.isConnected(honest.peerId), "the honest peer connected");
    assert.ok(closed < 50 || Date.now() - started >= INBOUND_UPGRADE_TIMEOUT_MS, "idle sockets still held");
    // Sockets that never upgrade are cut when the upgrade timeout passes.
    await waitFor(() => closed === 50, "the idle sockets cut", INBOUND_UPGRADE_TIMEOUT_MS + 4000);
  });
});

function parseTcp(addr: string): { port: number } {
  const match = /\/tcp\/(\d+)/.exec(addr);
  if (match === null) throw new Error(`no tcp port in ${addr}`);
  return { port: Number(match[1]) };
}

/** The score once its cache (one heartbeat) has certainly expired twice. */
async function settledScore(host: NetworkHost, peer: string): Promise<number> {
  const until = Date.now() + 1500;
  await waitFor(() => Date.now() >= until, "two heartbeats");
  return host.gossipScore(peer);
}
