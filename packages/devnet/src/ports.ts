// The ports a devnet's nodes use: node K listens on base+K for libp2p, HTTP and metrics. One plain
// formula an operator can compute, checked once at genesis: every port in range, none used twice,
// and no HTTP or metrics port on the fetch standard's blocked list (a node there would look dead to
// the launcher and the validator client). Pure: the launcher's "is it free" probe is in portProbe.ts.
import { blockedPortReason, isFetchBlockedPort } from "@metronome/common";

/**
 * Default bases. HTTP starts at 5100, not the Beacon-API's 5052: 5052+K reaches 5060/5061 (SIP,
 * blocked by fetch) at node 8, and 5062/5064 (the validator client's defaults) at nodes 10 and 12.
 * 5100..5163, 8008..8071 and 9000..9063 hold the largest devnet (64 nodes) with no blocked port.
 */
export const DEFAULT_BASE_P2P_PORT = 9000;
export const DEFAULT_BASE_HTTP_PORT = 5100;
export const DEFAULT_BASE_METRICS_PORT = 8008;

const MAX_PORT = 65_535;

export type PortKind = "p2p" | "http" | "metrics";

export interface AssignedPort {
  nodeId: number;
  kind: PortKind;
  port: number;
}

export interface PortBases {
  nodes: number;
  basePort: number;
  baseHttpPort: number;
  baseMetricsPort: number;
}

const KIND_LABEL: Record<PortKind, string> = { p2p: "libp2p", http: "HTTP API", metrics: "metrics" };
const KIND_FLAG: Record<PortKind, string> = {
  p2p: "--base-port",
  http: "--base-http-port",
  metrics: "--base-metrics-port",
};

export function describePort(p: AssignedPort): string {
  return `node ${p.nodeId} ${KIND_LABEL[p.kind]} port ${p.port}`;
}

/** Every port the nodes of a devnet listen on, node by node. */
export function devnetPorts(o: PortBases): AssignedPort[] {
  const out: AssignedPort[] = [];
  for (let nodeId = 0; nodeId < o.nodes; nodeId++) {
    out.push({ nodeId, kind: "p2p", port: o.basePort + nodeId });
    out.push({ nodeId, kind: "http", port: o.baseHttpPort + nodeId });
    out.push({ nodeId, kind: "metrics", port: o.baseMetricsPort + nodeId });
  }
  return out;
}

/**
 * Throws a message naming the node, the port and the flag to change when the bases give a port
 * above 65535, the same port twice, or an HTTP or metrics port fetch refuses.
 */
export function validateDevnetPorts(o: PortBases): void {
  const ports = devnetPorts(o);
  const tooHigh = ports.find((p) => p.port > MAX_PORT);
  if (tooHigh !== undefined) {
    throw new Error(`${KIND_FLAG[tooHigh.kind]} too high: ${describePort(tooHigh)} is above ${MAX_PORT}`);
  }
  const seen = new Map<number, AssignedPort>();
  for (const p of ports) {
    const other = seen.get(p.port);
    if (other !== undefined) {
      throw new Error(
        `port ranges overlap: ${describePort(other)} and ${describePort(p)}; move ${KIND_FLAG[p.kind]} or ${KIND_FLAG[other.kind]}`,
      );
    }
    seen.set(p.port, p);
  }
  // libp2p is not fetched, so only the HTTP servers matter.
  const blocked = ports.filter((p) => p.kind !== "p2p" && isFetchBlockedPort(p.port));
  const first = blocked[0];
  if (first !== undefined) {
    const base = first.kind === "http" ? o.baseHttpPort : o.baseMetricsPort;
    throw new Error(
      `${KIND_FLAG[first.kind]} ${base} puts ${describePort(first)} on a blocked port: ${blockedPortReason(first.port)}. ` +
        `Blocked in this range: ${blocked.map((p) => p.port).join(", ")}; choose a base whose ${o.nodes} ports avoid them`,
    );
  }
}
