// Bad input from every side must leave a node unharmed: a rogue libp2p peer publishing malformed
// gossip and sending malformed req/resp requests, malformed HTTP requests, and a corrupt database
// (which must stop the node with a clear message, never a stack trace or a silent fresh start).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { cpSync, readdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  AggregationBits,
  Block,
  Checkpoint,
  fromHex,
  interopSecretKey,
  MAX_REQUEST_BLOCKS,
  type SignedAggregatedAttestation,
  type SignedAttestation,
  SignedBlock,
  Status,
  toHex,
} from "@metronome/chain";
import {
  compressBlock,
  encodeRequest,
  encodeSnappyFrames,
  encodeVarint,
  MAX_PAYLOAD_SIZE,
  NetworkHost,
  type ResponseChunk,
  ResultCode,
} from "@metronome/network";
// classic-level is the node package's dependency, not the test package's: reached by path.
import { ClassicLevel } from "../packages/node/node_modules/classic-level/index.js";
import { Bucket, key, metaKey, slotBytes } from "../packages/node/src/db/keys.ts";
import { type NodeHealth, sleep, TestDevnet, waitUntil } from "./helpers/devnet.ts";

const TARGET = 0;
const OTHER = 1;
const FAR_FUTURE_SLOT = 1_000_000_000;

const checkpoint = (root: string, slot: number) => ({ root: fromHex(root), slot });

