// Operations against running nodes (issue 5, "Shown by"): the /metrics scrape matches the metric
// table and moves, the Beacon event stream feeds a real EventSource client, a forced fork gives a
// chain_reorg event, checkpoint sync starts a fresh node from a peer's finalized state, and the
// health route turns 503 when the node loses its peers and 200 when they come back.
//
// One devnet serves every scenario. Genesis has 6 entries and 15 validators:
//   nodes 0-3  the majority; node 3 also runs node 5's validators, so 13/15 (87%) vote together;
//   node 4     2/15 validators, started alone (no bootnodes, and nobody dials it): it proposes its
//              own blocks on its own fork until node 3 restarts with the genesis bootnodes, dials it,
//              and it syncs the majority chain -> chain_reorg on node 4's event stream;
//   node 5     no validators; joins last by checkpoint sync from node 0.
// The health scenario runs last because it stops every peer of node 0.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { listMetricSpecs, type MetricSpec } from "@metronome/metrics";
import { EventSource } from "eventsource";
import { CHAIN_REORG_EVENT_FIELDS, HEAD_EVENT_FIELDS } from "../packages/node/test/api/eventFields.ts";
import { TestDevnet, waitUntil } from "./helpers/devnet.ts";

const MAJORITY = [0, 1, 2, 3];
const LONER = 4;
const FRESH = 5;
const TOPICS = ["head", "block", "chain_reorg", "finalized_checkpoint", "attestation"] as const;
const ROOT_HEX = /^0x[0-9a-f]{64}$/;
const QUOTED_UINT = /^(0|[1-9]\d*)$/;
const ZERO_ROOT = `0x${"0".repeat(64)}`;

// ---- a real EventSource client that records every frame -----------------------------------------

interface Received {
  topic: string;
  data: Record<string, unknown>;
  at: number;
}

/** Listens for every topic (requested or not), so frames of an unrequested topic would show. */
class SseRecorder {
  readonly events: Received[] = [];
  readonly source: EventSource;
  readonly opened: Promise<void>;
  errorCode: number | undefined;

  constructor(url: string) {
    this.source = new EventSource(url);
    for (const topic of TOPICS) {
      this.source.addEventListener(topic, (ev: MessageEvent) => {
        this.events.push({ topic, data: JSON.parse(String(ev.data)) as Record<string, unknown>, at: Date.now() });
      });
    }
    this.opened = new Promise<void>((resolve, reject) => {
      this.source.onopen = () => resolve();
      this.source.onerror = (err) => {
        this.errorCode = err.code;
        reject(new Error(`EventSource ${url}: ${err.message ?? "error"} (code ${err.code})`));
      };
    });
    // A late error after open is recorded, not thrown.
    this.opened.catch(() => undefined);
  }

  of(topic: string): Received[] {
    return this.events.filter((e) => e.topic === topic);
  }

  waitFor(what: string, ready: (r: SseRecorder) => boolean, timeoutMs: number): Promise<true> {
    return waitUntil(async () => ready(this), what, timeoutMs);
  }

  close(): void {
    this.source.close();
  }
}

