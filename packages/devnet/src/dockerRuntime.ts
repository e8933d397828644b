// `metronome devnet --runtime docker`: fresh genesis, a compose project of the metronome image
// (composeProject.ts) started with docker compose, the same status table and summary as the process
// devnet, and on stop: container logs saved, Prometheus targets checked, `compose down`.
import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { buildComposeProject, IMAGE_UID } from "./composeProject.ts";
import { runGenesis } from "./genesisCommand.ts";
import { fetchHeaderRootPatiently, fetchHealth, stopRequested } from "./health.ts";
import { renderStatusTable } from "./statusTable.ts";
import { defaultCommitteeCount } from "./subnets.ts";
import { rootsVerdict, summarize } from "./summary.ts";

const POLL_MS = 1000;
/** How long `compose up` may take (containers start in a few seconds; image pulls cannot happen). */
const COMPOSE_UP_TIMEOUT_MS = 120_000;
const HTTP_TIMEOUT_MS = 2000;

interface Compose {
  argv: string[];
}

function sh(file: string, args: string[], timeout = COMPOSE_UP_TIMEOUT_MS) {
  const r = spawnSync(file, args, { encoding: "utf8", timeout });
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim(), error: r.error?.message };
}

/** `docker compose` (v2 plugin) when present, else the standalone `docker-compose`. */
export function findCompose(): Compose {
  if (sh("docker", ["compose", "version"]).ok) return { argv: ["docker", "compose"] };
  if (sh("docker-compose", ["version"]).ok) return { argv: ["docker-compose"] };
  throw new Error("--runtime docker needs `docker compose` or `docker-compose` (apt-get install docker-compose)");
}

function compose(c: Compose, project: string, file: string, args: string[]) {
  const [bin, ...pre] = c.argv;
  return sh(bin as string, [...pre, "-p", project, "-f", file, ...args]);
}

export interface PrometheusTargets {
  up: number;
  total: number;
}

