// A gossip peer in its own process, for tests that stop it (SIGSTOP) to make a peer that does not
// read: it dials the address given, subscribes to the block and aggregation topics and prints
// "ready <peer id>".
import { NetworkHost } from "../src/host/networkHost.ts";
import { TEST_FORK_DIGEST } from "./fixtures.ts";

const target = process.argv[2];
if (target === undefined) throw new Error("usage: stallingPeer.ts <target multiaddr>");
const host = new NetworkHost({ forkDigest: TEST_FORK_DIGEST, listenAddresses: ["/ip4/127.0.0.1/tcp/0"] });
await host.start();
host.subscribe();
await host.dial(target);
console.log(`ready ${host.peerId}`);
