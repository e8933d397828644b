import assert from "node:assert/strict";
import { request } from "node:http";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { createMetrics, type MetricsSource, startMetricsServer } from "@metronome/metrics";

interface Reply {
  status: number;
  contentType: string | undefined;
  body: string;
}

function fetchLocal(port: number, path: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"], body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("startMetricsServer", () => {
  it("serves GET /metrics with 200 and the registry's content type, and 404 elsewhere", async () => {
    const m = createMetrics({ processMetrics: false });
    m.forkChoice.headSlot.set(12);
    const server = await startMetricsServer({ port: 0, registry: m.registry });
    try {
      assert.ok(server.port > 0, "port 0 picks a real port");
      const ok = await fetchLocal(server.port, "/metrics");
      assert.equal(ok.status, 200);
      assert.equal(ok.contentType, m.registry.contentType);
      assert.match(ok.body, /^# TYPE lean_head_slot gauge$/m);
      assert.match(ok.body, /^lean_head_slot 12$/m);
      assert.equal((await fetchLocal(server.port, "/metrics?x=1")).status, 200);
      for (const path of ["/", "/metric", "/metrics/extra", "/health"]) {
        assert.equal((await fetchLocal(server.port, path)).status, 404, path);
      }
      assert.equal((await fetchLocal(server.port, "/metrics", "POST")).status, 404, "POST /metrics");
    } finally {
      await server.close();
      m.close();
    }
  });

  it("answers 500 when collection fails, and keeps serving", async () => {
    let fail = true;
    const flaky: MetricsSource = {
      contentType: "text/plain; version=0.0.4; charset=utf-8",
      metrics: async () => {
        if (fail) throw new Error("collector exploded");
        return "# TYPE up gauge\nup 1\n";
      },
    };
    const server = await startMetricsServer({ port: 0, registry: flaky });
    try {
      const bad = await fetchLocal(server.port, "/metrics");
      assert.equal(bad.status, 500);
      assert.match(bad.body, /collector exploded/);
      fail = false;
      const good = await fetchLocal(server.port, "/metrics");
      assert.equal(good.status, 200);
      assert.equal(good.body, "# TYPE up gauge\nup 1\n");
    } finally {
      await server.close();
    }
  });

  it("answers 500 for a registry that throws synchronously", async () => {
    const throwing: MetricsSource = {
      contentType: "text/plain",
      metrics: () => {
        throw new Error("sync failure");
      },
    };
    const server = await startMetricsServer({ port: 0, registry: throwing });
    try {
      assert.equal((await fetchLocal(server.port, "/metrics")).status, 500);
    } finally {
      await server.close();
    }
  });

  it("closes cleanly: the port is released, close() twice is fine", async () => {
    const m = createMetrics({ processMetrics: false });
    const server = await startMetricsServer({ port: 0, host: "127.0.0.1", registry: m.registry });
    const port = server.port;
    await fetchLocal(port, "/metrics");
    await server.close();
    await server.close();
    m.close();
    await assert.rejects(fetchLocal(port, "/metrics"), /ECONNREFUSED/);
    // The port can be bound again at once.
    const again = await startMetricsServer({ port, registry: m.registry });
    assert.equal(again.port, port);
    await again.close();
  });

  it("rejects when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const address = blocker.address();
    assert.ok(address && typeof address === "object");
    const m = createMetrics({ processMetrics: false });
    try {
      await assert.rejects(startMetricsServer({ port: address.port, registry: m.registry }), /EADDRINUSE/);
    } finally {
      m.close();
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
