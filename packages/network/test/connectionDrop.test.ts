// A closing connection ends its streams before libp2p reports the peer gone. Both ends of an
// exchange cut short that way must not charge the other side: in a 16-node devnet, honest peers
// were banned for "empty Status response" after their connections dropped.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { DEFERRED_PENALTY_GRACE_MS } from "../src/host/deferredPenalties.ts";
import type { NetworkHost } from "../src/host/networkHost.ts";
import { ResultCode } from "../src/reqresp/protocols.ts";
import { sampleStatus, waitFor } from "./fixtures.ts";
import { HostPool } from "./hosts.ts";

/** Long enough for the grace period and the defence's next one-second check. */
const SETTLE_MS = DEFERRED_PENALTY_GRACE_MS + 3_000;

describe("a req/resp exchange cut short by the connection closing", () => {
  let pool: HostPool;
  let server: NetworkHost;
  let client: NetworkHost;
  let releaseStatus: (() => void) | undefined;

  beforeEach(async () => {
    pool = new HostPool();
    releaseStatus = undefined;
    server = await pool.start({});
    client = await pool.start({ bootnodes: [server.multiaddrs()[0] as string] });
    server.setReqRespHandlers({
      status: () =>
        new Promise((resolve) => {
          releaseStatus = () => resolve(sampleStatus(8));
        }),
    });
    client.setReqRespHandlers({ status: () => sampleStatus(2) });
    await waitFor(() => client.isConnected(server.peerId), "client connected to server");
  });
  afterEach(() => pool.stopAll());

  it("the client forgives an empty Status answer when the server hung up", async () => {
    const answer = client.status(server.peerId).then(
      () => "answered",
      (err: Error) => err.message,
    );
    await waitFor(() => releaseStatus !== undefined, "server holds the Status request");
    await server.disconnect(client.peerId);
    releaseStatus?.();
    assert.match(await answer, /empty Status response/);
    await waitFor(
      () => client.peerScoreStats().deferredPenalties.forgiven === 1,
      "the held penalty forgiven",
      SETTLE_MS,
    );
    assert.equal(client.appScore(server.peerId), 0);
    assert.equal(client.peerScoreStats().penalties.malformed_response, 0);
  });

  it("the server forgives half a request when the client hung up, and charges one that stays", async () => {
    // 0xde 0xad: a length prefix that never ends, then the client closes its side.
    const chunks = await client.requestRaw(server.peerId, "status", Uint8Array.of(0xde, 0xad));
    assert.deepEqual(
      chunks.map((c) => c.code),
      [ResultCode.INVALID_REQUEST],
    );
    await client.disconnect(server.peerId);
    await waitFor(
      () => server.peerScoreStats().deferredPenalties.forgiven === 1,
      "the held penalty forgiven",
      SETTLE_MS,
    );
    assert.equal(server.appScore(client.peerId), 0);

    // The same half request from a peer that stays connected is charged once the grace is over.
    const stayer = await pool.start({ bootnodes: [server.multiaddrs()[0] as string] });
    await waitFor(() => stayer.isConnected(server.peerId), "second client connected");
    await stayer.requestRaw(server.peerId, "status", Uint8Array.of(0xde, 0xad));
    await waitFor(() => server.peerScoreStats().deferredPenalties.charged === 1, "the held penalty charged", SETTLE_MS);
    assert.ok(server.appScore(stayer.peerId) < 0);
    assert.equal(server.peerScoreStats().penalties.invalid_request, 1);
  });
});