// ---- Prometheus text exposition ------------------------------------------------------------------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      (meta[1] === "TYPE" ? types : help).set(meta[2] as string, meta[3] ?? "");
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    assert.ok(m, `unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] as string] = l[2] as string;
    }
    const raw = m[3] as string;
    const value = raw === "+Inf" ? Number.POSITIVE_INFINITY : raw === "-Inf" ? Number.NEGATIVE_INFINITY : Number(raw);
    samples.push({ name: m[1] as string, labels, value });
  }
  return { types, help, samples };
}

/** The value of an unlabelled series (for histograms pass `name_count` / `name_sum`). */
function seriesValue(exp: Exposition, name: string): number {
  const matching = exp.samples.filter((s) => s.name === name);
  assert.equal(matching.length, 1, `${name}: expected one series, found ${matching.length}`);
  return (matching[0] as Sample).value;
}

function labelKey(labels: Record<string, string>, names: readonly string[]): string {
  return names.map((n) => `${n}=${labels[n]}`).join(",");
}

/** Every combination of the spec's listed label values (one empty combination when unlabelled). */
function expectedCombinations(spec: MetricSpec): string[] | null {
  let combos: Record<string, string>[] = [{}];
  for (const label of spec.labels) {
    const values = spec.labelValues?.[label];
    if (values === undefined) return null;
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [label]: v })));
  }
  return combos.map((c) => labelKey(c, spec.labels));
}

/** Presence, type, help, label names, pre-created series and histogram buckets of one metric. */
function checkSpec(exp: Exposition, spec: MetricSpec): void {
  const { name } = spec;
  assert.equal(exp.types.get(name), spec.type, `${name}: # TYPE is ${exp.types.get(name)}, declared ${spec.type}`);
  assert.ok((exp.help.get(name) ?? "") !== "", `${name}: no # HELP text`);
  const own =
    spec.type === "histogram"
      ? exp.samples.filter((s) => [`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(s.name))
      : exp.samples.filter((s) => s.name === name);
  const wanted = [...spec.labels].sort();
  for (const s of own) {
    const names = Object.keys(s.labels)
      .filter((l) => !(s.name === `${name}_bucket` && l === "le"))
      .sort();
    assert.deepEqual(names, wanted, `${s.name}: label names ${names.join(",")}, declared ${wanted.join(",")}`);
  }
  const countName = spec.type === "histogram" ? `${name}_count` : name;
  const present = new Set(own.filter((s) => s.name === countName).map((s) => labelKey(s.labels, spec.labels)));
  // Series whose label values are all listed exist from start-up (at 0), so dashboards see them.
  for (const combo of expectedCombinations(spec) ?? []) {
    assert.ok(present.has(combo), `${name}: series {${combo}} missing`);
  }
  if (spec.type === "histogram" && spec.buckets !== undefined) {
    const first = own.find((s) => s.name === countName);
    if (first !== undefined) {
      const key = labelKey(first.labels, spec.labels);
      const les = own
        .filter((s) => s.name === `${name}_bucket` && labelKey(s.labels, spec.labels) === key)
        .map((s) => Number(s.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : s.labels.le));
      assert.deepEqual(les, [...spec.buckets, Number.POSITIVE_INFINITY], `${name}: buckets`);
    }
  }
}

// promtool exits 3 for "parsed, but lint problems"; these are the ones forced on us by names we
// must keep (the same allow-list as packages/metrics/test/promtool.test.ts).
const PROMTOOL_LINT_EXIT = 3;
const KNOWN_LINT_PROBLEMS = new Set([
  'lean_validators_count non-histogram and non-summary metrics should not have "_count" suffix',
  'lean_attestation_committee_count non-histogram and non-summary metrics should not have "_count" suffix',
  'metronome_event_loop_delay_seconds non-summary metrics should not have "quantile" label',
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
]);
const promtoolMissing = spawnSync("promtool", ["--version"], { encoding: "utf8" }).error !== undefined;

// ---- Beacon payload checks -----------------------------------------------------------------------

function assertKeys(what: string, data: Record<string, unknown>, keys: readonly string[]): void {
  assert.deepEqual(Object.keys(data).sort(), [...keys].sort(), `${what}: fields ${JSON.stringify(data)}`);
}

function assertUint(what: string, v: unknown): number {
  assert.ok(typeof v === "string" && QUOTED_UINT.test(v), `${what}: ${JSON.stringify(v)} is not a quoted integer`);
  return Number(v);
}

function assertRoot(what: string, v: unknown): string {
  assert.ok(typeof v === "string" && ROOT_HEX.test(v), `${what}: ${JSON.stringify(v)} is not a 0x 32-byte root`);
  return v;
}

interface Header {
  root: string;
  canonical: boolean;
  finalized: boolean;
  slot: number;
  proposerIndex: number;
  parentRoot: string;
  stateRoot: string;
}

/** GET /eth/v1/beacon/headers/{id} on node `id`, or null on 404. */
async function header(net: TestDevnet, nodeId: number, blockId: string | number): Promise<Header | null> {
  const { status, body } = await net.getJson(nodeId, `/eth/v1/beacon/headers/${blockId}`);
  if (status === 404) return null;
  assert.equal(status, 200, `node ${nodeId} headers/${blockId}: ${status} ${JSON.stringify(body)}`);
  const b = body as {
    finalized: boolean;
    data: {
      root: string;
      canonical: boolean;
      header: { message: { slot: string; proposer_index: string; parent_root: string; state_root: string } };
    };
  };
  const m = b.data.header.message;
  return {
    root: b.data.root,
    canonical: b.data.canonical,
    finalized: b.finalized,
    slot: Number(m.slot),
    proposerIndex: Number(m.proposer_index),
    parentRoot: m.parent_root,
    stateRoot: m.state_root,
  };
}

// ---- the scenarios -------------------------------------------------------------------------------

describe("operations: metrics, health, event stream, reorg and checkpoint sync on a running devnet", () => {
  let net: TestDevnet;
  let majorityValidators: string;
  let lonerStream: SseRecorder;
  const recorders: SseRecorder[] = [];

  const subscribe = (nodeId: number, query: string): SseRecorder => {
    const r = new SseRecorder(`${net.httpUrl(nodeId)}/eth/v1/events?${query}`);
    recorders.push(r);
    return r;
  };

  /** Flags for a normal (re)start: node 3 carries node 5's validators, node 5 runs none. */
  const normalArgs = (id: number): string[] => {
    if (id === 3) return ["--validator-indices", majorityValidators];
    if (id === FRESH) return ["--no-validators"];
    return [];
  };

  before(async () => {
    net = await TestDevnet.create({ name: "operations", nodes: 6, validators: 15, genesisDelaySec: 13 });
    majorityValidators = [...net.entry(3).validatorIndices, ...net.entry(FRESH).validatorIndices].join(",");
    // The majority dial only each other, so nobody knows the loner; it dials nobody.
    for (const id of MAJORITY) net.start(id, ["--bootnodes", net.bootnodesOf(MAJORITY), ...normalArgs(id)]);
    net.start(LONER, ["--bootnodes", ""]);
    // Subscribed before genesis: every head change of node 4 is on this stream.
    await net.waitForHealth([LONER], () => true, "node 4's HTTP API", 30_000);
    lonerStream = subscribe(LONER, "topics=head,chain_reorg");
    await lonerStream.opened;
  });

  after(async () => {
    for (const r of recorders) r.close();
    await net?.teardown();
  });

  describe("metrics", () => {
    let first = "";

    it("node 0's /metrics has every metric of the table with its type, labels and buckets, and key series are live", async () => {
      await net.waitForHealth(
        MAJORITY,
        (hs) => hs.every((h) => h.head_slot >= 3 && h.peers >= 3),
        "head past slot 3 with 3 peers on nodes 0-3",
        45_000,
      );
      first = await net.scrapeMetrics(0);
      const exp = parseExposition(first);
      const specs = listMetricSpecs();
      assert.ok(specs.length > 80, `only ${specs.length} specs`);
      for (const { spec } of specs) checkSpec(exp, spec);

      assert.ok(seriesValue(exp, "lean_head_slot") >= 3, "lean_head_slot");
      assert.ok(seriesValue(exp, "lean_current_slot") >= 3, "lean_current_slot");
      // Blocks from the other three proposers came in by gossip and went through fork choice.
      assert.ok(seriesValue(exp, "lean_fork_choice_block_processing_time_seconds_count") > 0, "block processing count");
      assert.ok(seriesValue(exp, "metronome_driver_passes_total") > 0, "driver passes");
      assert.ok(seriesValue(exp, "metronome_tick_lateness_seconds_count") > 0, "tick lateness count");
      assert.ok(seriesValue(exp, "metronome_ticks_total") > 0, "ticks");
      assert.equal(seriesValue(exp, "lean_validators_count"), net.entry(0).validatorIndices.length);
      assert.equal(seriesValue(exp, "lean_is_aggregator"), 1, "node 0 is the aggregator");
      const peers = exp.samples.filter((s) => s.name === "lean_connected_peers");
      assert.ok(
        peers.reduce((n, s) => n + s.value, 0) >= 3,
        `lean_connected_peers: ${JSON.stringify(peers)} (node 0 has 3 peers)`,
      );
      const info = exp.samples.find((s) => s.name === "lean_node_info");
      assert.deepEqual(info?.labels, { name: "metronome", version: "0.1.0" });
    });

    it("the series move while the chain advances", async () => {
      const before = parseExposition(first);
      const headBefore = seriesValue(before, "lean_head_slot");
      await net.waitForHealth([0], (hs) => hs.every((h) => h.head_slot >= headBefore + 2), "2 more slots", 15_000);
      const now = parseExposition(await net.scrapeMetrics(0));
      for (const name of [
        "lean_head_slot",
        "lean_current_slot",
        "lean_fork_choice_block_processing_time_seconds_count",
        "metronome_driver_passes_total",
        "metronome_tick_lateness_seconds_count",
        "metronome_ticks_total",
      ]) {
        assert.ok(
          seriesValue(now, name) > seriesValue(before, name),
          `${name} did not move: ${seriesValue(before, name)}`,
        );
      }
    });

    it("every lean_* counter and histogram a healthy devnet exercises has moved on node 0", async () => {
      // Finality and a few blocks with votes in them: by then every duty and path below has run.
      await net.waitForHealth([0], (hs) => hs.every((h) => h.finalized_slot > 0), "finality on node 0", 30_000);
      const exp = parseExposition(await net.scrapeMetrics(0));
      // Series that stay at zero on a healthy devnet, and why. Anything else at zero is unwired.
      const mayStayZero = new Map<string, string>([
        ["lean_pq_sig_attestation_signatures_invalid_total", "nobody sends bad signatures"],
        ["lean_attestations_invalid_total", "nobody sends bad votes"],
        ["lean_block_building_failures_total", "block production does not fail"],
        ["lean_fork_choice_reorgs_total", "node 0 sits on the majority chain (node 4 reorgs, not node 0)"],
        ["lean_fork_choice_reorg_depth", "as above"],
        ["lean_peer_disconnection_events_total", "nobody disconnects before the health scenario"],
        ["lean_aggregator_skipped_total", "node 0 aggregates every slot unless a tick runs late"],
        ["lean_block_fetch_dedup_total", "blocks arrive by gossip in order; nothing is fetched by root"],
        ["lean_pending_attestations_buffered_total", "only when a vote outruns its block"],
        ["lean_pending_attestations_evicted_total", "only when the pending buffer is full"],
        ["lean_pending_attestations_replay_total", "only after something was buffered"],
        // Node 0 is the devnet's only aggregator: the only aggregates it sees are its own, which
        // are trusted (not re-verified) and never come back to it by gossip.
        ["lean_pq_sig_aggregated_signatures_valid_total", "only aggregator"],
        ["lean_pq_sig_aggregated_signatures_invalid_total", "only aggregator"],
        ["lean_pq_sig_aggregated_signatures_verification_time_seconds", "only aggregator"],
        ["lean_gossip_aggregation_size_bytes", "only aggregator"],
      ]);
      const specs = listMetricSpecs().map((l) => l.spec);
      for (const name of mayStayZero.keys())
        assert.ok(
          specs.some((s) => s.name === name),
          `allow-list: ${name}`,
        );
      const total = (name: string) => exp.samples.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);
      const unmoved = specs
        .filter((s) => s.name.startsWith("lean_") && s.type !== "gauge" && !mayStayZero.has(s.name))
        .filter((s) => total(s.type === "histogram" ? `${s.name}_count` : s.name) === 0)
        .map((s) => s.name);
      assert.deepEqual(unmoved, [], "lean_* counters/histograms still at zero on a healthy devnet");
      // The BLS verifier's busy time and verdicts (the flood benchmark's sets-per-busy-second).
      assert.ok(total("metronome_bls_verify_seconds_total") > 0, "metronome_bls_verify_seconds_total");
      assert.ok(
        (exp.samples.find((s) => s.name === "metronome_bls_sets_verified_total" && s.labels.result === "valid")
          ?.value ?? 0) > 0,
        "metronome_bls_sets_verified_total{result=valid}",
      );
    });

    it(
      "promtool check metrics accepts the scrape",
      { skip: promtoolMissing ? "promtool is not on PATH (Debian package prometheus); nothing is faked" : false },
      () => {
        const out = spawnSync("promtool", ["check", "metrics"], { input: first, encoding: "utf8" });
        const problems = `${out.stdout}\n${out.stderr}`
          .split("\n")
          .map((l) => l.trim())
          .filter((l) => l !== "" && !KNOWN_LINT_PROBLEMS.has(l));
        if (out.status === PROMTOOL_LINT_EXIT) assert.deepEqual(problems, [], "lint problems outside the allow-list");
        else assert.equal(out.status, 0, `promtool failed: ${out.stderr}`);
      },
    );
  });

  describe("event stream with a real EventSource client", () => {
    it("head, block and finalized_checkpoint events carry the Beacon fields with Beacon JSON types", async () => {
      const comma = subscribe(0, "topics=head,block,finalized_checkpoint");
      const repeated = subscribe(0, "topics=head&topics=block");
      await Promise.all([comma.opened, repeated.opened]);
      await comma.waitFor(
        "3 head, 3 block and 1 finalized_checkpoint events",
        (r) => r.of("head").length >= 3 && r.of("block").length >= 3 && r.of("finalized_checkpoint").length >= 1,
        30_000,
      );
      await repeated.waitFor(
        "3 head and 3 block events",
        (r) => r.of("head").length >= 3 && r.of("block").length >= 3,
        10_000,
      );

      // Each stream got exactly its topics (attestations happen every slot and were not sent).
      assert.deepEqual([...new Set(comma.events.map((e) => e.topic))].sort(), [
        "block",
        "finalized_checkpoint",
        "head",
      ]);
      assert.deepEqual([...new Set(repeated.events.map((e) => e.topic))].sort(), ["block", "head"]);

      const finalizedNow = (await net.waitForHealth([0], () => true, "health", 5_000))[0]?.finalized_slot ?? 0;
      const heads = comma.of("head");
      for (const [i, { data }] of heads.entries()) {
        assertKeys("head", data, HEAD_EVENT_FIELDS);
        const slot = assertUint("head.slot", data.slot);
        const block = assertRoot("head.block", data.block);
        assertRoot("head.state", data.state);
        assertRoot("head.previous_duty_dependent_root", data.previous_duty_dependent_root);
        assertRoot("head.current_duty_dependent_root", data.current_duty_dependent_root);
        assert.equal(data.execution_optimistic, false);
        assert.equal(typeof data.epoch_transition, "boolean");
        // One-slot epochs: a transition iff the head's slot changed since the previous head.
        const previous = heads[i - 1];
        if (previous !== undefined) {
          assert.equal(data.epoch_transition, slot !== Number(previous.data.slot), `head ${slot} epoch_transition`);
        }
        // The same block as the header route: slot, state root, and the dependent roots on its chain.
        const h = await header(net, 0, block);
        assert.ok(h !== null, `head block ${block} unknown to headers/{root}`);
        assert.equal(h.slot, slot);
        assert.equal(h.stateRoot, data.state);
        assert.equal(data.current_duty_dependent_root, h.parentRoot, "current_duty_dependent_root = block at slot-1");
        const parent = await header(net, 0, h.parentRoot);
        assert.ok(parent !== null);
        const prevDependent =
          parent.slot <= slot - 2 || parent.slot === 0 ? parent : await header(net, 0, parent.parentRoot);
        assert.ok(prevDependent !== null);
        // Documented: the zero root when that block was pruned below finality.
        const pruned = data.previous_duty_dependent_root === ZERO_ROOT && prevDependent.slot < finalizedNow;
        assert.ok(
          pruned || data.previous_duty_dependent_root === prevDependent.root,
          `head ${slot}: previous_duty_dependent_root ${data.previous_duty_dependent_root} != block at slot-2 ${prevDependent.root}`,
        );
      }

      const blocks = comma.of("block");
      for (const { data } of blocks) {
        assertKeys("block", data, ["slot", "block", "execution_optimistic"]);
        const slot = assertUint("block.slot", data.slot);
        const h = await header(net, 0, assertRoot("block.block", data.block));
        assert.equal(h?.slot, slot);
        assert.equal(data.execution_optimistic, false);
      }
      // A block is announced before it becomes head (heads of blocks imported after we subscribed).
      const firstBlockAt = (blocks[0] as Received).at;
      for (const head of heads.filter((e) => e.at > firstBlockAt + 1_500)) {
        assert.ok(
          blocks.some((b) => b.data.block === head.data.block && b.at <= head.at),
          `head ${head.data.slot} ${head.data.block} without an earlier block event`,
        );
      }

      for (const { data } of comma.of("finalized_checkpoint")) {
        assertKeys("finalized_checkpoint", data, ["block", "state", "epoch", "execution_optimistic"]);
        const epoch = assertUint("finalized_checkpoint.epoch", data.epoch);
        assert.ok(epoch > 0 && epoch <= finalizedNow, `finalized epoch ${epoch} (health: ${finalizedNow})`);
        const h = await header(net, 0, assertRoot("finalized_checkpoint.block", data.block));
        assert.ok(h !== null);
        assert.equal(h.slot, epoch, "epoch carries the slot");
        assert.equal(h.stateRoot, assertRoot("finalized_checkpoint.state", data.state));
        assert.equal(data.execution_optimistic, false);
      }

      // The route's head was announced on both streams with the same slot.
      const head = await header(net, 0, "head");
      assert.ok(head !== null);
      for (const r of [comma, repeated]) {
        await r.waitFor(
          `a head event for headers/head ${head.slot}`,
          (x) => x.of("head").some((e) => e.data.block === head.root),
          5_000,
        );
        const announced: Received | undefined = r.of("head").find((e) => e.data.block === head.root);
        assert.equal(announced?.data.slot, String(head.slot));
      }
      comma.close();
      repeated.close();
    });

    it("an unknown topic is a 400 with {code, message}, for fetch and for EventSource", async () => {
      for (const query of ["topics=head,nope", "topics=head&topics=nope", ""]) {
        const { status, body } = await net.getJson(0, `/eth/v1/events?${query}`);
        assert.equal(status, 400, `?${query}`);
        const b = body as { code: unknown; message: unknown };
        assertKeys(`400 body for ?${query}`, b as Record<string, unknown>, ["code", "message"]);
        assert.equal(b.code, 400);
        assert.ok(typeof b.message === "string" && /topic/i.test(b.message), `message: ${String(b.message)}`);
      }
      const bad = subscribe(0, "topics=nope");
      await assert.rejects(bad.opened, /code 400/);
      assert.equal(bad.errorCode, 400);
      // A 400 is final: the client does not reconnect.
      assert.equal(bad.source.readyState, EventSource.CLOSED);
    });
  });

  describe("chain_reorg when the isolated node joins", () => {
    it("node 4 alone builds its own fork while nodes 0-3 build the majority chain", async () => {
      const ownSlot = Math.min(...net.entry(LONER).validatorIndices);
      const [loner] = await net.waitForHealth(
        [LONER],
        (hs) => hs.every((h) => h.head_slot >= ownSlot),
        `node 4's head at its own proposal (slot ${ownSlot})`,
        45_000,
      );
      assert.ok(loner !== undefined);
      assert.equal(loner.peers, 0, "node 4 must be alone");
      const own = await header(net, LONER, loner.head_root);
      assert.ok(own !== null);
      assert.ok(net.entry(LONER).validatorIndices.includes(own.proposerIndex), "node 4's head is its own block");
      assert.equal(await header(net, 0, loner.head_root), null, "node 0 never saw node 4's block");
      assert.equal(lonerStream.of("chain_reorg").length, 0, "no reorg while alone");
    });

    it("once node 3 dials it, node 4 syncs the majority chain and its stream reports chain_reorg", async () => {
      const lonerBefore = (await net.waitForHealth([LONER], () => true, "node 4", 5_000))[0];
      assert.ok(lonerBefore !== undefined);
      // Node 3 restarts with the genesis bootnodes, which include node 4.
      await net.stop(3);
      net.start(3, normalArgs(3));
      await lonerStream.waitFor("chain_reorg on node 4's stream", (r) => r.of("chain_reorg").length > 0, 40_000);

      const reorg = (lonerStream.of("chain_reorg")[0] as Received).data;
      assertKeys("chain_reorg", reorg, CHAIN_REORG_EVENT_FIELDS);
      const slot = assertUint("chain_reorg.slot", reorg.slot);
      const depth = assertUint("chain_reorg.depth", reorg.depth);
      assert.equal(assertUint("chain_reorg.epoch", reorg.epoch), slot, "epoch carries the slot");
      assert.equal(reorg.execution_optimistic, false);
      const oldRoot = assertRoot("old_head_block", reorg.old_head_block);
      const newRoot = assertRoot("new_head_block", reorg.new_head_block);
      assertRoot("old_head_state", reorg.old_head_state);
      assertRoot("new_head_state", reorg.new_head_state);
      assert.ok(depth >= 1, `depth ${depth}`);

      // Old head: node 4's own fork block, now off its canonical chain, never on node 0's.
      const old = await header(net, LONER, oldRoot);
      assert.ok(old !== null, "node 4 forgot its old head");
      assert.ok(net.entry(LONER).validatorIndices.includes(old.proposerIndex), "old head was not node 4's own block");
      assert.equal(old.stateRoot, reorg.old_head_state);
      assert.ok(old.slot >= lonerBefore.head_slot || oldRoot === lonerBefore.head_root);
      assert.equal(await header(net, 0, oldRoot), null, "the old head is on node 0's chain: no fork");
      assert.ok(depth <= old.slot, `depth ${depth} deeper than the old head's slot ${old.slot}`);
      // New head: the majority's block.
      const fresh = await header(net, 0, newRoot);
      assert.ok(fresh !== null, "the new head is not on node 0's chain");
      assert.equal(fresh.slot, slot);
      assert.equal(fresh.stateRoot, reorg.new_head_state);
      // The reorg's new head was also announced as a head event.
      assert.ok(
        lonerStream.of("head").some((e) => e.data.block === newRoot),
        "no head event for the new head",
      );

      const after = parseExposition(await net.scrapeMetrics(LONER));
      assert.ok(seriesValue(after, "lean_fork_choice_reorgs_total") >= 1, "node 4 did not count the reorg");
    });

    it("node 4 then follows the majority chain", async () => {
      await net.waitForHealth(
        [0, LONER],
        (hs) => {
          const [n0, n4] = hs;
          return n0 !== undefined && n4 !== undefined && n4.finalized_slot > 0 && n0.head_slot - n4.head_slot <= 2;
        },
        "node 4 within 2 slots of node 0, with finality",
        30_000,
      );
      const [n4] = await net.waitForHealth([LONER], () => true, "node 4", 5_000);
      assert.ok(n4 !== undefined);
      assert.equal(await net.finalizedRoot(LONER, n4.finalized_slot), await net.finalizedRoot(0, n4.finalized_slot));
      // Done with it: the health scenario restarts node 4, and the client would reconnect.
      lonerStream.close();
    });
  });

  describe("checkpoint sync", () => {
    it("a bad --checkpoint-sync-url makes the node exit non-zero with a one-line error", async () => {
      const cases = [
        // Port 3: nothing listens there, and it is not on the fetch blocked-port list (port 1 is).
        { url: "http://127.0.0.1:3", code: "FETCH_FAILED" },
        // A web server that is not a beacon node: node 0's metrics port.
        { url: `http://127.0.0.1:${net.entry(0).metricsPort}`, code: "HTTP_STATUS" },
      ];
      for (const [i, c] of cases.entries()) {
        const dataDir = join(net.dir, `bad-checkpoint-${i}`);
        const run = await net.runOnce(FRESH, dataDir, 30_000, ["--no-validators", "--checkpoint-sync-url", c.url]);
        assert.equal(run.timedOut, false, `${c.url}: neither exited nor served\n${run.output}`);
        assert.equal(run.stillServing, false, `${c.url}: started anyway\n${run.output}`);
        assert.ok(run.code !== null && run.code !== 0, `${c.url}: exit ${run.code} ${run.signal}\n${run.output}`);
        const errors = run.output.split("\n").filter((l) => /checkpoint sync/i.test(l));
        assert.equal(errors.length, 1, `${c.url}: expected one error line\n${run.output}`);
        assert.match(errors[0] as string, new RegExp(`^metronome: checkpoint sync ${c.code}: `));
        assert.doesNotMatch(run.output, /^\s+at /m, `${c.url}: a stack trace\n${run.output}`);
      }
    });

    it("a fresh node starts from node 0's finalized state, not from genesis, and follows the head", async () => {
      const [n0] = await net.waitForHealth(
        [0],
        (hs) => hs.every((h) => h.finalized_slot >= 4),
        "node 0 finality",
        20_000,
      );
      assert.ok(n0 !== undefined);
      net.start(FRESH, [...normalArgs(FRESH), "--checkpoint-sync-url", net.httpUrl(0)]);
      const [first] = await net.waitForHealth([FRESH], () => true, "node 5's HTTP API", 30_000);
      assert.ok(first !== undefined);
      assert.ok(first.finalized_slot >= n0.finalized_slot, `node 5 started at finalized ${first.finalized_slot}`);

      const log = readFileSync(net.logPath(FRESH), "utf8");
      const anchorLine = /starting from a checkpoint .*slot=(\d+)/.exec(log);
      assert.ok(anchorLine, `no checkpoint start in the log\n${net.logTail(FRESH)}`);
      assert.doesNotMatch(log, /starting from genesis/);
      const anchorSlot = Number(anchorLine[1]);
      assert.ok(anchorSlot >= n0.finalized_slot, `anchor slot ${anchorSlot} < node 0's finalized ${n0.finalized_slot}`);
      assert.equal(await net.finalizedRoot(FRESH, anchorSlot), await net.finalizedRoot(0, anchorSlot));

      await net.waitForHealth(
        [0, FRESH],
        (hs) => {
          const [a, b] = hs;
          return (
            a !== undefined &&
            b?.sync_state === "SYNCED" &&
            a.head_slot - b.head_slot <= 2 &&
            b.finalized_slot > anchorSlot
          );
        },
        "node 5 SYNCED, within 2 slots of node 0, finalizing past its anchor",
        30_000,
      );
      const [n5] = await net.waitForHealth([FRESH], () => true, "node 5", 5_000);
      assert.ok(n5 !== undefined);
      assert.equal(await net.finalizedRoot(FRESH, n5.finalized_slot), await net.finalizedRoot(0, n5.finalized_slot));
      const fin = await header(net, FRESH, "finalized");
      assert.ok(fin !== null && fin.slot > 0 && fin.finalized);

      // What range sync from genesis would have fetched is not there: no block before the anchor.
      assert.equal(await header(net, FRESH, "genesis"), null, "node 5 has a genesis block");
      let checked = 0;
      for (let slot = 1; slot < anchorSlot; slot++) {
        if ((await header(net, 0, slot)) === null) continue;
        assert.equal(await header(net, FRESH, slot), null, `node 5 has node 0's block at slot ${slot}`);
        checked++;
      }
      assert.ok(checked > 0, "no pre-anchor block to check");
    });
  });

  describe("health", () => {
    const peersOf0 = () => [1, 2, 3, LONER, FRESH].filter((id) => net.isRunning(id));

    it("node 0 is 200 healthy while synced with peers", async () => {
      const { status, body } = await net.getJson(0, "/lean/v0/health");
      const h = body as { status: string; reasons: string[]; peers: number; sync_state: string };
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(h.status, "healthy");
      assert.deepEqual(h.reasons, []);
      assert.ok(h.peers >= 3, `peers ${h.peers}`);
    });

    it("with every peer stopped it turns 503 unhealthy for the documented reason: no peers", async () => {
      const stopped = peersOf0();
      assert.ok(stopped.length >= 4, `running peers: ${stopped.join(",")}`);
      await Promise.all(stopped.map((id) => net.stop(id)));
      const body = await waitUntil(
        async () => {
          const { status, body } = await net.getJson(0, "/lean/v0/health");
          return status === 503 ? (body as { status: string; reasons: string[]; peers: number }) : null;
        },
        "node 0's health to turn 503",
        20_000,
      );
      assert.equal(body.status, "unhealthy");
      assert.equal(body.peers, 0);
      assert.ok(body.reasons.includes("no peers"), `reasons: ${body.reasons.join("; ")}`);

      // Back again: the peers restart on their data dirs and dial node 0.
      for (const id of stopped) net.start(id, normalArgs(id));
      const healthy = await waitUntil(
        async () => {
          const { status, body } = await net.getJson(0, "/lean/v0/health");
          return status === 200 ? (body as { status: string; reasons: string[]; peers: number }) : null;
        },
        "node 0's health to return to 200",
        30_000,
      );
      assert.equal(healthy.status, "healthy");
      assert.deepEqual(healthy.reasons, []);
      assert.ok(healthy.peers >= 1);
    });
  });
});
