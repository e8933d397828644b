// The compose writer behind `metronome devnet --runtime docker`: every node a service of the image
// on host networking with its own data dir and the genesis read-only, flags the CLI accepts, and a
// Prometheus config with one target per node.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeEntry } from "@metronome/common";
import { buildComposeProject, type ComposeInput, toYaml } from "@metronome/devnet";
import { buildCli } from "../../src/cli/index.ts";

const entries: NodeEntry[] = [0, 1, 2].map((nodeId) => ({
  nodeId,
  validatorIndices: [nodeId],
  isAggregator: nodeId === 0,
  peerId: `peer${nodeId}`,
  listen: `/ip4/127.0.0.1/tcp/${21000 + nodeId}`,
  httpPort: 25000 + nodeId,
  metricsPort: 29000 + nodeId,
}));

function input(over: Partial<ComposeInput> = {}): ComposeInput {
  return {
    project: "metronome-devnet-21000",
    image: "metronome:local",
    nodes: entries,
    genesisDir: "/tmp/dn/genesis",
    dataDirOf: (id) => `/tmp/dn/node-${id}/data`,
    logLevel: "info",
    prometheus: { image: "metronome/prometheus:local", port: 19090, configPath: "/tmp/dn/prometheus.yml" },
    ...over,
  };
}

describe("compose project", () => {
  it("one host-networked service per node, own data dir, genesis read-only, health port for the HEALTHCHECK", () => {
    const { document } = buildComposeProject(input());
    for (const e of entries) {
      const s = document.services[`node-${e.nodeId}`];
      assert.ok(s, `no service for node ${e.nodeId}`);
      assert.equal(s.image, "metronome:local");
      assert.equal(s.network_mode, "host");
      assert.equal(s.container_name, `metronome-devnet-21000-node-${e.nodeId}`);
      assert.deepEqual(s.volumes, [`/tmp/dn/genesis:/genesis:ro`, `/tmp/dn/node-${e.nodeId}/data:/data`]);
      assert.deepEqual(s.environment, { METRONOME_HTTP_HOST: "127.0.0.1", METRONOME_HTTP_PORT: String(e.httpPort) });
      assert.equal(s.user, undefined, "root callers run the image's own non-root user");
    }
    assert.equal(Object.keys(document.services).length, entries.length + 1);
  });

  it("node commands are flags `metronome node` accepts, with this node's id", () => {
    const { document } = buildComposeProject(input());
    for (const e of entries) {
      const command = document.services[`node-${e.nodeId}`]?.command as string[];
      const cli = buildCli().exitOverride();
      const parsed: { opts?: Record<string, unknown> } = {};
      cli.commands
        .find((c) => c.name() === "node")
        ?.action((opts) => {
          parsed.opts = opts;
        });
      cli.parse(["node", "metronome", ...command]);
      const seen = parsed.opts;
      assert.deepEqual(
        { nodeId: seen?.nodeId, genesis: seen?.genesis, dataDir: seen?.dataDir, httpHost: seen?.httpHost },
        { nodeId: e.nodeId, genesis: "/genesis", dataDir: "/data", httpHost: "127.0.0.1" },
      );
    }
  });

  it("Prometheus scrapes every node's metrics port and listens where it is told", () => {
    const { document, prometheusYaml } = buildComposeProject(input());
    const prom = document.services.prometheus;
    assert.ok(prom);
    assert.equal(prom.network_mode, "host");
    assert.ok((prom.command as string[]).includes("--web.listen-address=127.0.0.1:19090"));
    assert.deepEqual(prom.volumes, ["/tmp/dn/prometheus.yml:/etc/prometheus/prometheus.yml:ro"]);
    assert.ok(prometheusYaml);
    for (const e of entries) {
      assert.ok(prometheusYaml.includes(`- "127.0.0.1:${e.metricsPort}"`), `no target for node ${e.nodeId}`);
      assert.ok(prometheusYaml.includes(`node: "metronome_${e.nodeId}"`));
    }
    assert.equal(prometheusYaml.match(/- targets:/g)?.length, entries.length);
  });

  it("no Prometheus service when disabled; a non-root caller's uid runs the containers", () => {
    const { document, prometheusYaml } = buildComposeProject(input({ prometheus: null, user: "1000:1000" }));
    assert.equal(document.services.prometheus, undefined);
    assert.equal(prometheusYaml, null);
    assert.equal(document.services["node-0"]?.user, "1000:1000");
  });

  it("renders block YAML with quoted scalars", () => {
    assert.equal(
      toYaml({ a: { b: ["x", 1], c: true, d: [{ e: "f", g: "h" }], n: [] } }),
      '\na:\n  b:\n    - "x"\n    - 1\n  c: true\n  d:\n    - e: "f"\n      g: "h"\n  n: []',
    );
    assert.throws(() => buildComposeProject(input({ nodes: [] })), /no nodes/);
  });
});
