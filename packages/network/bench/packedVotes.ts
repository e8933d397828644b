// What packing a vote's roots and signature into one buffer (src/boundary/packVote.ts) saves the
// driver thread: a worker-side batch of 256 aggregates, each decoded from its own bytes as gossip
// is, posted across a MessageChannel as is and packed. Prints, for each, the ArrayBuffers the
// receiving side gets per vote, its time to receive and revive a vote, and the glibc brk heap
// (`[heap]` in /proc/self/smaps) after holding 100,000 received votes (as a flood's garbage waits
// for V8's next major collection), with the ratios in the same run.
// Run: node --expose-gc packages/network/bench/packedVotes.ts
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { AggregationBits, SignedAggregatedAttestation } from "@metronome/chain";
import { packGossipValue } from "../src/boundary/packVote.ts";
import { reviveAggregate } from "../src/boundary/revive.ts";

const BATCH = 256;
const HELD_VOTES = 100_000;

function aggregateBytes(i: number): Uint8Array {
  const root = (f: number) => new Uint8Array(32).fill(f & 0xff);
  return SignedAggregatedAttestation.serialize({
    aggregationBits: AggregationBits.deserialize(Uint8Array.of(i % 2 === 0 ? 0x15 : 0x11)),
    data: {
      slot: i,
      head: { root: root(i), slot: i },
      target: { root: root(i + 1), slot: i },
      source: { root: root(i + 2), slot: 0 },
    },
    signature: new Uint8Array(96).fill(i & 0xff),
  });
}

/** brk-heap RSS in MiB (Linux; NaN elsewhere). */
function brkHeapMib(): number {
  try {
    let inHeap = false;
    let kib = 0;
    for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.trimEnd().endsWith("[heap]");
      else if (inHeap && line.startsWith("Rss:")) kib += Number(line.split(/\s+/)[1]);
    }
    return kib / 1024;
  } catch {
    return Number.NaN;
  }
}

type Result = { buffersPerVote: number; usPerVote: number; heldBrkMib: number };

function run(pack: boolean): Result {
  const { port1, port2 } = new MessageChannel();
  const bytes = Array.from({ length: BATCH }, (_, i) => aggregateBytes(i));
  const batch = () =>
    bytes.map((b) => {
      const v = SignedAggregatedAttestation.deserialize(b);
      return pack ? packGossipValue("aggregation", v) : v;
    });
  const held: SignedAggregatedAttestation[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const brkBefore = brkHeapMib();
  let receiveNs = 0n;
  let buffers = 0;
  while (held.length < HELD_VOTES) {
    port1.postMessage(batch());
    const t0 = process.hrtime.bigint();
    const got = receiveMessageOnPort(port2)?.message as SignedAggregatedAttestation[];
    for (const v of got) reviveAggregate(v);
    receiveNs += process.hrtime.bigint() - t0;
    if (held.length === 0) {
      const seen = new Set<ArrayBufferLike>();
      for (const v of got) {
        for (const b of [v.data.head.root, v.data.target.root, v.data.source.root, v.signature]) seen.add(b.buffer);
        seen.add(v.aggregationBits.uint8Array.buffer);
      }
      buffers = seen.size / got.length;
    }
    held.push(...got);
  }
  const heldBrkMib = brkHeapMib() - brkBefore;
  port1.close();
  held.length = 0;
  gc?.();
  return { buffersPerVote: buffers, usPerVote: Number(receiveNs) / 1000 / HELD_VOTES, heldBrkMib };
}

const mode = process.argv[2];
if (mode === "as-is" || mode === "packed") {
  // One mode in a process of its own: a brk heap another run has grown and freed would flatter it.
  console.log(JSON.stringify(run(mode === "packed")));
} else {
  const child = (m: string): Result => {
    const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), m], {
      encoding: "utf8",
    });
    return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Result;
  };
  const plain = child("as-is");
  const packed = child("packed");
  const row = (name: string, r: Result) =>
    console.log(
      `${name.padEnd(9)} ${r.buffersPerVote.toFixed(0)} ArrayBuffers/vote   receive+revive ${r.usPerVote.toFixed(2)} us/vote   brk heap +${r.heldBrkMib.toFixed(1)} MiB holding ${HELD_VOTES} votes`,
    );
  row("as is", plain);
  row("packed", packed);
  console.log(
    `packed / as is: ArrayBuffers ${(packed.buffersPerVote / plain.buffersPerVote).toFixed(2)}, time ${(packed.usPerVote / plain.usPerVote).toFixed(2)}, brk heap ${(packed.heldBrkMib / plain.heldBrkMib).toFixed(2)}`,
  );
}
