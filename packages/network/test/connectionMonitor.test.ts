// The connection monitor's settings (hostOptions.ts): libp2p's defaults aborted 822 busy-but-honest
// connections in 120 s of a 16-node devnet on 2 cores.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectionMonitorOptions, PING_INTERVAL_MS, PING_TIMEOUT_MS } from "../src/host/hostOptions.ts";

/** libp2p's own floor for a ping's timeout (AdaptiveTimeout's DEFAULT_MIN_TIMEOUT). */
const LIBP2P_DEFAULT_MIN_TIMEOUT_MS = 5_000;

describe("connection monitor settings", () => {
  it("tolerate a peer busy for well over libp2p's default, with a timeout that does not adapt", () => {
    const options = connectionMonitorOptions();
    assert.ok(options.pingTimeout.minTimeout >= 3 * LIBP2P_DEFAULT_MIN_TIMEOUT_MS);
    assert.equal(options.pingTimeout.maxTimeout, options.pingTimeout.minTimeout);
    assert.equal(options.pingTimeout.minTimeout, PING_TIMEOUT_MS);
    assert.equal(options.abortConnectionOnPingFailure, true, "a dead peer is still cut");
  });

  it("never start a ping while the previous one may still be in flight", () => {
    const options = connectionMonitorOptions();
    assert.equal(options.pingInterval, PING_INTERVAL_MS);
    assert.ok(options.pingTimeout.maxTimeout < options.pingInterval);
    assert.throws(() => connectionMonitorOptions(10_000, 10_000), /must be shorter than the ping interval/);
  });
});
