// The flood benchmark's pure parts: period planning from --rates and friends, rates from capacity,
// the table and JSON shape (every period a column, recovery figures in the flood's column), and the
// curve the PNG draws; --nice-others' command wrapper.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { getPriority } from "node:os";
import { describe, it } from "node:test";
import { compareAblations } from "../bench/lib/floodAblation.ts";
import {
  ablationReference,
  type FloodPlanOptions,
  mixesOf,
  PlanError,
  parseRates,
  parseScoring,
  planPeriods,
  rateForMultiple,
  SCORING_OFF_FLAG,
  VALID_MIX,
} from "../bench/lib/floodPlan.ts";
import { curveData, curveSpec } from "../bench/lib/floodPlot.ts";
import { curvePoints, floodResultsJson, floodRows, type MixCapacity } from "../bench/lib/floodReport.ts";
import type { PeriodResult } from "../bench/lib/floodRunner.ts";
import { NiceOffsetError, niceCommand, parseNiceOffset } from "../bench/lib/niceOthers.ts";
import type { FloodSummary } from "../packages/flood/src/flooder.ts";
import { summarizeSamples } from "../packages/flood/src/periodSummary.ts";

const MIX = "valid=20,invalid_sig=40,unknown_root=20,future_slot=5,duplicate=5,malformed=10";

function options(over: Partial<FloodPlanOptions> = {}): FloodPlanOptions {
  return {
    baselineS: 60,
    floodS: 180,
    recoveryS: 60,
    rates: [1, 2, 4, 8],
    fixedRate: null,
    mix: MIX,
    sybilPeers: 16,
    sybilMultiple: 2,
    scoringPair: true,
    pairMultiple: 2,
    scoring: "on",
    ablation: false,
    ablationS: 90,
    ablationMultiple: 2,
    ...over,
  };
}

