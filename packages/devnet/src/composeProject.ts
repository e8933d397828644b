// `metronome devnet --runtime docker`: the compose project for a devnet, as text. Pure: the node
// entries, paths and images in; compose.yaml and the Prometheus scrape config out.
//
// Every container uses host networking on loopback, so nodes keep the genesis' 127.0.0.1 ports and
// the host reaches them as it reaches the process devnet. Prometheus mirrors
// docs/prometheus/devnet-scrape.yml with one target per node. Grafana is not part of the project:
// it has no package in Debian's archive and no image registry is reachable (docs/operations.md).
import type { NodeEntry } from "@metronome/common";

/** The image's non-root user (Dockerfile `useradd --uid`); bind-mounted dirs are given to it. */
export const IMAGE_UID = 10001;
/** Where the node containers see the genesis folder (read-only) and their data dir. */
export const CONTAINER_GENESIS_DIR = "/genesis";
export const CONTAINER_DATA_DIR = "/data";
const CONTAINER_PROMETHEUS_CONFIG = "/etc/prometheus/prometheus.yml";
/** Same cadence as docs/prometheus/devnet-scrape.yml. */
const SCRAPE_INTERVAL = "5s";
const SCRAPE_TIMEOUT = "4s";
/** Docker's wait between SIGTERM and SIGKILL; a node flushes its database well within it. */
const STOP_GRACE = "15s";

export interface ComposeInput {
  /** Compose project name (containers are named <project>-node-<id>). */
  project: string;
  image: string;
  nodes: NodeEntry[];
  /** Host paths (absolute). */
  genesisDir: string;
  dataDirOf: (nodeId: number) => string;
  logLevel: string;
  /** Container user "uid:gid"; omitted: the image's own non-root user. */
  user?: string;
  /** null: no Prometheus service. */
  prometheus: { image: string; port: number; configPath: string } | null;
}

export interface ComposeProject {
  /** The compose document before rendering (what the tests inspect). */
  document: { services: Record<string, Record<string, Yaml>> };
  composeYaml: string;
  prometheusYaml: string | null;
}

export type Yaml = string | number | boolean | Yaml[] | { [key: string]: Yaml };

/** Block-style YAML; scalars are JSON strings, which YAML reads as double-quoted scalars. */
export function toYaml(value: Yaml, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return value.map((v) => `\n${indent}- ${listItem(v, `${indent}  `)}`).join("");
  }
  if (typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return entries.map(([k, v]) => `\n${indent}${k}:${isBlock(v) ? "" : " "}${toYaml(v, `${indent}  `)}`).join("");
  }
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function isBlock(v: Yaml): boolean {
  return typeof v === "object" && (Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0);
}

/** A list item's value: an object starts on the dash's line. */
function listItem(v: Yaml, indent: string): string {
  if (typeof v === "object" && !Array.isArray(v) && isBlock(v)) return toYaml(v, indent).replace(/^\n\s*/, "");
  return toYaml(v, indent);
}

export function nodeService(input: ComposeInput, entry: NodeEntry): Record<string, Yaml> {
  const service: Record<string, Yaml> = {
    image: input.image,
    container_name: `${input.project}-node-${entry.nodeId}`,
    network_mode: "host",
    init: true,
    restart: "no",
    stop_grace_period: STOP_GRACE,
    environment: {
      // Read by the image's HEALTHCHECK.
      METRONOME_HTTP_HOST: "127.0.0.1",
      METRONOME_HTTP_PORT: String(entry.httpPort),
    },
    volumes: [
      `${input.genesisDir}:${CONTAINER_GENESIS_DIR}:ro`,
      `${input.dataDirOf(entry.nodeId)}:${CONTAINER_DATA_DIR}`,
    ],
    command: [
      "node",
      "--genesis",
      CONTAINER_GENESIS_DIR,
      "--node-id",
      String(entry.nodeId),
      "--data-dir",
      CONTAINER_DATA_DIR,
      "--http-host",
      "127.0.0.1",
      "--log-level",
      input.logLevel,
    ],
  };
  if (input.user) service.user = input.user;
  return service;
}

export function prometheusScrapeConfig(nodes: NodeEntry[]): string {
  const config: Yaml = {
    global: { scrape_interval: SCRAPE_INTERVAL, scrape_timeout: SCRAPE_TIMEOUT, evaluation_interval: SCRAPE_INTERVAL },
    scrape_configs: [
      {
        job_name: "metronome",
        metrics_path: "/metrics",
        scheme: "http",
        static_configs: nodes.map((n) => ({
          targets: [`127.0.0.1:${n.metricsPort}`],
          labels: { node: `metronome_${n.nodeId}`, network: "devnet" },
        })),
      },
    ],
  };
  return `# Written by \`metronome devnet --runtime docker\`; same shape as docs/prometheus/devnet-scrape.yml.${toYaml(config)}\n`;
}

export function buildComposeProject(input: ComposeInput): ComposeProject {
  if (input.nodes.length === 0) throw new Error("compose project: no nodes");
  const services: Record<string, Record<string, Yaml>> = {};
  for (const entry of input.nodes) services[`node-${entry.nodeId}`] = nodeService(input, entry);
  if (input.prometheus) {
    services.prometheus = {
      image: input.prometheus.image,
      container_name: `${input.project}-prometheus`,
      network_mode: "host",
      restart: "no",
      volumes: [`${input.prometheus.configPath}:${CONTAINER_PROMETHEUS_CONFIG}:ro`],
      command: [
        `--config.file=${CONTAINER_PROMETHEUS_CONFIG}`,
        "--storage.tsdb.path=/var/lib/prometheus/metrics2",
        `--web.listen-address=127.0.0.1:${input.prometheus.port}`,
      ],
    };
  }
  const header = [
    `# Metronome devnet "${input.project}", written by \`metronome devnet --runtime docker\`.`,
    "# Host networking on loopback; node data dirs are bind mounts under the devnet's --out folder.",
    "# Grafana is not included: no package in Debian and no reachable image registry (docs/operations.md).",
  ].join("\n");
  return {
    document: { services },
    composeYaml: `${header}${toYaml({ services })}\n`,
    prometheusYaml: input.prometheus ? prometheusScrapeConfig(input.nodes) : null,
  };
}