async function prometheusTargets(port: number): Promise<PrometheusTargets | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/targets`, {
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    if (!res.ok) return null;
    const body = (await res.json()) as { data?: { activeTargets?: { health?: string }[] } };
    const targets = body.data?.activeTargets ?? [];
    return { up: targets.filter((t) => t.health === "up").length, total: targets.length };
  } catch {
    return null;
  }
}

/** The devnet command's options this runtime reads. */
export interface DockerDevnetOptions {
  nodes: number;
  validators: number;
  slotSeconds: number;
  genesisDelay: number;
  duration?: number;
  out: string;
  basePort: number;
  baseHttpPort: number;
  baseMetricsPort: number;
  aggregators: number;
  committeeCount?: number;
  quiet?: boolean;
  logLevel: string;
  prometheusPort?: number;
  image?: string;
  prometheusImage?: string;
}

export async function runDockerDevnet(o: DockerDevnetOptions): Promise<number> {
  const image = o.image ?? "metronome:local";
  const prometheusPort = o.prometheusPort ?? 0;
  const c = findCompose();
  for (const tag of prometheusPort > 0 ? [image, o.prometheusImage ?? "metronome/prometheus:local"] : [image]) {
    if (!sh("docker", ["image", "inspect", tag]).ok) {
      throw new Error(`--runtime docker: image ${tag} is missing; build it with deploy/docker/build-image.sh (root)`);
    }
  }
  const outDir = resolve(o.out);
  rmSync(outDir, { recursive: true, force: true });
  const genesisDir = join(outDir, "genesis");
  const { chain, nodes } = await runGenesis({
    validators: o.validators,
    nodes: o.nodes,
    out: genesisDir,
    genesisDelay: o.genesisDelay,
    slotSeconds: o.slotSeconds,
    basePort: o.basePort,
    baseHttpPort: o.baseHttpPort,
    baseMetricsPort: o.baseMetricsPort,
    aggregators: o.aggregators,
    committeeCount: o.committeeCount ?? defaultCommitteeCount(o.nodes, undefined),
    host: "127.0.0.1",
  });
  const dataDirOf = (id: number) => join(outDir, `node-${id}`, "data");
  for (const n of nodes) mkdirSync(dataDirOf(n.nodeId), { recursive: true });
  // As root, hand the bind mounts to the image's own user; otherwise run the containers as the
  // caller, who owns them already.
  const uid = process.getuid?.() ?? 0;
  let user: string | undefined;
  if (uid === 0) {
    for (const n of nodes) chownSync(dataDirOf(n.nodeId), IMAGE_UID, IMAGE_UID);
    for (const key of readdirSync(join(genesisDir, "keys")))
      chownSync(join(genesisDir, "keys", key), IMAGE_UID, IMAGE_UID);
  } else {
    user = `${uid}:${process.getgid?.() ?? uid}`;
  }
  const project = `metronome-devnet-${o.basePort}`;
  const prometheusConfig = join(outDir, "prometheus.yml");
  const { composeYaml, prometheusYaml } = buildComposeProject({
    project,
    image,
    nodes,
    genesisDir,
    dataDirOf,
    logLevel: o.logLevel,
    user,
    prometheus:
      prometheusPort > 0
        ? {
            image: o.prometheusImage ?? "metronome/prometheus:local",
            port: prometheusPort,
            configPath: prometheusConfig,
          }
        : null,
  });
  const composeFile = join(outDir, "compose.yaml");
  writeFileSync(composeFile, composeYaml);
  if (prometheusYaml) writeFileSync(prometheusConfig, prometheusYaml);

  // A killed earlier run of the same project leaves containers behind: remove them first.
  compose(c, project, composeFile, ["down", "--volumes", "--remove-orphans"]);
  const up = compose(c, project, composeFile, ["up", "-d"]);
  if (!up.ok) {
    compose(c, project, composeFile, ["down", "--volumes", "--remove-orphans"]);
    throw new Error(`--runtime docker: compose up failed: ${up.error ?? up.out}`);
  }
  console.log(
    `devnet (docker): project ${project}, ${o.nodes} nodes of ${image}, genesis in ${o.genesisDelay}s (fork ${chain.forkDigest})` +
      (prometheusPort > 0 ? `, Prometheus http://127.0.0.1:${prometheusPort}` : "") +
      `; compose file ${composeFile}`,
  );

  const healthOf = (i: number) => {
    const n = nodes[i];
    return n ? fetchHealth(`http://127.0.0.1:${n.httpPort}/lean/v0/health`) : Promise.resolve(null);
  };
  const pollAll = () => Promise.all(nodes.map((_, i) => healthOf(i)));

  let stopping = false;
  const stopped = stopRequested({ message: "\ndevnet (docker): stopping...", durationS: o.duration }).then(() => {
    stopping = true;
  });
  let lastSlot = -1;
  const poller = setInterval(async () => {
    if (stopping || o.quiet) return;
    const healths = await pollAll();
    const slot = Math.max(...healths.map((h) => h?.current_slot ?? -1));
    if (slot === lastSlot) return;
    lastSlot = slot;
    console.log(`${renderStatusTable(nodes.map((n, i) => ({ nodeId: n.nodeId, health: healths[i] ?? null })))}\n`);
  }, POLL_MS);

  try {
    await stopped;
  } finally {
    clearInterval(poller);
  }
  const finalHealth = await pollAll();
  const summary = await summarize(
    finalHealth,
    nodes.map((n) => n.nodeId),
    async (index, slot) => {
      const n = nodes[index];
      return n ? fetchHeaderRootPatiently(`http://127.0.0.1:${n.httpPort}`, slot) : null;
    },
  );
  const targets = prometheusPort > 0 ? await prometheusTargets(prometheusPort) : null;
  const containerStates = compose(c, project, composeFile, ["ps"]).out;
  // The image's HEALTHCHECK verdict per node, as docker saw it at the end of the run.
  const dockerHealth = nodes.map(
    (n) => sh("docker", ["inspect", "--format", "{{.State.Health.Status}}", `${project}-node-${n.nodeId}`]).out,
  );
  // Container logs are gone after `down`: keep them beside the data dirs.
  for (const n of nodes) {
    const logs = sh("docker", ["logs", `${project}-node-${n.nodeId}`]);
    writeFileSync(join(outDir, `node-${n.nodeId}`, "node.log"), `${logs.out}\n`);
  }
  const down = compose(c, project, composeFile, ["down", "--volumes", "--remove-orphans", "--timeout", "15"]);
  const left = sh("docker", ["ps", "-a", "--filter", `name=${project}-`, "--format", "{{.Names}}"]).out;

  const result = {
    ...summary,
    runtime: "docker",
    image,
    prometheus_targets: targets,
    docker_health: dockerHealth,
    containers_left: left ? left.split("\n") : [],
  };
  await writeFile(join(outDir, "summary.json"), `${JSON.stringify(result, null, 2)}\n`);
  console.log(containerStates);
  console.log(renderStatusTable(nodes.map((n, i) => ({ nodeId: n.nodeId, health: finalHealth[i] ?? null }))));
  console.log(
    `devnet (docker): finality ${summary.finality_advanced ? "advanced" : "DID NOT ADVANCE"}, finalized roots ${rootsVerdict(summary)}` +
      (targets ? `, Prometheus targets up ${targets.up}/${targets.total}` : "") +
      `, docker health ${dockerHealth.join(" ")}` +
      `, compose down ${down.ok ? "ok" : `FAILED: ${down.out}`}, containers left: ${result.containers_left.length}; summary in ${join(outDir, "summary.json")}`,
  );
  for (const note of summary.notes) console.log(`devnet (docker): ${note}`);
  const targetsOk =
    prometheusPort === 0 || (targets !== null && targets.total === nodes.length && targets.up === targets.total);
  return o.duration !== undefined && !(summary.ok && targetsOk && down.ok && result.containers_left.length === 0)
    ? 1
    : 0;
}