describe("flood bench: period plan", () => {
  it("parses --rates and refuses what is not a list of positive multiples", () => {
    assert.deepEqual(parseRates("1,2,4,8"), [1, 2, 4, 8]);
    assert.deepEqual(parseRates(" 0.5 , 3"), [0.5, 3]);
    for (const bad of ["", "1,,2", "0", "-1", "x", "2,2"]) assert.throws(() => parseRates(bad), PlanError, bad);
  });

  it("one flood and one recovery per multiple, then Sybil, then the scoring pair", () => {
    const plan = planPeriods(options());
    assert.deepEqual(
      plan.map((p) => p.name),
      [
        "no flood",
        "flood 1x",
        "after flood 1x",
        "flood 2x",
        "after flood 2x",
        "flood 4x",
        "after flood 4x",
        "flood 8x",
        "after flood 8x",
        "sybil 16 peers 2x",
        "after sybil 16 peers 2x",
        `${VALID_MIX} 2x scoring on`,
        `after ${VALID_MIX} 2x scoring on`,
        `${VALID_MIX} 2x scoring off`,
        `after ${VALID_MIX} 2x scoring off`,
      ],
    );
    const curve = plan.filter((p) => p.role === "curve");
    assert.deepEqual(
      curve.map((p) => p.flood?.multiple),
      [1, 2, 4, 8],
    );
    assert.ok(curve.every((p) => p.flood?.peers === 1 && p.flood.mix === MIX && p.seconds === 180));
    const sybil = plan.find((p) => p.role === "sybil");
    assert.deepEqual(sybil?.flood, { multiple: 2, rate: null, peers: 16, mix: MIX });
    const pair = plan.filter((p) => p.role === "scoring");
    assert.deepEqual(
      pair.map((p) => [p.flood?.mix, p.nodeArgs]),
      [
        [VALID_MIX, []],
        [VALID_MIX, [SCORING_OFF_FLAG]],
      ],
    );
    assert.deepEqual(mixesOf(plan), [MIX, VALID_MIX]);
  });

  it("--scoring off runs node 0 without score disconnections outside the pair; ablations keep it", () => {
    const plan = planPeriods(options({ scoring: "off", ablation: true }));
    assert.deepEqual(plan[0]?.nodeArgs, [SCORING_OFF_FLAG]);
    assert.deepEqual(plan.find((p) => p.name === "flood 2x")?.nodeArgs, [SCORING_OFF_FLAG]);
    assert.deepEqual(plan.find((p) => p.name === `${VALID_MIX} 2x scoring on`)?.nodeArgs, []);
    assert.deepEqual(plan.find((p) => p.name === "main thread")?.nodeArgs, [SCORING_OFF_FLAG, "--bls-workers", "0"]);
  });

  it("--rate gives one flood at that rate (ablations too) and cannot be combined with several --rates", () => {
    const plan = planPeriods(
      options({ rates: [2], fixedRate: 3000, sybilPeers: 0, scoringPair: false, ablation: true }),
    );
    assert.deepEqual(
      plan.filter((p) => p.flood !== null).map((p) => [p.name, p.flood?.rate]),
      [
        ["flood", 3000],
        ["pool, --max-batch 0", 3000],
        ["main thread", 3000],
        ["main thread, --max-batch 0", 3000],
      ],
    );
    assert.equal(ablationReference({ fixedRate: 3000, ablationMultiple: 2 }), "flood");
    assert.equal(ablationReference({ fixedRate: null, ablationMultiple: 2 }), "flood 2x");
    assert.throws(() => planPeriods(options({ fixedRate: 3000 })), PlanError);
  });

  it("refuses options that cannot make a plan, with the flag's name", () => {
    for (const [over, flag] of [
      [{ floodS: 0 }, "--flood-seconds"],
      [{ sybilPeers: 65 }, "--sybil-peers"],
      [{ sybilPeers: 1.5 }, "--sybil-peers"],
      [{ recoveryS: -1 }, "--recovery-seconds"],
      [{ fixedRate: Number.NaN, rates: [2] }, "--rate"],
    ] as const) {
      assert.throws(
        () => planPeriods(options(over)),
        (e: Error) => e instanceof PlanError && e.message.includes(flag),
      );
    }
    assert.throws(() => parseScoring("maybe"), PlanError);
    assert.equal(parseScoring("off"), "off");
  });

  it("no recovery periods when --recovery-seconds is 0", () => {
    assert.ok(planPeriods(options({ recoveryS: 0 })).every((p) => p.role !== "recovery"));
  });

  it("a multiple of capacity becomes msgs/s over the verified share, rounded to 50", () => {
    // 2 x 460 sets/s, 80% of messages need a check: 1150 msgs/s.
    assert.equal(rateForMultiple(2, 460, 0.8), 1150);
    assert.equal(rateForMultiple(8, 460, 0.8), 4600);
    assert.equal(rateForMultiple(0.01, 10, 1), 50, "never below one step");
  });
});

/** A period result with the few figures the report reads; the rest NaN as for a failed scrape. */
function result(name: string, role: PeriodResult["plan"]["role"], over: Partial<ReturnType<typeof summary>> = {}) {
  const plan = planPeriods(options({ ablation: true })).find((p) => p.name === name);
  assert.ok(plan, name);
  const s = { ...summary(name), ...over };
  const flood =
    plan.flood === null
      ? null
      : ({
          rate: 1000,
          achievedRate: 990,
          peers: plan.flood.peers,
          perPeerRate: 1000 / plan.flood.peers,
        } as FloodSummary);
  return {
    plan: { ...plan, role },
    summary: s,
    flood,
    flooderCpuPercent: 40,
    othersCpuPercent: 60,
    rate: flood?.rate ?? null,
  } as PeriodResult;
}

function summary(name: string) {
  return summarizeSamples(name, [], 0, 60);
}

