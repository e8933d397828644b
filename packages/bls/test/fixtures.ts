// Real interop keys and real signatures, made once per test file.
import { interopSecretKeys, type SecretKey } from "@metronome/chain";
import { signatureSet } from "../src/signatureSets.ts";
import type { SignatureSetInput } from "../src/types.ts";

let keys: SecretKey[] = [];

export function secretKeys(count: number): SecretKey[] {
  if (keys.length < count) keys = interopSecretKeys(count);
  return keys.slice(0, count);
}

/** Message `seed + i` (distinct per set), signed by validator i. */
export function distinctMessageSets(count: number, seed = 0): SignatureSetInput[] {
  return secretKeys(count).map((sk, i) => {
    const message = new Uint8Array(32);
    new DataView(message.buffer).setUint32(0, seed + i);
    return signatureSet(message, sk.toPublicKey(), sk.sign(message).toBytes());
  });
}

/** Every validator signs the same 32-byte root (one slot's attestations to one AttestationData). */
export function sameMessageSets(count: number, fill = 0xab): SignatureSetInput[] {
  const message = new Uint8Array(32).fill(fill);
  return secretKeys(count).map((sk) => signatureSet(message, sk.toPublicKey(), sk.sign(message).toBytes()));
}

/** The same set with a valid signature by the right key over a different message. */
export function withWrongSignature(set: SignatureSetInput, signer: SecretKey): SignatureSetInput {
  const other = new Uint8Array(32).fill(0xee);
  return { ...set, signature: signer.sign(other).toBytes() };
}

export async function waitFor(predicate: () => boolean, deadlineMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!predicate()) {
    if (performance.now() - started > deadlineMs)
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return performance.now() - started;
}

/** Rejects instead of hanging when `promise` does not settle in time. */
export async function withDeadline<T>(promise: Promise<T>, deadlineMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${deadlineMs} ms`)), deadlineMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
