// The flood's peer identities: N libp2p hosts, each with its own random key, each connected to the
// target as a gossip peer on the devnet's fork digest (plus, for a one-identity flood with
// duplicates, an "echo" host that re-sends what the main one sent). They answer Status as a synced
// peer on the target's own chain, so the target's sync never chases them, and redial the target
// when it drops them, as a determined flooder would.
import type { Checkpoint } from "@metronome/chain";
import { NetworkHost } from "@metronome/network";
import type { FloodTopic } from "./payloadData.ts";

export interface FloodPeersOptions {
  /** The target's libp2p multiaddr, ending in /p2p/<peer id>. */
  target: string;
  forkDigest: Uint8Array;
  attestationSubnetCount: number;
  subnet: number;
  /** Identities that publish fresh messages. */
  peers: number;
  /** Start a separate echo host (only meaningful with one identity). */
  echo: boolean;
  /** The chain the identities claim in Status. */
  status: () => { finalized: Checkpoint; head: Checkpoint };
}

export interface FloodPeerStats {
  peerId: string;
  /** Publishes handed to gossipsub. */
  sent: number;
  /** Publishes that reached no peer (the target dropped or banned the identity, or a repeat). */
  noRecipients: number;
  publishErrors: number;
  /** Still connected to the target when the stats were taken. */
  connected: boolean;
}

/** Hosts started at once: each start binds a port and dials; a few in parallel keep start-up short. */
const START_CONCURRENCY = 4;

export const ECHO = -1;

export class FloodPeers {
  private readonly opts: FloodPeersOptions;
  private readonly hosts: NetworkHost[] = [];
  private echoHost: NetworkHost | null = null;
  private readonly counts: { sent: number; noRecipients: number; publishErrors: number }[] = [];
  private readonly echoCounts = { sent: 0, noRecipients: 0, publishErrors: 0 };
  private topics: Record<FloodTopic, string> = { attestation: "", aggregation: "" };
  private readonly targetPeer: string | undefined;

  constructor(opts: FloodPeersOptions) {
    this.opts = opts;
    this.targetPeer = opts.target.split("/p2p/")[1];
  }

  get count(): number {
    return this.hosts.length;
  }

  get hasEcho(): boolean {
    return this.echoHost !== null;
  }

  /** Starts every identity, dials the target and waits until the target is subscribed to each. */
  async start(deadline: number): Promise<void> {
    for (let i = 0; i < this.opts.peers; i += START_CONCURRENCY) {
      const batch = Math.min(START_CONCURRENCY, this.opts.peers - i);
      const started = await Promise.all(Array.from({ length: batch }, () => this.startHost(true)));
      for (const h of started) {
        this.hosts.push(h);
        this.counts.push({ sent: 0, noRecipients: 0, publishErrors: 0 });
      }
    }
    if (this.opts.echo) this.echoHost = await this.startHost(false);
    const first = this.hosts[0];
    if (first === undefined) throw new Error("no flood identity started");
    this.topics = {
      attestation: first.topicName("attestation", this.opts.subnet),
      aggregation: first.topicName("aggregation"),
    };
    await this.waitForTargetSubscription(deadline);
  }

  /** Publishes on identity `index` (or ECHO); resolves to the recipient count, null on error. */
  publish(index: number, topic: FloodTopic, bytes: Uint8Array): Promise<number | null> {
    const host = index === ECHO ? this.echoHost : this.hosts[index];
    const counts = index === ECHO ? this.echoCounts : this.counts[index];
    if (host === null || host === undefined || counts === undefined) return Promise.resolve(null);
    counts.sent++;
    return host.publishRaw(this.topics[topic], bytes).then(
      (recipients) => {
        if (recipients === 0) counts.noRecipients++;
        return recipients;
      },
      () => {
        counts.publishErrors++;
        return null;
      },
    );
  }

  stats(): FloodPeerStats[] {
    const out = this.hosts.map((h, i) => this.statsOf(h, this.counts[i] ?? this.echoCounts));
    if (this.echoHost !== null) out.push(this.statsOf(this.echoHost, this.echoCounts));
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.hosts, ...(this.echoHost ? [this.echoHost] : [])].map((h) => h.stop()));
  }

  private statsOf(host: NetworkHost, c: { sent: number; noRecipients: number; publishErrors: number }) {
    const connected = this.targetPeer === undefined ? host.peers().length > 0 : host.peers().includes(this.targetPeer);
    return { peerId: host.peerId, ...c, connected };
  }

  private async startHost(subscribe: boolean): Promise<NetworkHost> {
    const host = new NetworkHost({
      forkDigest: this.opts.forkDigest,
      listenAddresses: ["/ip4/127.0.0.1/tcp/0"],
      attestationSubnetCount: Math.max(this.opts.attestationSubnetCount, this.opts.subnet + 1),
      bootnodes: [this.opts.target],
    });
    host.setReqRespHandlers({
      status: () => this.opts.status(),
      blocksByRoot: () => [],
      blocksByRange: () => [],
    });
    await host.start();
    if (subscribe) host.subscribe([this.opts.subnet]);
    await host.dial(this.opts.target);
    return host;
  }

  private async waitForTargetSubscription(deadline: number): Promise<void> {
    const hosts = [...this.hosts, ...(this.echoHost ? [this.echoHost] : [])];
    for (;;) {
      const ready = hosts.every((h) => {
        const subs = h.gossipSubscribers("attestation", this.opts.subnet);
        return this.targetPeer === undefined ? subs.length > 0 : subs.includes(this.targetPeer);
      });
      if (ready) return;
      if (Date.now() > deadline) {
        throw new Error("the target never announced its attestation subnet subscription to every flood identity");
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
