// A decoded vote holds each of its roots and its signature in an ArrayBuffer of its own (the SSZ
// decoder copies every field out of the message). Cloned to the driver thread, each ArrayBuffer
// is a separate allocation there: a backing store in glibc's heap and an object in V8's, freed
// only when V8 collects the vote, which under a flood is at its next major collection. Packing a
// vote's fixed-size byte fields (the three checkpoint roots and the signature: 192 bytes) into one
// buffer before it crosses makes them one allocation: 100,000 aggregates held on the receiving
// side grew glibc's heap by 62 MiB instead of 115 (bench/packedVotes.ts, docs/performance.md).
// The aggregation bits stay apart: a bitlist can be large, and fork choice keeps a vote's data,
// which should not pin its bits. No I/O: the value is changed in place (the worker owns it until
// it posts it) and returned.
import type { AttestationData, SignedAggregatedAttestation, SignedAttestation } from "@metronome/chain";
import type { GossipValueByKind } from "../gossip/codec.ts";
import type { GossipKind } from "../gossip/topics.ts";

type Vote = { data: AttestationData; signature: Uint8Array };

/** The byte fields a packed vote shares one buffer for, in their order in that buffer. */
function fields(vote: Vote): Uint8Array[] {
  return [vote.data.head.root, vote.data.target.root, vote.data.source.root, vote.signature];
}

/** Moves the vote's roots and signature into one buffer (views into it replace the fields). */
export function packVoteBytes<V extends Vote>(vote: V): V {
  const parts = fields(vote);
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const packed = new Uint8Array(length);
  let offset = 0;
  const view = (part: Uint8Array): Uint8Array => {
    packed.set(part, offset);
    const out = packed.subarray(offset, offset + part.byteLength);
    offset += part.byteLength;
    return out;
  };
  vote.data.head.root = view(vote.data.head.root);
  vote.data.target.root = view(vote.data.target.root);
  vote.data.source.root = view(vote.data.source.root);
  vote.signature = view(vote.signature);
  return vote;
}

/** A gossip value as it should cross the boundary: votes packed, blocks as they are. */
export function packGossipValue<K extends GossipKind>(kind: K, value: GossipValueByKind[K]): GossipValueByKind[K] {
  if (kind === "attestation") packVoteBytes(value as SignedAttestation);
  else if (kind === "aggregation") packVoteBytes(value as SignedAggregatedAttestation);
  return value;
}
