// A devnet for a benchmark: a fresh genesis in a temp folder on random loopback ports (a band per
// kind, so two benchmarks rarely collide), and a launcher for its node processes (not started).
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeEntry } from "../../packages/common/src/genesisConfig.ts";
import { runGenesis } from "../../packages/devnet/src/genesisCommand.ts";
import { Devnet, type LaunchOptions } from "../../packages/devnet/src/launcher.ts";
import { validateDevnetPorts } from "../../packages/devnet/src/ports.ts";
import { defaultCommitteeCount } from "../../packages/devnet/src/subnets.ts";

/**
 * Random base ports in [PORT_FLOOR, PORT_FLOOR + PORT_SPAN); HTTP and metrics sit 100 and 200
 * above. All below the tests' bands (test/helpers/devnet.ts, from 20000) and Linux's ephemeral
 * range (32768+): a 16-node devnet's own outgoing connections once took a later node's libp2p port
 * there (EADDRINUSE, the node never started).
 */
const PORT_FLOOR = 10_000;
const PORT_SPAN = 9_000;
/** Draws until the bases give no port fetch refuses (10080 is on its list). */
const PORT_DRAWS = 20;

export interface BenchDevnetOptions {
  /** Part of the temp folder's name. */
  name: string;
  nodes: number;
  validators: number;
  slotSeconds: number;
  genesisDelay: number;
  /** Rewrites a node's command line (the flood bench's `--nice-others`). */
  wrapCommand?: LaunchOptions["wrapCommand"];
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
  const base = drawBasePort(o.nodes);
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
  const devnet = new Devnet(nodes, { genesisDir, outDir: out, logLevel: "warn", wrapCommand: o.wrapCommand });
  return { out, committeeCount: chain.attestationCommitteeCount, genesisDir, nodes, devnet };
}

function drawBasePort(nodes: number): number {
  for (let draw = 1; ; draw++) {
    const base = PORT_FLOOR + Math.floor(Math.random() * PORT_SPAN);
    try {
      validateDevnetPorts({ nodes, basePort: base, baseHttpPort: base + 100, baseMetricsPort: base + 200 });
      return base;
    } catch (err) {
      if (draw >= PORT_DRAWS) throw err;
    }
  }
}
