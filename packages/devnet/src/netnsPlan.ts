// `metronome devnet --netns`: the network a run builds so each node sits on its own address, as on
// separate hosts. Pure: the commands to create it, the commands to remove it, and the commands that
// remove a killed run's leftovers. netnsRuntime.ts runs them.
//
// Layout: one bridge with the host-side address .1 of a private /24; per node a namespace, a veth
// pair (host end enslaved to the bridge, namespace end renamed eth0) and the address .(10+k).
// Nothing is routed off the bridge: nodes reach each other over it, the host reaches them through
// its bridge address, and no traffic leaves the machine.

/** Every name this module creates starts with it, so leftovers are found by name alone. */
export const NETNS_PREFIX = "mtn";
/** The run's bridge; one --netns devnet at a time owns it (the lock file says which process). */
export const NETNS_BRIDGE = `${NETNS_PREFIX}-br0`;
/** Private range used only on that bridge (RFC 1918, chosen away from docker's 172.17/16). */
export const NETNS_SUBNET = "10.99.0";
export const NETNS_PREFIX_LEN = 24;
/** Host k gets .(FIRST_HOST + k); .1 is the bridge (the host's side). */
export const NETNS_FIRST_HOST = 10;
/** Node count the /24 has room for after the host offset. */
export const NETNS_MAX_NODES = 254 - NETNS_FIRST_HOST;
/** Docker's br_netfilter makes bridged frames cross iptables FORWARD (policy DROP): this rule lets
 * our bridge's own traffic through; its comment is how teardown and stale cleanup find it. */
export const NETNS_IPTABLES_COMMENT = "metronome-netns";

export interface NetnsNode {
  nodeId: number;
  namespace: string;
  hostVeth: string;
  peerVeth: string;
  address: string;
}

export interface NetnsPlan {
  bridge: string;
  bridgeAddress: string;
  nodes: NetnsNode[];
  /** Run in order; the first failure aborts and the teardown list runs. */
  setup: string[][];
  /** Run in order, every command even if one fails (each removes one thing that may be absent). */
  teardown: string[][];
}

export function namespaceOf(nodeId: number): string {
  return `${NETNS_PREFIX}-n${nodeId}`;
}

export function addressOf(nodeId: number): string {
  return `${NETNS_SUBNET}.${NETNS_FIRST_HOST + nodeId}`;
}

const forwardRule = (bridge: string): string[] => [
  "FORWARD",
  "-i",
  bridge,
  "-o",
  bridge,
  "-m",
  "comment",
  "--comment",
  NETNS_IPTABLES_COMMENT,
  "-j",
  "ACCEPT",
];

export function planNetns(nodeIds: number[], opts: { iptables: boolean }): NetnsPlan {
  if (nodeIds.length === 0) throw new Error("--netns: no nodes to place");
  for (const id of nodeIds) {
    if (!Number.isInteger(id) || id < 0 || id >= NETNS_MAX_NODES) {
      throw new Error(
        `--netns: node id ${id} does not fit ${NETNS_SUBNET}.0/${NETNS_PREFIX_LEN} (max ${NETNS_MAX_NODES - 1})`,
      );
    }
  }
  const bridge = NETNS_BRIDGE;
  const bridgeAddress = `${NETNS_SUBNET}.1`;
  const nodes = nodeIds.map((nodeId) => ({
    nodeId,
    namespace: namespaceOf(nodeId),
    hostVeth: `${NETNS_PREFIX}-v${nodeId}`,
    peerVeth: `${NETNS_PREFIX}-p${nodeId}`,
    address: addressOf(nodeId),
  }));
  const setup: string[][] = [
    ["ip", "link", "add", bridge, "type", "bridge"],
    ["ip", "addr", "add", `${bridgeAddress}/${NETNS_PREFIX_LEN}`, "dev", bridge],
    ["ip", "link", "set", bridge, "up"],
  ];
  if (opts.iptables) setup.push(["iptables", "-I", ...forwardRule(bridge)]);
  for (const n of nodes) {
    setup.push(
      ["ip", "netns", "add", n.namespace],
      ["ip", "link", "add", n.hostVeth, "type", "veth", "peer", "name", n.peerVeth],
      ["ip", "link", "set", n.peerVeth, "netns", n.namespace],
      ["ip", "-n", n.namespace, "link", "set", n.peerVeth, "name", "eth0"],
      ["ip", "-n", n.namespace, "addr", "add", `${n.address}/${NETNS_PREFIX_LEN}`, "dev", "eth0"],
      ["ip", "-n", n.namespace, "link", "set", "eth0", "up"],
      ["ip", "-n", n.namespace, "link", "set", "lo", "up"],
      ["ip", "link", "set", n.hostVeth, "master", bridge],
      ["ip", "link", "set", n.hostVeth, "up"],
    );
  }
  return { bridge, bridgeAddress, nodes, setup, teardown: teardownCommands(nodes, bridge, opts.iptables) };
}

function teardownCommands(nodes: NetnsNode[], bridge: string, iptables: boolean): string[][] {
  const out: string[][] = [];
  // Deleting a namespace destroys its veth end and with it the host end; the explicit link delete
  // covers a pair whose peer never made it into the namespace.
  for (const n of nodes) out.push(["ip", "netns", "delete", n.namespace], ["ip", "link", "delete", n.hostVeth]);
  // The bridge takes its address with it.
  out.push(["ip", "link", "delete", bridge]);
  if (iptables) out.push(["iptables", "-D", ...forwardRule(bridge)]);
  return out;
}

/** What is left of earlier runs, as listed by `ip netns list`, `ip -o link show` and `iptables -S FORWARD`. */
export interface NetnsInventory {
  namespacesOutput: string;
  linksOutput: string;
  forwardRulesOutput: string | null;
}

/** Commands that remove every leftover carrying our prefix (a run killed with SIGKILL leaves some). */
export function staleCleanup(inv: NetnsInventory): string[][] {
  const out: string[][] = [];
  for (const ns of parseNamespaces(inv.namespacesOutput)) out.push(["ip", "netns", "delete", ns]);
  const links = parseLinks(inv.linksOutput);
  // Veths first, the bridge last (deleting a veth end removes its peer: ignore the second failure).
  for (const link of links.filter((l) => l !== NETNS_BRIDGE)) out.push(["ip", "link", "delete", link]);
  if (links.includes(NETNS_BRIDGE)) out.push(["ip", "link", "delete", NETNS_BRIDGE]);
  for (const rule of parseForwardRules(inv.forwardRulesOutput ?? "")) out.push(["iptables", "-D", ...rule]);
  return out;
}

/** Our namespaces in `ip netns list` output ("name" or "name (id: 3)" per line). */
export function parseNamespaces(output: string): string[] {
  return output
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name.startsWith(`${NETNS_PREFIX}-`));
}

/** Our links in `ip -o link show` output ("3: mtn-v0@if2: <...>" per line; "@peer" stripped). */
export function parseLinks(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split("\n")) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line.trim());
    if (m?.[1]?.startsWith(`${NETNS_PREFIX}-`)) out.push(m[1]);
  }
  return out;
}

/** Our FORWARD rules in `iptables -S FORWARD` output, as argument lists for `iptables -D`. */
export function parseForwardRules(output: string): string[][] {
  const out: string[][] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("-A FORWARD ") || !line.includes(NETNS_IPTABLES_COMMENT)) continue;
    out.push(line.slice("-A ".length).trim().split(/\s+/));
  }
  return out;
}
