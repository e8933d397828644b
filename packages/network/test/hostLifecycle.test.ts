import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { isNetworkError, NetworkErrorCode } from "../src/errors.ts";
import { peerIdFromSeed } from "../src/host/identity.ts";
import { NetworkHost } from "../src/host/networkHost.ts";
import { sampleBlock, TEST_FORK_DIGEST, waitFor } from "./fixtures.ts";
import { HostPool } from "./hosts.ts";

const seed = (fill: number) => new Uint8Array(32).fill(fill);

describe("host lifecycle", () => {
  const pool = new HostPool();
  after(() => pool.stopAll());

  it("derives its identity from the seed", async () => {
    const host = await pool.start({ identitySeed: seed(7) });
    assert.equal(host.peerId, await peerIdFromSeed(seed(7)));
    assert.equal(await NetworkHost.peerIdFromSeed(seed(7)), host.peerId);
    assert.notEqual(await peerIdFromSeed(seed(8)), host.peerId);
    assert.match(host.multiaddrs()[0] as string, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${host.peerId}$`));
    await assert.rejects(peerIdFromSeed(new Uint8Array(31)), (err) => isNetworkError(err));
  });

  it("refuses use before start and after stop, and stops promptly", async () => {
    const host = new NetworkHost({ forkDigest: TEST_FORK_DIGEST, listenAddresses: ["/ip4/127.0.0.1/tcp/0"] });
    assert.throws(
      () => host.peerId,
      (err) => isNetworkError(err, NetworkErrorCode.NOT_STARTED),
    );
    assert.throws(
      () => host.subscribe(),
      (err) => isNetworkError(err, NetworkErrorCode.NOT_STARTED),
    );
    await host.start();
    host.subscribe([0]);
    assert.throws(
      () => host.subscribeAttestationSubnet(1),
      (err) => isNetworkError(err, NetworkErrorCode.INVALID_REQUEST),
    );
    assert.equal(host.subscribedTopics().length, 3);
    const started = Date.now();
    await host.stop();
    assert.ok(Date.now() - started < 2000);
    assert.equal(host.isStarted, false);
    assert.equal(host.peerCount(), 0);
    await assert.rejects(host.publishBlock(sampleBlock(1)), (err) => isNetworkError(err, NetworkErrorCode.NOT_STARTED));
  });

  it("redials a bootnode that restarts on the same key and port, and reports peer events", async () => {
    let boot = await pool.start({ identitySeed: seed(1) });
    const bootAddr = boot.multiaddrs()[0] as string;
    const bootId = boot.peerId;
    const node = await pool.start({ bootnodes: [bootAddr] });
    const events: string[] = [];
    node.onPeerConnected((peer) => events.push(`+${peer}`));
    const unsubscribe = node.onPeerDisconnected((peer) => events.push(`-${peer}`));
    await waitFor(() => node.isConnected(bootId), "initial bootnode connection");

    const stopping = Date.now();
    await pool.stop(boot);
    assert.ok(Date.now() - stopping < 2000, "stop is quick");
    await waitFor(() => node.peerCount() === 0, "node notices the bootnode is gone");
    await waitFor(() => node.stats().bootnode_dial_failures >= 1, "at least one failed redial while it is down");

    boot = await pool.start({ identitySeed: seed(1), listenAddresses: [bootAddr.replace(/\/p2p\/.*$/, "")] });
    assert.equal(boot.multiaddrs()[0], bootAddr);
    await waitFor(() => node.isConnected(bootId), "redial after the bootnode restarts", 5000);
    const lost = events.indexOf(`-${bootId}`);
    assert.ok(lost >= 0, "disconnect event seen");
    await waitFor(() => events.indexOf(`+${bootId}`, lost) > lost, "connect event after redial");
    assert.ok(node.stats().bootnode_dial_attempts >= 3);
    // The connection metrics: two outbound connections, the refused redials, and a close the
    // node did not ask for.
    const peerEvents = node.labelledStats();
    assert.equal(peerEvents.peerConnections.outbound.success, 2);
    assert.ok(peerEvents.peerConnections.outbound.error >= 1, "failed redials");
    assert.equal(peerEvents.peerDisconnections.outbound.remote_close, 1);
    assert.equal(peerEvents.peerDisconnections.outbound.local_close, 0);

    unsubscribe();
    await pool.stop(boot);
    await waitFor(() => node.peerCount() === 0, "second disconnect");
    assert.equal(events.filter((e) => e.startsWith("-")).length, 1, "removed listener is not called");
  });
});