describe("flood bench: table, JSON and curve", () => {
  const capacities: MixCapacity[] = [
    {
      mix: MIX,
      verifiedShare: 0.8,
      capacity: {
        sets: 256,
        workers: 1,
        batchSize: 64,
        validFraction: 0.5,
        poolSetsPerSec: 460,
        sameBatchBlstSetsPerSec: 800,
        sameBatchBlstOtherCoresBusySetsPerSec: 700,
        sameBatchBlstSetsPerCpuSec: 500,
      },
    },
  ];
  const noFlood = result("no flood", "baseline", {
    tickLatenessP99Ms: 4,
    tickLatenessMaxBoundMs: 10,
    headFinalizedGapMax: 2,
  });
  const flood2 = result("flood 2x", "curve", {
    tickLatenessP99Ms: 9,
    tickLatenessMaxBoundMs: 50,
    headFinalizedGapMax: 3,
    setsPerBusySecond: 640,
    setsPerVerifierCpuSecond: 450,
    driverOnCpuMsPerSec: 41.26,
    driverCpuWaitMsPerSec: 12.04,
    driverScavengeMsPerSec: 20,
    driverScavengeMeanMs: 2.5,
    driverMarkCompactMsPerSec: 0,
    reclaimCpuMsPerSec: 48.5,
    rssEndMiB: 300,
  });
  const after2 = result("after flood 2x", "recovery", { durationS: 60, rssEndMiB: 250 });
  const sybil = result("sybil 16 peers 2x", "sybil", {
    cutoff: {
      ...summary("x").cutoff,
      graylisted: 16,
      firstGraylistS: 4,
      scoreDisconnects: 16,
      firstScoreDisconnectS: 6,
      graylistSteps: [
        { s: 4, count: 10 },
        { s: 8, count: 16 },
      ],
      disconnectSteps: [{ s: 6, count: 15 }],
      coveragePercent: 99.5,
      coverageMinPercent: 96.875,
      coverageVotes: 1440,
    },
  });
  const results = [noFlood, flood2, after2, sybil];
  const rows = floodRows(results, capacities, 120);
  const cell = (figure: string, period: string) => rows.find((r) => r.figure === figure)?.[period];

  it("has a column per period and the figures the issues ask for", () => {
    assert.deepEqual(Object.keys(rows[0] ?? {}), [
      "figure",
      "no flood",
      "flood 2x",
      "after flood 2x",
      "sybil 16 peers 2x",
    ]);
    assert.equal(cell("tick lateness p99 ms (histogram)", "flood 2x"), "9.0");
    assert.equal(cell("head - finalized max slots", "flood 2x"), "3");
    assert.equal(cell("honest-vote coverage % (lowest slot %)", "sybil 16 peers 2x"), "99.50 (97)");
    assert.equal(cell("peers graylisted / first / all flooders after s", "sybil 16 peers 2x"), "16 / 4 / 8");
    // Only 15 of the 16 identities were ever disconnected: "all" never happened.
    assert.equal(cell("peers score-disconnected / first / all flooders after s", "sybil 16 peers 2x"), "16 / 6 / -");
    // The fixture's no-flood period has no scrapes: every figure is missing.
    assert.equal(cell("peers graylisted / first / all flooders after s", "no flood"), "- / - / -");
    assert.equal(cell("flood peers x msgs/s each", "sybil 16 peers 2x"), "16 x 63");
    // 640 sets per busy second against 800 on an idle core.
    assert.equal(cell("  same, vs same-batch blst on one idle thread %", "flood 2x"), "80");
    // 450 sets per CPU second of the verifier's threads against 500 per CPU second idle.
    assert.equal(cell("  sets per verifier-thread CPU second", "flood 2x"), "450");
    assert.equal(cell("  same, vs same-batch blst per CPU second, idle %", "flood 2x"), "90");
    assert.equal(cell("driver thread on a CPU / waiting for one, ms per s", "flood 2x"), "41.3 / 12.0");
    assert.equal(cell("kernel reclaim threads (kdamond, kswapd) CPU ms per s", "flood 2x"), "48.5");
    assert.equal(cell("other nodes CPU % (summed; 100 = a core)", "flood 2x"), "60");
    assert.equal(
      cell("driver GC pauses: scavenge ms per s / mean ms, mark-compact ms per s", "flood 2x"),
      "20.0 / 2.5, 0.0",
    );
    assert.equal(cell("RSS after the flood: s later / MiB", "flood 2x"), "60 / 250");
    assert.equal(cell("RSS after the flood: s later / MiB", "no flood"), "-");
    for (const figure of [
      "intervals missed (counter)",
      "tick lateness max ms (<= bucket)",
      "node 0 CPU % (all threads)",
      "node 0 CPU % from 60 s in",
      "RSS start / max MiB",
      "RSS growth after 120 s warm-up MiB",
      "signature checks/s (gossip attestations)",
    ]) {
      assert.ok(cell(figure, "no flood") !== undefined, `no row "${figure}"`);
    }
  });

  it("writes the curve and each period (without raw samples) into the JSON", () => {
    const json = floodResultsJson(results, capacities, rows, { failure: null }) as {
      curve: { period: string; multiple: number }[];
      periods: { name: string; role: string; summary: unknown }[];
      failure: null;
    };
    assert.deepEqual(
      json.curve.map((p) => [p.period, p.multiple]),
      [
        ["no flood", 0],
        ["flood 2x", 2],
      ],
    );
    assert.deepEqual(
      json.periods.map((p) => p.role),
      ["baseline", "curve", "recovery", "sybil"],
    );
    assert.equal(json.failure, null);
    assert.doesNotThrow(() => JSON.stringify(json));
  });

  it("the plot draws p99 and max lateness and the finality gap at each rate, skipping missing figures", () => {
    const data = curveData(curvePoints(results));
    assert.deepEqual(
      data.map((d) => [d.multiple, d.panel, d.series, d.value]),
      [
        [0, "tick lateness (ms)", "p99", 4],
        [0, "tick lateness (ms)", "max (<= bucket)", 10],
        [0, "head - finalized (slots)", "head - finalized max", 2],
        [2, "tick lateness (ms)", "p99", 9],
        [2, "tick lateness (ms)", "max (<= bucket)", 50],
        [2, "head - finalized (slots)", "head - finalized max", 3],
      ],
    );
    const spec = curveSpec(curvePoints(results), "t") as { data: { values: unknown[] } };
    assert.equal(spec.data.values.length, 6);
  });

  it("compares each ablation with the bounded flood at its rate", () => {
    const unbounded = result("pool, --max-batch 0", "ablation", { tickLatenessP99Ms: 90 });
    const c = compareAblations([...results, unbounded], "flood 2x");
    assert.deepEqual(c["worker pool"]?.["tick lateness p99 ms"], { bounded: 9, unbounded: 90, ratio: 10 });
  });
});

describe("flood bench: --nice-others", () => {
  it("takes an offset from 0 to 19 and refuses anything else with the flag's name", () => {
    assert.equal(parseNiceOffset("0"), 0);
    assert.equal(parseNiceOffset("19"), 19);
    for (const bad of ["20", "-1", "1.5", "ten", ""]) {
      assert.throws(
        () => parseNiceOffset(bad),
        (e: Error) => e instanceof NiceOffsetError && /--nice-others/.test(e.message),
      );
    }
  });

  it("a wrapped command runs that many nice steps below this process; 0 leaves it alone", () => {
    const niceOf = (offset: number): number => {
      const script = "console.log(require('node:os').getPriority())";
      const c = niceCommand(offset, process.execPath, ["-e", script]);
      const r = spawnSync(c.file, c.args, { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      return Number(r.stdout.trim());
    };
    const own = getPriority();
    assert.equal(niceOf(0), own);
    assert.equal(niceOf(7), Math.min(19, own + 7));
    assert.deepEqual(niceCommand(0, "node", ["a"]), { file: "node", args: ["a"] });
  });
});
