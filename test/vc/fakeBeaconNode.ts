// A beacon node for the validator-client unit tests: the real validator routes over a real
// fork-choice store (4 interop validators), with publishes recorded, plus a server that accepts
// connections and never answers.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ValidatorBackend, validatorRoutesPlugin } from "../../packages/node/src/api/validatorRoutes.ts";
import {
  emptyPublishedCounts,
  makeChain,
  type PublishedCounts,
  recordingValidatorBackend,
  type TestChain,
} from "../../packages/node/test/api/chainFixture.ts";
import { startTestServer, type TestServer } from "../../packages/node/test/api/helpers.ts";

export interface FakeBeaconNode {
  url: string;
  chain: TestChain;
  published: PublishedCounts;
  server: TestServer;
  close(): Promise<void>;
}

export async function startFakeBeaconNode(chain: TestChain = makeChain()): Promise<FakeBeaconNode> {
  const published = emptyPublishedCounts();
  const backend: ValidatorBackend = {
    ...recordingValidatorBackend(chain, published),
    attestationSubnetCount: () => 1,
  };
  const server = await startTestServer([validatorRoutesPlugin(backend)]);
  return { url: server.base, chain, published, server, close: () => server.close() };
}

/** Accepts TCP connections and HTTP requests, never answers. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL nothing listens on (the port was bound and released). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
