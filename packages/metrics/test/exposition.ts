// A small parser of the Prometheus text format, enough for tests to read back what a registry
// exposes: families by name with their TYPE/HELP and every sample with its labels.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  type?: string;
  help?: string;
  readonly samples: Sample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = line.match(/^# (TYPE|HELP) (\S+) (.*)$/);
    if (meta) {
      if (meta[1] === "TYPE") family(meta[2]).type = meta[3];
      else family(meta[2]).help = meta[3];
      continue;
    }
    if (line.startsWith("#")) continue;
    const m = line.match(SAMPLE_LINE);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(LABEL_PAIR)) labels[pair[1]] = pair[2];
    const sample: Sample = { name: m[1], labels, value: parseValue(m[3]) };
    family(familyOf(m[1], families)).samples.push(sample);
  }
  return families;
}

/** A histogram's _bucket/_sum/_count samples belong to the family declared without the suffix. */
function familyOf(sampleName: string, families: Map<string, Family>): string {
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    if (families.get(base)?.type === "histogram") return base;
  }
  return sampleName;
}

function parseValue(s: string): number {
  if (s === "+Inf") return Number.POSITIVE_INFINITY;
  if (s === "-Inf") return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** Label set of a sample without the given label, as a stable key. */
export function seriesKey(labels: Readonly<Record<string, string>>, without = "le"): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== without)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}
