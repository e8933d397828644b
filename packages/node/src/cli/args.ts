// Flag parsers: a wrong flag is a clear one-line error naming the flag, never a stack trace.
import { InvalidArgumentError } from "commander";

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got "${value}"`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function floatArg(minExclusive: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= minExclusive)
      throw new InvalidArgumentError(`expected a number > ${minExclusive}, got "${value}"`);
    return n;
  };
}

export const portArg = intArg(0, 65535);

export function indicesArg(value: string): number[] {
  const out: number[] = [];
  for (const part of value
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (from > to) throw new InvalidArgumentError(`bad range "${part}"`);
      for (let i = from; i <= to; i++) out.push(i);
    } else if (/^\d+$/.test(part)) {
      out.push(Number(part));
    } else {
      throw new InvalidArgumentError(`expected indices like "0,1,5-7", got "${value}"`);
    }
  }
  return out;
}

export function listArg(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
