import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SignedAttestation } from "@metronome/chain";
import { MAX_PAYLOAD_SIZE } from "../src/encoding/limits.ts";
import { encodeVarint } from "../src/encoding/varint.ts";
import { isNetworkError } from "../src/errors.ts";
import { decodeGossipSsz, decompressGossipPayload, encodeGossipPayload } from "../src/gossip/codec.ts";
import { computeMessageId, gossipMessageId, MESSAGE_DOMAIN_VALID_SNAPPY } from "../src/gossip/messageId.ts";
import {
  aggregationTopic,
  attestationTopic,
  blockTopic,
  gossipTopicName,
  normalizeForkDigest,
  parseGossipTopic,
} from "../src/gossip/topics.ts";
import { sampleAttestation } from "./fixtures.ts";

const hex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("gossip topics", () => {
  it("formats the three topic shapes", () => {
    assert.equal(gossipTopicName(blockTopic("12345678")), "/leanconsensus/12345678/block/ssz_snappy");
    assert.equal(gossipTopicName(attestationTopic("12345678", 3)), "/leanconsensus/12345678/attestation_3/ssz_snappy");
    assert.equal(gossipTopicName(aggregationTopic("12345678")), "/leanconsensus/12345678/aggregation/ssz_snappy");
  });

  it("parses what it formats", () => {
    for (const topic of [
      blockTopic("00ff00ff"),
      attestationTopic("abcdef01", 0),
      attestationTopic("abcdef01", 17),
      aggregationTopic("deadbeef"),
    ]) {
      assert.deepEqual(parseGossipTopic(gossipTopicName(topic)), topic);
    }
  });

  it("refuses anything else", () => {
    for (const bad of [
      "",
      "/leanconsensus/12345678/block",
      "/leanconsensus/12345678/block/ssz",
      "/eth2/12345678/block/ssz_snappy",
      "leanconsensus/12345678/block/ssz_snappy",
      "/leanconsensus/1234567/block/ssz_snappy",
      "/leanconsensus/1234567G/block/ssz_snappy",
      "/leanconsensus/ABCDEF01/block/ssz_snappy",
      "/leanconsensus/12345678/blocks/ssz_snappy",
      "/leanconsensus/12345678/attestation_/ssz_snappy",
      "/leanconsensus/12345678/attestation_01/ssz_snappy",
      "/leanconsensus/12345678/attestation_-1/ssz_snappy",
      "/leanconsensus/12345678/attestation_1x/ssz_snappy",
      "/leanconsensus/12345678/block/ssz_snappy/",
    ]) {
      assert.equal(parseGossipTopic(bad), null, bad);
    }
  });

  it("normalizes fork digests", () => {
    assert.equal(normalizeForkDigest("0xABCDEF01"), "abcdef01");
    assert.equal(normalizeForkDigest(hex("0a0b0c0d")), "0a0b0c0d");
    assert.throws(
      () => normalizeForkDigest("abc"),
      (err) => isNetworkError(err),
    );
    assert.throws(
      () => normalizeForkDigest(new Uint8Array(5)),
      (err) => isNetworkError(err),
    );
  });
});

describe("gossip message id", () => {
  const topic = "/leanconsensus/12345678/block/ssz_snappy";

  it("matches hand-computed vectors for valid and invalid snappy", () => {
    // sha256(01000000 ++ le64(40) ++ topic ++ "hello")[0:20], computed outside this codebase.
    assert.equal(toHex(gossipMessageId(topic, hex("051068656c6c6f"))), "6a098f4e9f4a8c64934867821ecf418febd69d72");
    // sha256(00000000 ++ le64(40) ++ topic ++ ffffff)[0:20]
    assert.equal(toHex(gossipMessageId(topic, hex("ffffff"))), "a7d7bb0607b480dc4c7617703f738767f9f24a5d");
  });

  it("hashes the decompressed bytes, so equal content under different compressions has one id", () => {
    const literal = hex("051068656c6c6f");
    const viaLibrary = encodeGossipPayload(new TextEncoder().encode("hello"));
    assert.equal(toHex(gossipMessageId(topic, literal)), toHex(gossipMessageId(topic, viaLibrary)));
    assert.equal(
      toHex(gossipMessageId(topic, literal)),
      toHex(computeMessageId(MESSAGE_DOMAIN_VALID_SNAPPY, topic, new TextEncoder().encode("hello"))),
    );
  });

  it("depends on the topic", () => {
    const data = hex("051068656c6c6f");
    assert.notEqual(
      toHex(gossipMessageId(topic, data)),
      toHex(gossipMessageId(topic.replace("block", "aggregation"), data)),
    );
  });

  it("treats an oversized declared length as invalid snappy", () => {
    const oversized = new Uint8Array([...encodeVarint(MAX_PAYLOAD_SIZE + 1), 0]);
    assert.deepEqual(gossipMessageId(topic, oversized), computeMessageId(hex("00000000"), topic, oversized));
  });
});

describe("gossip payload decoding", () => {
  it("classifies failures by reason", () => {
    assert.deepEqual(decompressGossipPayload(hex("ffff")).ok, false);
    const notSnappy = decompressGossipPayload(hex("0102030405"));
    assert.equal(notSnappy.ok === false && notSnappy.reason, "not_snappy");
    const tooLarge = decompressGossipPayload(new Uint8Array([...encodeVarint(MAX_PAYLOAD_SIZE + 1), 0]));
    assert.equal(tooLarge.ok === false && tooLarge.reason, "too_large");
    const badSsz = decodeGossipSsz("attestation", new Uint8Array(10));
    assert.equal(badSsz.ok === false && badSsz.reason, "bad_ssz");
  });

  it("decodes a compressed attestation", () => {
    const att = sampleAttestation(5);
    const raw = encodeGossipPayload(SignedAttestation.serialize(att));
    const plain = decompressGossipPayload(raw);
    assert.ok(plain.ok);
    const decoded = decodeGossipSsz("attestation", plain.data);
    assert.ok(decoded.ok);
    assert.ok(SignedAttestation.equals(decoded.value, att));
  });
});
