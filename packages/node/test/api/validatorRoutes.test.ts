import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import {
  AttestationData,
  aggregateAttestations,
  aggregateSignatureBytes,
  Block,
  fromHex,
  interopSecretKey,
  SignedAttestation,
  signAttestation,
  toHex,
} from "@metronome/chain";
import { validatorRoutesPlugin } from "../../src/api/validatorRoutes.ts";
import {
  emptyPublishedCounts,
  makeChain,
  type PublishedCounts,
  recordingValidatorBackend,
  type TestChain,
  tickTo,
  VALIDATORS,
} from "./chainFixture.ts";
import { startTestServer, type TestServer } from "./helpers.ts";

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function setup(): Promise<{
  chain: TestChain;
  server: TestServer;
  published: PublishedCounts;
}> {
  const chain = makeChain();
  const published = emptyPublishedCounts();
  const server = await startTestServer([validatorRoutesPlugin(recordingValidatorBackend(chain, published))]);
  servers.push(server);
  return { chain, server, published };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function postJson(url: string, payload: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function assertBadRequest(res: { status: number; body: Record<string, unknown> }, pattern: RegExp): void {
  assert.equal(res.status, 400, JSON.stringify(res.body));
  assert.equal(res.body.code, 400);
  assert.match(String(res.body.message), pattern);
}

interface BlockResponse {
  block: unknown;
  block_root: string;
  signing_root: string;
  attestation_signatures: string[];
}

/** Gives the pool an aggregate of validators 0, 2 and 3 voting in slot 1 (before the slot-2 proposal). */
function poolAggregate(chain: TestChain): void {
  tickTo(chain, 1, 1);
  const data = chain.store.produceAttestationData(1);
  const votes = [0, 2, 3].map((i) => signAttestation(interopSecretKey(i), i, data, chain.domains));
  const [agg] = aggregateAttestations(votes);
  assert.ok(agg);
  chain.store.processGossipAggregate(agg);
}

describe("validator routes", () => {
  it("lists proposer and attester duties for the requested indices", async () => {
    const { server } = await setup();
    const res = await getJson(`${server.base}/lean/v0/validator/duties?slot=5&count=4&indices=1,2&indices=1`);
    assert.equal(res.status, 200);
    const data = res.body.data as { validator_count: string; proposers: unknown[]; attesters: unknown[] };
    assert.equal(data.validator_count, String(VALIDATORS));
    // Round robin over 4 validators: slot 5 -> 1, slot 6 -> 2.
    assert.deepEqual(
      data.proposers.map((p) => [(p as Record<string, string>).slot, (p as Record<string, string>).validator_index]),
      [
        ["5", "1"],
        ["6", "2"],
      ],
    );
    assert.equal(data.attesters.length, 8);
    assert.deepEqual(data.attesters[1], {
      slot: "5",
      validator_index: "2",
      pubkey: toHex(interopSecretKey(2).toPublicKey().toBytes()),
      subnet_id: "0",
      interval: "1",
    });
  });

  it("serves the store's attestation data, and imports a signed attestation", async () => {
    const { chain, server, published } = await setup();
    tickTo(chain, 1, 1);
    const res = await getJson(`${server.base}/lean/v0/validator/attestation_data?slot=1`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, AttestationData.toJson(chain.store.produceAttestationData(1)));

    const data = AttestationData.fromJson(res.body.data);
    const att = signAttestation(interopSecretKey(2), 2, data, chain.domains);
    const posted = await postJson(`${server.base}/lean/v0/validator/attestation`, SignedAttestation.toJson(att));
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    assert.equal(published.attestations, 1);
    assert.deepEqual(chain.store.getNewVote(2), data);

    // A signature by the wrong key is rejected by the node, Beacon style with per-item failures.
    const forged = signAttestation(interopSecretKey(1), 3, data, chain.domains);
    const bad = await postJson(`${server.base}/lean/v0/validator/attestation`, [
      SignedAttestation.toJson(att),
      SignedAttestation.toJson(forged),
    ]);
    assertBadRequest(bad, /Some attestations failed/);
    assert.deepEqual(
      (bad.body.failures as { index: number }[]).map((f) => f.index),
      [1],
    );
  });

  it("produces a block; the node folds its kept attestation signatures into a proposer signature", async () => {
    const { chain, server, published } = await setup();
    poolAggregate(chain);
    tickTo(chain, 2);
    const res = await getJson(`${server.base}/lean/v0/validator/block?slot=2&proposer_index=2`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const produced = res.body.data as BlockResponse;
    const block = Block.fromJson(produced.block);
    assert.equal(block.slot, 2);
    assert.equal(block.body.attestations.length, 1);
    assert.equal(produced.attestation_signatures.length, 1);
    assert.equal(produced.block_root, toHex(Block.hashTreeRoot(block)));
    // The client signs its own signing root, never trusting the node's blindly.
    const signingRoot = chain.domains.blockSigningRoot(block);
    assert.equal(produced.signing_root, toHex(signingRoot));

    const proposerSignature = interopSecretKey(2).sign(signingRoot).toBytes();
    const posted = await postJson(`${server.base}/lean/v0/validator/block`, {
      block: produced.block,
      proposer_signature: toHex(proposerSignature),
    });
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    assert.deepEqual(posted.body.data, { status: "imported", root: produced.block_root });
    assert.equal(published.blocks, 1);
    assert.equal(chain.store.head.slot, 2);
  });

  it("publishes a block whose client aggregated the signature itself", async () => {
    const { chain, server } = await setup();
    poolAggregate(chain);
    tickTo(chain, 2);
    const produced = (await getJson(`${server.base}/lean/v0/validator/block?slot=2&proposer_index=2`)).body
      .data as BlockResponse;
    const block = Block.fromJson(produced.block);
    const signature = aggregateSignatureBytes([
      interopSecretKey(2).sign(chain.domains.blockSigningRoot(block)).toBytes(),
      ...produced.attestation_signatures.map((s) => fromHex(s)),
    ]);
    const posted = await postJson(`${server.base}/lean/v0/validator/block`, {
      block: produced.block,
      signature: toHex(signature),
    });
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    assert.equal(chain.store.head.slot, 2);

    // The same block again is known, not an error.
    const again = await postJson(`${server.base}/lean/v0/validator/block`, {
      block: produced.block,
      signature: toHex(signature),
    });
    assert.equal(again.status, 200);
    assert.equal((again.body.data as { status: string }).status, "known");
  });

  it("answers 400 {code, message} to bad queries", async () => {
    const { chain, server } = await setup();
    tickTo(chain, 2);
    const v = `${server.base}/lean/v0/validator`;
    assertBadRequest(await getJson(`${v}/duties?indices=1`), /slot/);
    assertBadRequest(await getJson(`${v}/duties?slot=abc&indices=1`), /slot/);
    assertBadRequest(await getJson(`${v}/duties?slot=1`), /indices/);
    assertBadRequest(await getJson(`${v}/duties?slot=1&indices=1,x`), /validator index/);
    assertBadRequest(await getJson(`${v}/duties?slot=1&indices=4`), /Unknown validator index 4/);
    assertBadRequest(await getJson(`${v}/duties?slot=1&indices=1&count=0`), /count/);
    assertBadRequest(await getJson(`${v}/attestation_data`), /slot/);
    assertBadRequest(await getJson(`${v}/attestation_data?slot=-1`), /slot/);
    assertBadRequest(await getJson(`${v}/attestation_data?slot=3`), /future/);
    assertBadRequest(await getJson(`${v}/block?slot=3&proposer_index=3`), /future/);
    assertBadRequest(await getJson(`${v}/block?slot=2&proposer_index=1`), /does not propose/);
    assertBadRequest(await getJson(`${v}/block?slot=2`), /proposer_index/);
  });

  it("answers 400 {code, message} to bad block and attestation bodies", async () => {
    const { chain, server } = await setup();
    poolAggregate(chain);
    tickTo(chain, 2);
    const v = `${server.base}/lean/v0/validator`;
    const produced = (await getJson(`${v}/block?slot=2&proposer_index=2`)).body.data as BlockResponse;
    const block = Block.fromJson(produced.block);
    const goodProposerSig = toHex(interopSecretKey(2).sign(chain.domains.blockSigningRoot(block)).toBytes());
    const blockJson = produced.block as Record<string, unknown>;

    assertBadRequest(await postJson(`${v}/block`, []), /JSON object/);
    assertBadRequest(await postJson(`${v}/block`, { block: blockJson }), /exactly one/);
    assertBadRequest(
      await postJson(`${v}/block`, {
        block: blockJson,
        signature: goodProposerSig,
        proposer_signature: goodProposerSig,
      }),
      /exactly one/,
    );
    assertBadRequest(await postJson(`${v}/block`, { block: blockJson, signature: "0x1234" }), /96 bytes/);
    assertBadRequest(
      await postJson(`${v}/block`, { block: blockJson, signature: `0x${"ab".repeat(96)}` }),
      /not a BLS signature/,
    );
    assertBadRequest(
      await postJson(`${v}/block`, { block: { ...blockJson, slot: "-2" }, signature: goodProposerSig }),
      /unsigned integer/,
    );
    assertBadRequest(
      await postJson(`${v}/block`, {
        block: { ...blockJson, parent_root: `0x${"zz".repeat(32)}` },
        signature: goodProposerSig,
      }),
      /hex/,
    );
    assertBadRequest(
      await postJson(`${v}/block`, { block: { ...blockJson, extra: "1" }, signature: goodProposerSig }),
      /unknown field/,
    );
    assertBadRequest(
      await postJson(`${v}/block`, { block: blockJson, signature: goodProposerSig, x: 1 }),
      /Unknown field/,
    );
    // A block the node did not produce (here: its state root changed) has no kept signatures.
    const foreign = { ...blockJson, state_root: `0x${"11".repeat(32)}` };
    assertBadRequest(
      await postJson(`${v}/block`, { block: foreign, proposer_signature: goodProposerSig }),
      /not produced by this node/,
    );
    // A proposer-only signature posted as the full aggregate does not verify.
    assertBadRequest(
      await postJson(`${v}/block`, { block: blockJson, signature: goodProposerSig }),
      /INVALID_BLOCK_SIGNATURE/,
    );
    assert.equal(chain.store.head.slot, 0);

    const data = AttestationData.toJson(chain.store.produceAttestationData(2));
    const att = SignedAttestation.toJson(
      signAttestation(interopSecretKey(1), 1, AttestationData.fromJson(data), chain.domains),
    );
    const a = `${v}/attestation`;
    assertBadRequest(await postJson(a, []), /non-empty/);
    assertBadRequest(await postJson(a, { ...(att as object), validator_index: "-1" }), /unsigned integer/);
    assertBadRequest(await postJson(a, { ...(att as object), validator_index: "9" }), /Unknown validator index 9/);
    assertBadRequest(
      await postJson(a, { ...(att as object), signature: `0x${"00".repeat(96)}` }),
      /BLS signature|INVALID_SIGNATURE/,
    );
    assertBadRequest(await postJson(a, { ...(att as object), data: { ...data, slot: "1.5" } }), /attestation/);
    // Malformed JSON is Fastify's 400, in the same {code, message} shape.
    const res = await fetch(a, { method: "POST", headers: { "content-type": "application/json" }, body: "{nope" });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: number }).code, 400);
  });
});
