// The network `metronome devnet --netns` builds, as commands: one address per node on a private
// /24, every namespace and link it creates is in the teardown list, and leftovers of a killed run
// are found by name and removed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  NETNS_BRIDGE,
  parseForwardRules,
  parseLinks,
  parseNamespaces,
  planNetns,
  staleCleanup,
} from "../src/netnsPlan.ts";

const created = (setup: string[][], verb: string, kind: string) =>
  setup.filter((c) => c[0] === "ip" && c[1] === kind && c[2] === verb).map((c) => c[3]);

describe("netns plan", () => {
  const plan = planNetns([0, 1, 2, 3], { iptables: true });

  it("gives every node its own namespace and a distinct private address; the bridge holds .1", () => {
    assert.deepEqual(
      plan.nodes.map((n) => [n.namespace, n.address]),
      [
        ["mtn-n0", "10.99.0.10"],
        ["mtn-n1", "10.99.0.11"],
        ["mtn-n2", "10.99.0.12"],
        ["mtn-n3", "10.99.0.13"],
      ],
    );
    assert.equal(plan.bridgeAddress, "10.99.0.1");
    assert.deepEqual(plan.setup.slice(0, 3), [
      ["ip", "link", "add", "mtn-br0", "type", "bridge"],
      ["ip", "addr", "add", "10.99.0.1/24", "dev", "mtn-br0"],
      ["ip", "link", "set", "mtn-br0", "up"],
    ]);
    for (const n of plan.nodes) {
      assert.ok(
        plan.setup.some((c) => c.join(" ") === `ip -n ${n.namespace} addr add ${n.address}/24 dev eth0`),
        `no address for ${n.namespace}`,
      );
      assert.ok(plan.setup.some((c) => c.join(" ") === `ip link set ${n.hostVeth} master mtn-br0`));
    }
    // Every interface name fits IFNAMSIZ (15 characters).
    for (const c of plan.setup) for (const arg of c) if (arg.startsWith("mtn-")) assert.ok(arg.length <= 15, arg);
  });

  it("tears down everything it creates: namespaces, veths, the bridge and the FORWARD rule", () => {
    const namespaces = plan.setup.filter((c) => c[1] === "netns" && c[2] === "add").map((c) => c[3]);
    const links = created(plan.setup, "add", "link");
    const deletedNs = plan.teardown.filter((c) => c[1] === "netns" && c[2] === "delete").map((c) => c[3]);
    const deletedLinks = plan.teardown.filter((c) => c[1] === "link" && c[2] === "delete").map((c) => c[3]);
    assert.deepEqual(deletedNs.sort(), namespaces.sort());
    for (const link of links) assert.ok(deletedLinks.includes(link), `${link} is never deleted`);
    const insert = plan.setup.find((c) => c[0] === "iptables");
    const remove = plan.teardown.find((c) => c[0] === "iptables");
    assert.deepEqual(insert?.slice(2), remove?.slice(2));
    assert.deepEqual([insert?.[1], remove?.[1]], ["-I", "-D"]);
    // The bridge goes after every port on it.
    assert.deepEqual(plan.teardown.at(-2), ["ip", "link", "delete", NETNS_BRIDGE]);
  });

  it("adds no iptables rule where there is no iptables", () => {
    const p = planNetns([0], { iptables: false });
    assert.ok(![...p.setup, ...p.teardown].some((c) => c[0] === "iptables"));
  });

  it("refuses node ids the /24 cannot address", () => {
    assert.throws(() => planNetns([], { iptables: false }), /no nodes/);
    assert.throws(() => planNetns([244], { iptables: false }), /does not fit/);
    assert.equal(planNetns([243], { iptables: false }).nodes[0]?.address, "10.99.0.253");
  });

  it("finds a killed run's leftovers by name and nothing else", () => {
    const inv = {
      namespacesOutput: "mtn-n0 (id: 3)\nmtn-n1\nother-ns (id: 1)\n",
      linksOutput: [
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue",
        "3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500",
        "7: mtn-br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500",
        "8: mtn-v0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master mtn-br0",
      ].join("\n"),
      forwardRulesOutput: [
        "-P FORWARD DROP",
        "-A FORWARD -i mtn-br0 -o mtn-br0 -m comment --comment metronome-netns -j ACCEPT",
        "-A FORWARD -j DOCKER-USER",
      ].join("\n"),
    };
    assert.deepEqual(parseNamespaces(inv.namespacesOutput), ["mtn-n0", "mtn-n1"]);
    assert.deepEqual(parseLinks(inv.linksOutput), ["mtn-br0", "mtn-v0"]);
    assert.deepEqual(staleCleanup(inv), [
      ["ip", "netns", "delete", "mtn-n0"],
      ["ip", "netns", "delete", "mtn-n1"],
      ["ip", "link", "delete", "mtn-v0"],
      ["ip", "link", "delete", "mtn-br0"],
      [
        "iptables",
        "-D",
        "FORWARD",
        "-i",
        "mtn-br0",
        "-o",
        "mtn-br0",
        "-m",
        "comment",
        "--comment",
        "metronome-netns",
        "-j",
        "ACCEPT",
      ],
    ]);
    assert.deepEqual(parseForwardRules("-A FORWARD -j DOCKER-USER"), []);
    assert.deepEqual(staleCleanup({ namespacesOutput: "", linksOutput: "", forwardRulesOutput: null }), []);
  });
});
