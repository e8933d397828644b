// Genesis options for tests that write a genesis folder and never start its nodes: ports far from
// anything a test binds, a genesis a minute away, 1 s slots.
import type { GenesisOptions } from "../src/genesisCommand.ts";

export function unstartedGenesisOptions(
  out: string,
  shape: Pick<GenesisOptions, "validators" | "nodes"> & Partial<GenesisOptions>,
): GenesisOptions {
  return {
    genesisDelay: 60,
    slotSeconds: 1,
    basePort: 21_000,
    baseHttpPort: 25_000,
    baseMetricsPort: 29_000,
    aggregators: 1,
    host: "127.0.0.1",
    out,
    ...shape,
  };
}
