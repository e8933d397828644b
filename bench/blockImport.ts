// Block import cost for a block with 8 aggregates over 256 validators on a realistic chain:
// signature verification, state transition, fork-choice bookkeeping, and the end-to-end import.
// `node bench/blockImport.ts [--runs N] [--validators V]`
import { type BlockImportResult, stateTransition, toHex, verifySignedBlock } from "@metronome/chain";
import { benchOptions, positiveIntOption } from "./lib/benchArgs.ts";
import { blockRoot, buildBlockImportFixture, preImportStore } from "./lib/chainFixture.ts";
import { printTable, type Row, writeResult } from "./lib/report.ts";
import { type Summary, summarize, timed } from "./lib/stats.ts";

const WARMUP_RUNS = 3;
const INCLUDED_SLOTS = 4;

function main(): void {
  const values = benchOptions(import.meta.url, { runs: { type: "string" }, validators: { type: "string" } });
  const runs = positiveIntOption(values.runs, 30, "runs");
  const validatorCount = positiveIntOption(values.validators, 256, "validators");

  const setup = timed(() => buildBlockImportFixture(validatorCount, INCLUDED_SLOTS));
  const fx = setup.value;
  const { block } = fx.block;
  console.log(
    `fixture: ${validatorCount} validators, ${fx.chain.length} blocks before the test block (built in ${(setup.ms / 1000).toFixed(1)} s); ` +
      `test block slot ${block.slot} carries ${block.body.attestations.length} aggregates x ${block.body.attestations[0]?.aggregationBits.getTrueBitIndexes().length} participants; ` +
      `justified ${fx.parentState.latestJustified.slot} -> ${fx.postState.latestJustified.slot}, finalized ${fx.parentState.latestFinalized.slot} -> ${fx.postState.latestFinalized.slot}`,
  );

  const samples = {
    verify: [] as number[],
    transition: [] as number[],
    noVerify: [] as number[],
    total: [] as number[],
  };
  const expectedRoot = toHex(blockRoot(fx.block));
  const checkImported = (r: BlockImportResult) => {
    if (toHex(r.root) !== expectedRoot || !r.headUpdate.changed) throw new Error("test block did not become the head");
  };
  for (let i = 0; i < WARMUP_RUNS + runs; i++) {
    const unverifiedStore = preImportStore(fx);
    const store = preImportStore(fx);
    const verify = timed(() => verifySignedBlock(fx.pubkeys, fx.block, fx.domains));
    const transition = timed(() => stateTransition(fx.parentState, block));
    // Transition plus fork-choice bookkeeping (insert, body votes, head recomputation).
    const noVerify = timed(() => unverifiedStore.onBlock(fx.block, { verifySignatures: false }));
    // The real gossip path: verify, transition, fork choice.
    const total = timed(() => store.onBlock(fx.block));
    checkImported(noVerify.value);
    checkImported(total.value);
    if (i < WARMUP_RUNS) continue;
    samples.verify.push(verify.ms);
    samples.transition.push(transition.ms);
    samples.noVerify.push(noVerify.ms);
    samples.total.push(total.ms);
  }

  const transition = summarize(samples.transition);
  const noVerify = summarize(samples.noVerify);
  // Per-run differences of two noisy timings are noisier than either; medians subtract cleanly.
  const forkChoice = {
    ...noVerify,
    median: Math.max(0, noVerify.median - transition.median),
    p90: Math.max(0, noVerify.p90 - transition.p90),
    // Minima of different runs do not subtract into anything meaningful.
    min: Number.NaN,
  };
  const parts: [string, Summary][] = [
    ["signature verify (verifySignedBlock)", summarize(samples.verify)],
    ["state transition (stateTransition)", transition],
    ["fork choice (onBlock unverified - transition)", forkChoice],
    ["onBlock without signature check", noVerify],
    ["total (store.onBlock, verifying)", summarize(samples.total)],
  ];
  const totalMedian = summarize(samples.total).median;
  const rows: Row[] = parts.map(([part, s]) => ({
    part,
    "median ms": s.median,
    "p90 ms": s.p90,
    "min ms": s.min,
    "share of total": `${((100 * s.median) / totalMedian).toFixed(0)}%`,
  }));
  printTable(
    `block import: ${block.body.attestations.length} aggregates over ${validatorCount} validators, ${runs} runs`,
    rows,
  );
  const path = writeResult(
    "blockImport",
    { validators: validatorCount, runs, warmupRuns: WARMUP_RUNS, chainBlocks: fx.chain.length, blockSlot: block.slot },
    Object.fromEntries(parts.map(([part, s]) => [part, s])),
  );
  console.log(`\nwrote ${path}`);
}

main();