describe("bad input: a rogue peer and bad HTTP requests against a running node", () => {
  let net: TestDevnet;
  let rogue: NetworkHost;
  let targetPeer: string;

  before(async () => {
    net = await TestDevnet.create({ name: "bad-input", nodes: 2, validators: 32 });
    net.startAll();
    await net.waitForHealth(
      [TARGET, OTHER],
      (hs) => hs.every((h) => h.sync_state === "SYNCED" && h.head_slot >= 3),
      "both nodes SYNCED past slot 3",
      40_000,
    );
    await connectRogue();
  });

  /**
   * (Re)starts the rogue under a new identity. The node scores its peers: four malformed requests
   * get a peer disconnected and banned, so the tests that send many bad inputs change identity.
   */
  async function connectRogue(): Promise<void> {
    await rogue?.stop();
    rogue = new NetworkHost({
      forkDigest: net.forkDigest,
      listenAddresses: ["/ip4/127.0.0.1/tcp/0"],
      reqResp: { timeoutMs: 5_000 },
    });
    await rogue.start();
    targetPeer = await rogue.dial(net.multiaddr(TARGET));
    // The rogue publishes without subscribing: it needs to know the node takes each topic.
    await waitUntil(
      async () =>
        rogue.gossipSubscribers("block").includes(targetPeer) &&
        rogue.gossipSubscribers("attestation", 0).includes(targetPeer) &&
        rogue.gossipSubscribers("aggregation").includes(targetPeer),
      "the target's gossip subscriptions seen by the rogue",
      10_000,
    );
  }

  /** Malformed requests sent by the current rogue; a new one every three (each costs 5 of 20 points). */
  let badRequests = 0;
  async function rogueForBadRequest(): Promise<NetworkHost> {
    if (badRequests > 0 && badRequests % 3 === 0) await connectRogue();
    badRequests++;
    return rogue;
  }

  after(async () => {
    await rogue?.stop();
    await net?.teardown();
  });

  /** Publishes and checks the bytes actually left for the target. */
  async function publish(topic: string, data: Uint8Array): Promise<void> {
    const recipients = await rogue.publishRaw(topic, data);
    assert.ok(recipients >= 1, `nothing sent on ${topic}`);
  }

  async function headParentRoot(): Promise<string> {
    const { body } = await net.getJson(TARGET, "/eth/v1/beacon/headers/head");
    const parent = (body as { data?: { header?: { message?: { parent_root?: unknown } } } }).data?.header?.message
      ?.parent_root;
    assert.equal(typeof parent, "string");
    return parent as string;
  }

  async function targetHealth(): Promise<NodeHealth> {
    const [h] = await net.waitForHealth([TARGET], () => true, "target health", 5_000);
    assert.ok(h !== undefined);
    return h;
  }

  /** The target's head advances by `slots` and it still has its honest peer. */
  async function assertUnharmed(slots: number): Promise<void> {
    const before = await targetHealth();
    await net.waitForHealth(
      [TARGET],
      (hs) => hs.every((h) => h.head_slot >= before.head_slot + slots),
      `target head advancing ${slots} slots past ${before.head_slot}`,
      (slots + 6) * net.slotMs,
    );
    assert.ok(net.isRunning(TARGET), "target process exited");
    const { status, body } = await net.getJson(TARGET, "/eth/v1/node/peers");
    assert.equal(status, 200);
    const peers = ((body as { data?: { peer_id?: string }[] }).data ?? []).map((p) => p.peer_id);
    assert.ok(peers.includes(net.entry(OTHER).peerId), `the honest peer is gone: ${peers.join(", ")}`);
  }

  it("malformed gossip on every topic is dropped, counted in health.drops, and does no harm", async () => {
    const before = await targetHealth();
    const topics = [rogue.topicName("block"), rogue.topicName("attestation", 0), rogue.topicName("aggregation")];
    // Rejected by the network layer before any handler. Same bytes on another topic are another message.
    for (const topic of topics) {
      await publish(topic, Uint8Array.of(0xff, 0x00, 0x13, 0x37, 0xde, 0xad)); // not snappy
      await publish(topic, compressBlock(new Uint8Array(200).fill(0xab))); // snappy, not SSZ
      await publish(topic, compressBlock(new Uint8Array(0))); // snappy, empty
      await publish(topic, Uint8Array.of(...encodeVarint(MAX_PAYLOAD_SIZE + 1), 0, 0, 0, 0)); // declares > 10 MiB
    }

    const head = before.head_root;
    const data = {
      slot: before.head_slot,
      head: checkpoint(head, before.head_slot),
      target: checkpoint(head, before.head_slot),
      source: checkpoint(before.justified_root, before.justified_slot),
    };
    // Valid data, well-formed SSZ, a real BLS signature by the wrong key: fails verification.
    const badSignature: SignedAttestation = {
      validatorIndex: 0,
      data,
      signature: interopSecretKey(1).sign(new Uint8Array(32).fill(7)).toBytes(),
    };
    assert.ok((await rogue.publishAttestation(0, badSignature)) >= 1);
    // Far beyond the clock: dropped by the receive-path gate, before any lookup or signature work.
    const farData = { ...data, slot: FAR_FUTURE_SLOT };
    assert.ok(
      (await rogue.publishAttestation(0, { validatorIndex: 3, data: farData, signature: new Uint8Array(96) })) >= 1,
    );
    const farAggregate: SignedAggregatedAttestation = {
      aggregationBits: AggregationBits.deserialize(Uint8Array.of(0b111)),
      data: farData,
      signature: new Uint8Array(96),
    };
    assert.ok((await rogue.publishAggregate(farAggregate)) >= 1);
    // A block in the current slot on a known parent, with a garbage signature and state root.
    const slot = before.current_slot;
    const parentRoot = slot > before.head_slot ? head : await headParentRoot();
    const badBlock: SignedBlock = {
      block: {
        slot,
        proposerIndex: slot % 32,
        parentRoot: fromHex(parentRoot),
        stateRoot: new Uint8Array(32).fill(0x5a),
        body: { attestations: [] },
      },
      signature: new Uint8Array(96).fill(0x11),
    };
    assert.ok((await rogue.publishBlock(badBlock)) >= 1);
    // A block from a slot far in the future: ignored before any work.
    assert.ok((await rogue.publishBlock({ ...badBlock, block: { ...badBlock.block, slot: FAR_FUTURE_SLOT } })) >= 1);

    const expected: Record<string, number> = {
      gossip_rejected_not_snappy: 3,
      gossip_rejected_bad_ssz: 6,
      gossip_rejected_too_large: 3,
      // The bad-signature attestation and the invalid block.
      gossip_rejected_by_handler: 2,
      single_future_slot: 1,
      aggregated_future_slot: 1,
      future_blocks: 1,
      blocks_invalid: 1,
    };
    const delta = (h: NodeHealth, name: string) => (h.drops[name] ?? 0) - (before.drops[name] ?? 0);
    const [after] = await net.waitForHealth(
      [TARGET],
      ([h]) => h !== undefined && Object.entries(expected).every(([name, n]) => delta(h, name) >= n),
      `every bad message counted in health.drops (${JSON.stringify(expected)})`,
      10_000,
    );
    assert.ok(after !== undefined);
    assert.deepEqual(
      Object.fromEntries(Object.keys(expected).map((name) => [name, delta(after, name)])),
      expected,
      "each bad message counted exactly once",
    );
    assert.equal(delta(after, "gossip_handler_errors"), 0);
    assert.notEqual(after.head_root, toHex(Block.hashTreeRoot(badBlock.block)), "the invalid block became head");
    await assertUnharmed(2);
  });

  it("malformed req/resp requests get result code 1, and valid ones are still served", async () => {
    const before = await targetHealth();
    const code = (chunks: ResponseChunk[]) => chunks.map((c) => c.code);
    const invalid = [ResultCode.INVALID_REQUEST];

    // Garbage with no valid length prefix, and a valid prefix followed by non-snappy bytes.
    assert.deepEqual(
      code(await (await rogueForBadRequest()).requestRaw(targetPeer, "status", Uint8Array.of(0xde, 0xad, 0xbe, 0xef))),
      invalid,
    );
    assert.deepEqual(
      code(
        await (await rogueForBadRequest()).requestRaw(
          targetPeer,
          "status",
          Uint8Array.of(...encodeVarint(80), ...new Uint8Array(90).fill(0x42)),
        ),
      ),
      invalid,
    );
    // Declared lengths beyond 10 MiB, and beyond what a request of that kind can be.
    const huge = Uint8Array.of(...encodeVarint(64 * 1024 * 1024), ...encodeSnappyFrames(new Uint8Array(0)));
    assert.deepEqual(code(await (await rogueForBadRequest()).requestRaw(targetPeer, "blocksByRoot", huge)), invalid);
    const tooLongForRange = Uint8Array.of(...encodeVarint(4096), ...encodeSnappyFrames(new Uint8Array(0)));
    assert.deepEqual(
      code(await (await rogueForBadRequest()).requestRaw(targetPeer, "blocksByRange", tooLongForRange)),
      invalid,
    );
    // 1025 roots, serialized by hand since the SSZ type refuses lists over its limit.
    const roots = new Uint8Array(4 + 32 * (MAX_REQUEST_BLOCKS + 1));
    new DataView(roots.buffer).setUint32(0, 4, true);
    roots.set(randomBytes(32 * (MAX_REQUEST_BLOCKS + 1)), 4);
    assert.deepEqual(
      code(await (await rogueForBadRequest()).requestRaw(targetPeer, "blocksByRoot", encodeRequest(roots))),
      invalid,
    );
    // BlocksByRange with count 0, and with a start slot at the top of uint64.
    const range = (start: bigint, count: bigint) => {
      const ssz = new Uint8Array(16);
      new DataView(ssz.buffer).setBigUint64(0, start, true);
      new DataView(ssz.buffer).setBigUint64(8, count, true);
      return encodeRequest(ssz);
    };
    assert.deepEqual(
      code(await (await rogueForBadRequest()).requestRaw(targetPeer, "blocksByRange", range(1n, 0n))),
      invalid,
    );
    assert.deepEqual(
      code(await (await rogueForBadRequest()).requestRaw(targetPeer, "blocksByRange", range(2n ** 64n - 1n, 5n))),
      invalid,
    );

    // Seven malformed requests, each refused and counted once (none rate-limited at this pace). The
    // network worker pushes its counters every 250 ms, so wait for the count to arrive; any more
    // than seven would still fail below.
    const deltaIn = (h: NodeHealth, name: string) => (h.drops[name] ?? 0) - (before.drops[name] ?? 0);
    const [h] = await net.waitForHealth(
      [TARGET],
      ([x]) => x !== undefined && deltaIn(x, "reqresp_invalid_requests") >= 7,
      "the seven malformed requests counted",
      5_000,
    );
    assert.ok(h);
    const delta = (name: string) => deltaIn(h, name);
    assert.equal(delta("reqresp_invalid_requests"), 7);
    assert.equal(delta("reqresp_rate_limited"), 0);
    assert.equal(delta("reqresp_server_errors"), 0);

    // Still serving a peer in good standing: Status, a range from slot 1 and the head block by root.
    await connectRogue();
    const ours = Status.serialize({
      finalized: checkpoint(toHex(new Uint8Array(32)), 0),
      head: checkpoint(h.head_root, 0),
    });
    const status = await rogue.requestRaw(targetPeer, "status", encodeRequest(ours));
    assert.deepEqual(code(status), [ResultCode.SUCCESS]);
    const theirs = Status.deserialize(status[0]?.payload ?? new Uint8Array(0));
    assert.ok(theirs.head.slot >= h.head_slot, `status head ${theirs.head.slot} < ${h.head_slot}`);

    const blocks = await rogue.requestRaw(targetPeer, "blocksByRange", range(1n, 4n));
    assert.ok(blocks.length >= 1 && blocks.every((c) => c.code === ResultCode.SUCCESS), `range: ${code(blocks)}`);
    const slots = blocks.map((c) => SignedBlock.deserialize(c.payload).block.slot);
    assert.deepEqual(
      slots,
      [...slots].sort((a, b) => a - b),
    );
    assert.ok(slots.every((s) => s >= 1 && s <= 4));

    const byRoot = await rogue.requestRaw(
      targetPeer,
      "blocksByRoot",
      encodeRequest(Uint8Array.of(4, 0, 0, 0, ...fromHex(h.head_root))),
    );
    assert.deepEqual(code(byRoot), [ResultCode.SUCCESS]);
    const served = SignedBlock.deserialize(byRoot[0]?.payload ?? new Uint8Array(0));
    assert.equal(toHex(Block.hashTreeRoot(served.block)), h.head_root);
    await assertUnharmed(2);
  });

  it("a peer that keeps sending malformed requests is disconnected and refused on redial", async () => {
    await connectRogue();
    const garbage = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
    for (let i = 0; i < 4; i++) await rogue.requestRaw(targetPeer, "status", garbage).catch(() => []);
    await waitUntil(async () => !rogue.isConnected(targetPeer), "the target to cut the rogue off", 10_000);
    // The target's gater refuses the banned identity during the handshake.
    await rogue.dial(net.multiaddr(TARGET)).catch(() => null);
    await waitUntil(async () => !rogue.isConnected(targetPeer), "the banned rogue kept out", 5_000);
    await connectRogue();
    await assertUnharmed(1);
  });

  it("a ~4 MiB gossip message declaring 11 MiB is refused as too large", async () => {
    // ~4 MiB is the most a gossipsub peer can send at all (its length-prefix encoder's cap).
    const before = await targetHealth();
    const payload = new Uint8Array(4 * 1024 * 1024 - 4096).fill(0x41);
    payload.set(encodeVarint(11 * 1024 * 1024));
    await publish(rogue.topicName("block"), payload);
    const [after] = await net.waitForHealth(
      [TARGET],
      ([h]) =>
        h !== undefined && (h.drops.gossip_rejected_too_large ?? 0) > (before.drops.gossip_rejected_too_large ?? 0),
      "the big payload counted as too large",
      10_000,
    );
    assert.ok(after !== undefined);
    assert.equal((after.drops.gossip_rejected_too_large ?? 0) - (before.drops.gossip_rejected_too_large ?? 0), 1);
    await assertUnharmed(2);
  });

  it("malformed HTTP requests get Beacon-API error bodies", async () => {
    const expectError = async (path: string, status: number) => {
      const res = await net.getJson(TARGET, path);
      assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
      const body = res.body as { code?: unknown; message?: unknown };
      assert.equal(body.code, status, `${path}: body ${JSON.stringify(res.body)}`);
      assert.equal(typeof body.message, "string");
      assert.ok((body.message as string).length > 0);
    };
    await expectError("/eth/v1/beacon/headers/notanid", 400);
    await expectError("/eth/v1/beacon/headers/0x1234", 400);
    // Past 2^64 - 1 a slot is no block id at all; a uint64 past 2^53 - 1 is a valid id with no block.
    await expectError("/eth/v1/beacon/headers/99999999999999999999", 400);
    await expectError("/eth/v1/beacon/headers/12345678901234567890", 404);
    await expectError(`/eth/v1/beacon/headers/${encodeURIComponent("<script>")}`, 400);
    await expectError("/eth/v1/beacon/headers/99999999", 404);
    await expectError(`/eth/v1/beacon/headers/0x${"ab".repeat(32)}`, 404);
    await expectError("/eth/v1/no/such/route", 404);
    await expectError("/lean/v0/nope?x=1", 404);
    assert.ok(net.isRunning(TARGET));
    await assertUnharmed(1);
  });

  describe("a peer lying in its Status (finalized slot 10^6, serving no blocks)", () => {
    let requestsBefore = 0;

    before(async () => {
      const lie = {
        finalized: { root: new Uint8Array(32).fill(9), slot: 1_000_000 },
        head: { root: new Uint8Array(32).fill(8), slot: 1_000_100 },
      };
      rogue.setReqRespHandlers({ status: () => lie, blocksByRange: () => [], blocksByRoot: () => [] });
      requestsBefore = rogue.stats().reqresp_inbound_requests;
      await rogue.status(targetPeer);
    });

    it("does not stop the node from following the chain and finalizing", async () => {
      const before = await targetHealth();
      await net.waitForHealth(
        [TARGET],
        ([h]) => h !== undefined && h.head_slot >= before.head_slot + 4 && h.finalized_slot > before.finalized_slot,
        "head and finality advancing with the liar connected",
        12 * net.slotMs,
      );
      await assertUnharmed(1);
    });

    it("does not draw a storm of range requests", async () => {
      const windowStart = rogue.stats().reqresp_inbound_requests;
      // A rate needs a fixed window: this wait measures, it does not hope.
      await sleep(5_000);
      const requests = rogue.stats().reqresp_inbound_requests - windowStart;
      assert.ok(
        requests <= 10,
        `${requests} requests to the lying peer in 5 s (${windowStart - requestsBefore} before)`,
      );
    });
  });
});

