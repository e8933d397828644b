// The chain is sealed behind chain/interface.ts (BeaconChain): no source file outside chain/ may
// reach the fork-choice store, the chain's database handle, its buffers or its write queue, and only
// the composition root (node/beaconNode.ts) may construct the ChainService. A check on the source
// text, so a new shortcut fails `npm test` instead of waiting for a reviewer.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";

const SRC = join(import.meta.dirname, "..", "..", "src");
const COMPOSITION_ROOT = "node/beaconNode.ts";

/** Ways to reach past the interface: the store type, its members through a chain, chain internals. */
const FORBIDDEN: { pattern: RegExp; why: string }[] = [
  { pattern: /\bForkChoiceStore\b/, why: "fork choice is the chain's own (use BeaconChain)" },
  { pattern: /\bchain\??\.store\b/, why: "the store is behind BeaconChain" },
  { pattern: /\bstore\.(onTick|onBlock|onAttestation|produceAttestationData|head|latest\w+)\b/, why: "store access" },
  {
    pattern: /\bchain\??\.(db|writes|orphans|pendingSingle|pendingAggregated)\b/,
    why: "chain internals (use the BeaconChain queries and stats)",
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** The code without its comments (a comment may name the store to explain why it is not used). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
}

export function violations(files: { path: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { path, text } of files) {
    if (path.startsWith("chain/")) continue;
    const body = code(text);
    for (const { pattern, why } of FORBIDDEN) {
      if (pattern.test(body)) out.push(`${path}: ${why} (${pattern})`);
    }
    if (path !== COMPOSITION_ROOT && /from "[./]*\/?chain\/chainService\.ts"/.test(body)) {
      out.push(`${path}: imports chainService.ts (only ${COMPOSITION_ROOT} may; others use chain/interface.ts)`);
    }
  }
  return out;
}

describe("the chain is sealed behind BeaconChain", () => {
  it("no source file outside chain/ reaches the store or the chain's internals", () => {
    const files = sourceFiles(SRC).map((p) => ({ path: relative(SRC, p), text: readFileSync(p, "utf8") }));
    assert.ok(files.length > 30, "the scan found the sources");
    assert.deepEqual(violations(files), []);
  });

  it("catches the shortcuts it is there to catch", () => {
    const bad = [
      { path: "validator/duties.ts", text: "this.chain.store.onTick(slot * 5, true);" },
      { path: "sync/syncService.ts", text: "const b = await this.chain.db.getBlock(root);" },
      { path: "node/health.ts", text: 'import type { ForkChoiceStore } from "@metronome/chain";' },
      { path: "api/x.ts", text: 'import { ChainService } from "../chain/chainService.ts";' },
    ];
    for (const file of bad) assert.ok(violations([file]).length > 0, `${file.path}: ${file.text}`);
    const fine = [
      { path: "chain/chainService.ts", text: "this.store.onTick(1, false);" },
      { path: "node/health.ts", text: "// the store is not read here\nconst h = chain.head;" },
      { path: "flood/busyCores.ts", text: "Atomics.store(view, 0, 1);" },
    ];
    assert.deepEqual(violations(fine), []);
  });
});
