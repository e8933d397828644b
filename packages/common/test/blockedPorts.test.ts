import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertFetchablePort,
  assertFetchableUrl,
  FETCH_BLOCKED_PORTS,
  isFetchBlockedPort,
} from "../src/blockedPorts.ts";

/** What this Node's fetch does with a port: "bad port" when it refuses it before connecting. */
async function fetchVerdict(port: number): Promise<"bad port" | "allowed"> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    return "allowed";
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error && cause.message === "bad port" ? "bad port" : "allowed";
  }
}

describe("fetch's blocked ports", () => {
  it("the list is exactly what this Node's fetch refuses, around every entry", async () => {
    // Every listed port is refused, and its unlisted neighbours are not: a list that drifted from
    // the runtime's (an entry missing, added or off by one) fails here.
    const neighbours = new Set<number>();
    for (const p of FETCH_BLOCKED_PORTS) {
      for (const n of [p - 1, p + 1]) if (n > 0 && !isFetchBlockedPort(n)) neighbours.add(n);
    }
    const refused = await Promise.all(FETCH_BLOCKED_PORTS.map(fetchVerdict));
    assert.deepEqual(
      FETCH_BLOCKED_PORTS.filter((_, i) => refused[i] !== "bad port"),
      [],
      "listed but allowed by fetch",
    );
    const allowed = [...neighbours];
    const verdicts = await Promise.all(allowed.map(fetchVerdict));
    assert.deepEqual(
      allowed.filter((_, i) => verdicts[i] === "bad port"),
      [],
      "refused by fetch but missing from the list",
    );
  });

  it("includes the SIP ports the old devnet HTTP range reached (5060, 5061)", () => {
    assert.ok(isFetchBlockedPort(5060) && isFetchBlockedPort(5061));
    assert.ok(!isFetchBlockedPort(5052) && !isFetchBlockedPort(0));
  });

  it("refuses a blocked port or URL with the port and the reason", () => {
    assert.throws(() => assertFetchablePort(5060, "HTTP API port"), /HTTP API port 5060: port 5060 is on the fetch/);
    assert.doesNotThrow(() => assertFetchablePort(5052, "HTTP API port"));
    assert.doesNotThrow(() => assertFetchablePort(0, "metrics port"), "0 means disabled");
    assert.throws(() => assertFetchableUrl("http://10.0.0.1:6667/", "beacon node URL"), /6667.*blocked-port list/);
    assert.doesNotThrow(() => assertFetchableUrl("http://10.0.0.1/", "beacon node URL"), "default port 80");
    assert.doesNotThrow(() => assertFetchableUrl("https://10.0.0.1", "beacon node URL"), "default port 443");
  });
});
