// A devnet for a benchmark: a fresh genesis in a temp folder on random loopback ports (a band per
// kind, so two benchmarks rarely collide), and a launcher for its node processes (not started).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeEntry } from "../../packages/common/src/genesisConfig.ts";
import { runGenesis } from "../../packages/devnet/src/genesisCommand.ts";
import { Devnet } from "../../packages/devnet/src/launcher.ts";
import { defaultCommitteeCount } from "../../packages/devnet/src/subnets.ts";

/** Random base ports in [PORT_FLOOR, PORT_FLOOR + PORT_SPAN); HTTP and metrics sit 100 and 200 above. */
const PORT_FLOOR = 30_000;
const PORT_SPAN = 20_000;

export interface BenchDevnetOptions {
  /** Part of the temp folder's name. */
  name: string;
  nodes: number;
  validators: number;
  slotSeconds: number;
  genesisDelay: number;
}

export interface BenchDevnet {
  out: string;
  /** Attestation subnets: what `metronome devnet` would choose for this many nodes. */
  committeeCount: number;
  genesisDir: string;
  nodes: NodeEntry[];
  devnet: Devnet;
}

export async function createBenchDevnet(o: BenchDevnetOptions): Promise<BenchDevnet> {
  const base = PORT_FLOOR + Math.floor(Math.random() * PORT_SPAN);
  const out = await mkdtemp(join(tmpdir(), `metronome-${o.name}-`));
  const genesisDir = join(out, "genesis");
  const { nodes, chain } = await runGenesis({
    validators: o.validators,
    nodes: o.nodes,
    out: genesisDir,
    genesisDelay: o.genesisDelay,
    slotSeconds: o.slotSeconds,
    basePort: base,
    baseHttpPort: base + 100,
    baseMetricsPort: base + 200,
    aggregators: 1,
    committeeCount: defaultCommitteeCount(o.nodes, undefined),
    host: "127.0.0.1",
  });
  const devnet = new Devnet(nodes, { genesisDir, outDir: out, logLevel: "warn" });
  return { out, committeeCount: chain.attestationCommitteeCount, genesisDir, nodes, devnet };
}
