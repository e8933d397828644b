// Starting and tearing down real hosts on loopback for the integration tests.
import { NetworkHost, type NetworkHostOptions } from "../src/host/networkHost.ts";
import { TEST_FORK_DIGEST } from "./fixtures.ts";

export class HostPool {
  private readonly hosts = new Set<NetworkHost>();

  async start(options: Partial<NetworkHostOptions> = {}): Promise<NetworkHost> {
    const host = new NetworkHost({
      forkDigest: TEST_FORK_DIGEST,
      listenAddresses: ["/ip4/127.0.0.1/tcp/0"],
      redial: { initialDelayMs: 100, maxDelayMs: 400 },
      reqResp: { timeoutMs: 2000 },
      ...options,
    });
    this.hosts.add(host);
    await host.start();
    return host;
  }

  async stop(host: NetworkHost): Promise<void> {
    this.hosts.delete(host);
    await host.stop();
  }

  async stopAll(): Promise<void> {
    const all = [...this.hosts];
    this.hosts.clear();
    await Promise.all(all.map((h) => h.stop()));
  }
}
