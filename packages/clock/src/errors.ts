// Typed errors for clock options that cannot describe a usable time model.
/**
 * Thrown when a clock, tracker or timer is built from options that cannot describe a usable
 * time model. `option` names the offending field so a config loader can point at it.
 */
export class ClockOptionsError extends Error {
  readonly option: string;

  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.name = "ClockOptionsError";
    this.option = option;
  }
}

export function requireInteger(option: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new ClockOptionsError(option, `must be a safe integer, got ${String(value)}`);
  }
  if (value < min) {
    throw new ClockOptionsError(option, `must be >= ${min}, got ${value}`);
  }
  return value;
}
