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

/** Moves the vote's roots and signature into one buffer (views into it replace the fields). */
export function packVoteBytes<V extends Vote>(vote: V): V {
  const { head, target, source } = vote.data;
  const parts = [head.root, target.root, source.root, vote.signature];
  const packed = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  const views = parts.map((part) => {
    packed.set(part, offset);
    offset += part.byteLength;
    return packed.subarray(offset - part.byteLength, offset);
  });
  [head.root, target.root, source.root, vote.signature] = views as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  return vote;
}

/** A gossip value as it should cross the boundary: votes packed, blocks as they are. */
export function packGossipValue<K extends GossipKind>(kind: K, value: GossipValueByKind[K]): GossipValueByKind[K] {
  if (kind === "attestation") packVoteBytes(value as SignedAttestation);
  else if (kind === "aggregation") packVoteBytes(value as SignedAggregatedAttestation);
  return value;
}
