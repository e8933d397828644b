// The hostile HTTP client of issue 11: slow-header connections and concurrent attestation posts
// with wrong signatures against one running node, with the node's own tick-lateness histogram and
// finality read before and after. Shared by the short test (test/httpHostile.test.ts) and the full
// run (bench/httpHostile.ts).
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { interopSecretKey } from "@metronome/chain";
import {
  type HistogramSnapshot,
  histogramDelta,
  histogramMaxBound,
  histogramQuantile,
  parsePromText,
  promHistogram,
  promValue,
} from "../../packages/flood/src/promText.ts";

export interface HostileOptions {
  httpPort: number;
  metricsPort: number;
  validators: number;
  slowConnections: number;
  posts: number;
  attestationsPerPost: number;
  /** Interval between the header bytes a slow connection trickles (keeps the idle timeout from firing). */
  dripMs: number;
  /** How long to wait for every slow connection to be closed by the node before giving up. */
  slowDeadlineMs: number;
  /** A quiet window measured first: the same node's tick lateness with no attack (machine contention). */
  baselineMs: number;
}

export interface HostileResult {
  statuses: Record<string, number>;
  retryAfterMissing: number;
  /** Lifetime of each slow connection (ms), Infinity for one still open at the deadline. */
  slowLifetimesMs: number[];
  tickP99Ms: number;
  tickMaxBucketMs: number;
  baselineTickP99Ms: number;
  baselineTickMaxBucketMs: number;
  ticks: number;
  finalizedBefore: number;
  finalizedAfter: number;
  droppedRequestTimeout: number;
  refusedRateLimited: number;
  apiSignaturesInvalid: number;
  durationMs: number;
}

const TICK_METRIC = "metronome_tick_lateness_seconds";

async function scrape(metricsPort: number): Promise<ReturnType<typeof parsePromText>> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
  return parsePromText(await res.text());
}

async function finalizedSlot(httpPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/lean/v0/health`, { signal: AbortSignal.timeout(5_000) });
  return ((await res.json()) as { finalized_slot: number }).finalized_slot;
}

/** One request body: `count` attestations on the node's current vote data, all with one wrong signature. */
export async function wrongSignatureBody(httpPort: number, validators: number, count: number): Promise<string> {
  const health = (await (await fetch(`http://127.0.0.1:${httpPort}/lean/v0/health`)).json()) as {
    current_slot: number;
  };
  const res = await fetch(
    `http://127.0.0.1:${httpPort}/lean/v0/validator/attestation_data?slot=${health.current_slot}`,
  );
  if (res.status !== 200) throw new Error(`attestation_data answered ${res.status}: ${await res.text()}`);
  const data = ((await res.json()) as { data: unknown }).data;
  // A valid curve point that signs nothing the node will check: every pairing fails.
  const signature = `0x${Buffer.from(interopSecretKey(0).sign(randomBytes(32)).toBytes()).toString("hex")}`;
  const items = Array.from({ length: count }, (_, i) => ({
    validator_index: String(i % validators),
    data,
    signature,
  }));
  return JSON.stringify(items);
}

function openSlow(port: number, started: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now() - started)));
    socket.once("connect", () => {
      socket.write("GET /eth/v1/node/version HTTP/1.1\r\nHost: metronome\r\n");
      resolve({ socket, closed });
    });
    socket.once("error", reject);
  });
}

export async function runHostileClient(o: HostileOptions): Promise<HostileResult> {
  const quietStart = promHistogram(await scrape(o.metricsPort), TICK_METRIC);
  await new Promise((resolve) => setTimeout(resolve, o.baselineMs));
  const before = await scrape(o.metricsPort);
  const tickBefore = promHistogram(before, TICK_METRIC);
  const baseline = histogramDelta(quietStart, tickBefore as HistogramSnapshot);
  const finalizedBefore = await finalizedSlot(o.httpPort);
  const body = await wrongSignatureBody(o.httpPort, o.validators, o.attestationsPerPost);
  const started = Date.now();

  const slow = await Promise.all(Array.from({ length: o.slowConnections }, () => openSlow(o.httpPort, Date.now())));
  const drip = setInterval(() => {
    for (const s of slow) if (!s.socket.destroyed) s.socket.write("X-Slow: 1\r\n");
  }, o.dripMs);

  const statuses: Record<string, number> = {};
  let retryAfterMissing = 0;
  await Promise.all(
    Array.from({ length: o.posts }, async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${o.httpPort}/lean/v0/validator/attestation`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(60_000),
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 429 && res.headers.get("retry-after") === null) retryAfterMissing++;
      } catch (err) {
        const key = `error:${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    }),
  );

  const deadline = new Promise<number>((resolve) =>
    setTimeout(() => resolve(Number.POSITIVE_INFINITY), o.slowDeadlineMs),
  );
  const slowLifetimesMs = await Promise.all(slow.map((s) => Promise.race([s.closed, deadline])));
  clearInterval(drip);
  for (const s of slow) s.socket.destroy();

  const after = await scrape(o.metricsPort);
  const tickAfter = promHistogram(after, TICK_METRIC) as HistogramSnapshot;
  const window = histogramDelta(tickBefore, tickAfter);
  return {
    statuses,
    retryAfterMissing,
    slowLifetimesMs,
    tickP99Ms: histogramQuantile(window, 0.99) * 1000,
    tickMaxBucketMs: histogramMaxBound(window) * 1000,
    baselineTickP99Ms: histogramQuantile(baseline, 0.99) * 1000,
    baselineTickMaxBucketMs: histogramMaxBound(baseline) * 1000,
    ticks: window.count,
    finalizedBefore,
    finalizedAfter: await finalizedSlot(o.httpPort),
    droppedRequestTimeout: promValue(after, "metronome_http_connections_dropped_total", { reason: "request_timeout" }),
    refusedRateLimited: promValue(after, "metronome_http_requests_refused_total", { reason: "rate_limited" }),
    apiSignaturesInvalid: promValue(after, "metronome_http_api_signatures_total", { result: "invalid" }),
    durationMs: Date.now() - started,
  };
}