describe("corrupt database: the node refuses to start, with a clear message", () => {
  // Cases run on copies of one stopped node's data dir; each copy is damaged in one way.
  type Corruption = { name: string; expect: RegExp; damage: (dir: string) => Promise<void>; todo?: string };
  let net: TestDevnet;
  let pristine: string;

  before(async () => {
    net = await TestDevnet.create({ name: "corrupt-db", nodes: 1, validators: 8, genesisDelaySec: 4 });
    net.startAll();
    // A single node with every validator finalizes alone; stop it with blocks above finality.
    await net.waitForHealth([0], (hs) => hs.every((h) => h.finalized_slot >= 3), "finality on the lone node", 40_000);
    const exit = await net.stop(0, "SIGTERM", 10_000);
    assert.deepEqual(exit, { code: 0, signal: null });
    pristine = net.node(0).dataDir;
  });

  after(async () => {
    await net?.teardown();
  });

  const withDb = async (dir: string, fn: (db: ClassicLevel<Uint8Array, Uint8Array>) => Promise<void>) => {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    try {
      await fn(db);
    } finally {
      await db.close();
    }
  };
  const anchorOf = async (db: ClassicLevel<Uint8Array, Uint8Array>) => {
    const bytes = await db.get(metaKey("anchor"));
    assert.ok(bytes !== undefined, "the pristine data dir has no anchor");
    return Checkpoint.deserialize(Uint8Array.from(bytes));
  };
  const filesMatching = (dir: string, pattern: RegExp) => readdirSync(dir).filter((f) => pattern.test(f));

  const cases: Corruption[] = [
    {
      name: "CURRENT overwritten",
      expect: /cannot open database/,
      damage: async (dir) => writeFileSync(join(dir, "CURRENT"), "MANIFEST-999999\n"),
    },
    {
      name: "MANIFEST truncated",
      expect: /cannot open database/,
      damage: async (dir) => {
        for (const f of filesMatching(dir, /^MANIFEST-/)) truncateSync(join(dir, f), 7);
      },
    },
    {
      name: "anchor pointer is garbage",
      expect: /corrupt.*anchor checkpoint/,
      damage: (dir) => withDb(dir, (db) => db.put(metaKey("anchor"), Uint8Array.of(1, 2, 3))),
    },
    {
      name: "anchor state missing",
      expect: /corrupt.*has no state/,
      damage: (dir) => withDb(dir, async (db) => db.del(key(Bucket.state, (await anchorOf(db)).root))),
    },
    {
      name: "a stored block above the anchor is garbage",
      expect: /corrupt.*cannot decode block/,
      damage: (dir) =>
        withDb(dir, async (db) => {
          const anchor = await anchorOf(db);
          const range = {
            gte: key(Bucket.blockSlot, slotBytes(anchor.slot + 1)),
            lt: Uint8Array.of(Bucket.blockSlot + 1),
          };
          let damaged = 0;
          for await (const k of db.keys(range)) {
            await db.put(key(Bucket.block, k.subarray(9, 41)), new Uint8Array(randomBytes(50)));
            damaged++;
          }
          assert.ok(damaged > 0, "no block above the anchor to damage");
        }),
    },
    {
      name: "a finalized block below the anchor is missing",
      expect: /missing finalized block 0x[0-9a-f]{64} \(the parent of finalized slot \d+.*resync/,
      damage: (dir) =>
        withDb(dir, async (db) => {
          // The highest finalized block below the anchor (genesis when a slow boot left the first
          // slots empty).
          const anchor = await anchorOf(db);
          for (let slot = anchor.slot - 1; slot >= 0; slot--) {
            const root = await db.get(key(Bucket.finalizedRoot, slotBytes(slot)));
            if (root !== undefined) return db.del(key(Bucket.block, root));
          }
          assert.fail(`no finalized block below the anchor at slot ${anchor.slot}`);
        }),
    },
    {
      name: "data dir of another chain",
      expect: /belongs to chain 0xdeadbeef/,
      damage: (dir) => withDb(dir, (db) => db.put(metaKey("fork_digest"), Uint8Array.of(0xde, 0xad, 0xbe, 0xef))),
    },
    {
      name: "every table and log file overwritten with garbage",
      expect: /database/,
      // LevelDB's recovery skips unreadable log records without an error, so the store opens
      // empty; the node's initialized marker tells it this is not a fresh data dir.
      damage: async (dir) => {
        for (const f of filesMatching(dir, /^\d+\.(ldb|log|sst)$/)) {
          const path = join(dir, f);
          writeFileSync(path, randomBytes(Math.max(64, statSync(path).size)));
        }
      },
    },
  ];

  it("a lost finalized-index entry is recomputed from the blocks, and the node starts", async () => {
    const dir = join(net.dir, "index-repair");
    cpSync(pristine, dir, { recursive: true });
    await withDb(dir, (db) => db.del(key(Bucket.finalizedRoot, slotBytes(0))));
    const result = await net.runOnce(0, dir, 15_000);
    assert.ok(result.stillServing, `the node did not start\n${result.output}`);
    assert.match(result.output, /repaired the finalized index.*entries=1/);
  });

  for (const [i, c] of cases.entries()) {
    it(`${c.name}: exits non-zero with a one-line error`, { todo: c.todo }, async () => {
      const dir = join(net.dir, `corrupt-${i}`);
      cpSync(pristine, dir, { recursive: true });
      await c.damage(dir);
      const result = await net.runOnce(0, dir, 15_000);
      const context = `exit ${JSON.stringify({ code: result.code, signal: result.signal })}, output:\n${result.output}`;
      assert.ok(!result.stillServing, `the node started and served its API on a damaged data dir\n${context}`);
      assert.ok(!result.timedOut, `the node did not exit within 15 s\n${context}`);
      assert.ok(result.code !== null && result.code !== 0, context);
      assert.doesNotMatch(result.output, /starting from genesis/, `started over from genesis\n${context}`);
      assert.match(result.output, c.expect, context);
      assert.ok(result.output.includes(dir), `the message does not name the data dir\n${context}`);
      assert.doesNotMatch(result.output, /^\s+at .+:\d+:\d+\)?$/m, `stack trace in the output\n${context}`);
    });
  }
});
