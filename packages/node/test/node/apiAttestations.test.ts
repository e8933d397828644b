// Attestations posted to the validator API go through the BLS verifier in bounded chunks, leave it
// room for gossip, and are applied only on the verifier's verdict. The chain and the verifier are
// stand-ins here: this tests the code around them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "@metronome/api";
import type { BlsVerifier, BlsVerifierStats, SignatureSetInput } from "@metronome/bls";
import { RejectionCode, type SignedAttestation } from "@metronome/chain";
import { ApiServerStats } from "../../src/api/serverLimits.ts";
import type { AttestationOutcome, ChainService, PreparedAttestation } from "../../src/chain/chainService.ts";
import { API_VERIFIER_RESERVE, API_VERIFY_CHUNK, publishApiAttestations } from "../../src/node/apiAttestations.ts";

function att(i: number): SignedAttestation {
  return { validatorIndex: i, data: {} as SignedAttestation["data"], signature: new Uint8Array(96) };
}

/** Prepares every attestation for verification; odd validator indices are structurally rejected. */
function fakeChain(applied: number[]): ChainService {
  return {
    prepareAttestation: (a: SignedAttestation): PreparedAttestation => {
      if (a.validatorIndex % 10 === 9)
        return { kind: "done", outcome: { status: "rejected", code: RejectionCode.UNKNOWN_HEAD_BLOCK } };
      return {
        kind: "verify",
        set: {
          message: new Uint8Array(32),
          publicKey: { toBytes: () => new Uint8Array(96) },
          signature: new Uint8Array([a.validatorIndex]),
        } as never,
        complete: (valid: boolean): AttestationOutcome => {
          if (!valid) return { status: "rejected", code: RejectionCode.INVALID_SIGNATURE };
          applied.push(a.validatorIndex);
          return { status: "accepted" };
        },
      };
    },
  } as unknown as ChainService;
}

/** Valid when the signature's first byte is even. Room is what `room()` says. */
function fakeVerifier(room: () => number, calls: number[]): BlsVerifier {
  return {
    verifySets: async (sets: readonly SignatureSetInput[]) => {
      assert.ok(sets.length + API_VERIFIER_RESERVE <= room(), "a chunk was sent without leaving gossip its room");
      calls.push(sets.length);
      return sets.map((s) => (s.signature[0] as number) % 2 === 0);
    },
    verifyAggregateSignature: async () => assert.fail("the attestation API verifies no block"),
    capacityLeft: room,
    validatorCount: () => 0,
    stats: () => ({}) as BlsVerifierStats,
    close: async () => {},
  };
}

describe("validator API attestations", () => {
  it("verifies in chunks through the verifier and applies only what it accepts", async () => {
    const applied: number[] = [];
    const calls: number[] = [];
    const published: number[] = [];
    const stats = new ApiServerStats();
    const atts = Array.from({ length: 100 }, (_, i) => att(i));
    const results = await publishApiAttestations(
      {
        chain: fakeChain(applied),
        verifier: fakeVerifier(() => 1000, calls),
        stats,
        publish: (a) => published.push(a.validatorIndex),
      },
      atts,
    );
    assert.ok(calls.every((n) => n <= API_VERIFY_CHUNK));
    assert.equal(
      calls.reduce((a, b) => a + b, 0),
      90,
    );
    const even = atts.map((a) => a.validatorIndex).filter((i) => i % 10 !== 9 && i % 2 === 0);
    assert.deepEqual(applied, even);
    assert.deepEqual(published, even);
    assert.equal(stats.signatures.valid, even.length);
    assert.equal(stats.signatures.invalid, 90 - even.length);
    assert.deepEqual(results[0], { status: "imported" });
    assert.deepEqual(results[1], { status: "rejected", code: "INVALID_SIGNATURE" });
    assert.deepEqual(results[9], { status: "rejected", code: "UNKNOWN_HEAD_BLOCK" });
  });

  it("waits while the verifier has no room beyond gossip's reserve, then answers 503 and counts it", async () => {
    const calls: number[] = [];
    const stats = new ApiServerStats();
    await assert.rejects(
      publishApiAttestations(
        {
          chain: fakeChain([]),
          verifier: fakeVerifier(() => API_VERIFIER_RESERVE + 1, calls),
          stats,
          publish: () => {},
          waitMs: 100,
        },
        [att(0), att(2)],
      ),
      (err) => err instanceof ApiError && err.statusCode === 503,
    );
    assert.deepEqual(calls, []);
    assert.equal(stats.requestsRefused.verifier_busy, 1);
  });
});
