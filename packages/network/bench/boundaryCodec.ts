// Which is cheaper for the driver thread: receiving gossip values structured-cloned (and mending
// the BitArray prototypes the clone loses) or receiving SSZ bytes and decoding them there? A worker
// posts batches of 64 of each kind both ways; the main thread times receiveMessageOnPort (which
// deserialises the clone) plus whatever decoding it still has to do.
// Run: node packages/network/bench/boundaryCodec.ts
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { AggregationBits, SignedAggregatedAttestation, SignedAttestation, SignedBlock } from "@metronome/chain";

const BATCH = 64;
const BIT_ARRAY_PROTOTYPE = Object.getPrototypeOf(AggregationBits.defaultValue()) as object;
const ROUNDS = 300;

const root = (f: number) => new Uint8Array(32).fill(f);
const cp = (slot: number) => ({ root: root(slot), slot });
const data = { slot: 9, head: cp(9), target: cp(8), source: cp(4) };
const att = (i: number) => ({ validatorIndex: i, data, signature: new Uint8Array(96).fill(i) });
const bits = () => AggregationBits.deserialize(new Uint8Array(64).fill(0xff));
const agg = () => ({ aggregationBits: bits(), data, signature: new Uint8Array(96).fill(1) });
const block = () => ({
  block: {
    slot: 9,
    proposerIndex: 1,
    parentRoot: root(1),
    stateRoot: root(2),
    body: { attestations: Array.from({ length: 8 }, () => ({ aggregationBits: bits(), data })) },
  },
  signature: new Uint8Array(96).fill(3),
});

type Case = {
  name: string;
  values: unknown[];
  type: { serialize(v: never): Uint8Array; deserialize(b: Uint8Array): unknown };
  mend: (v: never) => void;
};
const mendAgg = (v: { aggregationBits: { uint8Array: Uint8Array; bitLen: number } }) => {
  Object.setPrototypeOf(v.aggregationBits, BIT_ARRAY_PROTOTYPE);
};
const cases: Case[] = [
  {
    name: "attestation",
    values: Array.from({ length: BATCH }, (_, i) => att(i)),
    type: SignedAttestation as never,
    mend: () => {},
  },
  {
    name: "aggregate",
    values: Array.from({ length: BATCH }, agg),
    type: SignedAggregatedAttestation as never,
    mend: mendAgg as never,
  },
  {
    name: "block(8 atts)",
    values: Array.from({ length: BATCH }, block),
    type: SignedBlock as never,
    mend: ((b: { block: { body: { attestations: never[] } } }) => {
      for (const a of b.block.body.attestations) mendAgg(a);
    }) as never,
  },
];

function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

for (const c of cases) {
  const { port1, port2 } = new MessageChannel();
  const bytes = c.values.map((v) => c.type.serialize(v as never));
  let cloneMs = 0;
  let sszMs = 0;
  for (let r = 0; r < ROUNDS; r++) {
    port1.postMessage(c.values);
    cloneMs += time(() => {
      const got = receiveMessageOnPort(port2)?.message as never[];
      for (const v of got) c.mend(v);
    });
    port1.postMessage(bytes);
    sszMs += time(() => {
      const got = receiveMessageOnPort(port2)?.message as Uint8Array[];
      for (const b of got) c.type.deserialize(b);
    });
  }
  const per = (ms: number) => ((ms / (ROUNDS * BATCH)) * 1000).toFixed(2);
  console.log(`${c.name.padEnd(14)} clone+mend ${per(cloneMs)} us/msg   ssz bytes+decode ${per(sszMs)} us/msg`);
  port1.close();
}
