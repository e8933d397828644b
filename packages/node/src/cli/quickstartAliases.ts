// lean-quickstart's client flags (its client-cmds/*-cmd.sh pass the same names to every client)
// accepted by `metronome node`, mapped onto Metronome's own. Pure: parsed options in, canonical
// options out, or a one-line error. The table in docs/operations.md lists them with the ones
// Metronome cannot honour.
import { InvalidArgumentError } from "commander";

export interface QuickstartAlias {
  /** The lean-quickstart flag (commander attribute name in `key`). */
  flag: string;
  key: string;
  /** The Metronome option it sets. */
  canonical: string;
  canonicalKey: string;
}

export const QUICKSTART_ALIASES: readonly QuickstartAlias[] = [
  { flag: "--custom-genesis", key: "customGenesis", canonical: "--genesis", canonicalKey: "genesis" },
  { flag: "--genesis-dir", key: "genesisDir", canonical: "--genesis", canonicalKey: "genesis" },
  { flag: "--api-port", key: "apiPort", canonical: "--http-port", canonicalKey: "httpPort" },
  { flag: "--http-address", key: "httpAddress", canonical: "--http-host", canonicalKey: "httpHost" },
  { flag: "--api-host", key: "apiHost", canonical: "--http-host", canonicalKey: "httpHost" },
  { flag: "--aggregator", key: "aggregator", canonical: "--is-aggregator", canonicalKey: "isAggregator" },
  { flag: "--listen-addr", key: "listenAddr", canonical: "--listen", canonicalKey: "listen" },
];

/**
 * Moves every alias's value onto its canonical option. Two spellings of one option with different
 * values is an error, not a silent pick; `isDefault(key)` says a canonical value is only its default.
 */
export function applyQuickstartAliases<T extends Record<string, unknown>>(
  opts: T,
  isDefault: (key: string) => boolean,
): T {
  const out: Record<string, unknown> = { ...opts };
  const setBy = new Map<string, string>();
  for (const a of QUICKSTART_ALIASES) {
    const value = out[a.key];
    delete out[a.key];
    if (value === undefined) continue;
    const current = out[a.canonicalKey];
    const explicit = current !== undefined && (setBy.has(a.canonicalKey) || !isDefault(a.canonicalKey));
    if (explicit && current !== value) {
      const other = setBy.get(a.canonicalKey) ?? a.canonical;
      throw new Error(`${a.flag} ${String(value)} contradicts ${other} ${String(current)} (they are the same option)`);
    }
    out[a.canonicalKey] = value;
    setBy.set(a.canonicalKey, a.flag);
  }
  return out as T;
}

/** `metronome node`'s parsed options with the aliases applied and --genesis (or an alias) required. */
export function nodeOptionsWithAliases<T extends Record<string, unknown>>(
  opts: T,
  isDefault: (key: string) => boolean,
): T {
  const out = applyQuickstartAliases(opts, isDefault);
  if (out.genesis === undefined) {
    throw new Error(
      "required option '--genesis <dir>' not specified (lean-quickstart: --custom-genesis or --genesis-dir)",
    );
  }
  return out;
}

/**
 * `--node-id`: Metronome's integer id, or lean-quickstart's node name ending in `_<id>`
 * (`metronome_0`, `zeam_3`), whose number is the entry in nodes.json.
 */
export function nodeIdArg(value: string): number {
  const m = /^(?:[A-Za-z][\w-]*_)?(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a node id like 0 or a node name like metronome_0, got "${value}"`);
  const id = Number(m[1]);
  if (!Number.isSafeInteger(id)) throw new InvalidArgumentError(`node id out of range: "${value}"`);
  return id;
}
