// Operator-facing logs: one readable line per event, `time LEVEL [module] message key=value ...`,
// or one JSON object per line with --log-format json (for log shippers and the devnet launcher).

export const LogLevels = ["error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LogLevels)[number];
export type LogFormat = "text" | "json";
export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Where lines go; defaults to stdout. Tests pass a collector. */
  write?: (line: string) => void;
  now?: () => Date;
}

export class Logger {
  private readonly options: Required<LoggerOptions>;
  private readonly module: string;
  private readonly rank: number;

  constructor(options: LoggerOptions, module = "node") {
    this.options = {
      write: (line) => process.stdout.write(`${line}\n`),
      now: () => new Date(),
      ...options,
    };
    this.module = module;
    this.rank = LogLevels.indexOf(options.level);
  }

  child(module: string): Logger {
    return new Logger(this.options, module);
  }

  isEnabled(level: LogLevel): boolean {
    return LogLevels.indexOf(level) <= this.rank;
  }

  error(message: string, fields?: LogFields, err?: unknown): void {
    this.log("error", message, err === undefined ? fields : { ...fields, error: errorText(err) });
  }
  warn(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log("info", message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.log("debug", message, fields);
  }
  trace(message: string, fields?: LogFields): void {
    this.log("trace", message, fields);
  }

  private log(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.isEnabled(level)) return;
    const time = this.options.now().toISOString();
    if (this.options.format === "json") {
      this.options.write(JSON.stringify({ time, level, module: this.module, msg: message, ...fields }));
      return;
    }
    const suffix = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${formatValue(v)}`)
          .join(" ")
      : "";
    this.options.write(
      `${time} ${level.toUpperCase().padEnd(5)} [${this.module}] ${message}${suffix ? ` ${suffix}` : ""}`,
    );
  }
}

function formatValue(v: unknown): string {
  if (typeof v === "string") return /\s/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return JSON.stringify(v);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function parseLogLevel(value: string): LogLevel {
  const level = value.toLowerCase() as LogLevel;
  if (!LogLevels.includes(level))
    throw new Error(`invalid log level "${value}"; expected one of ${LogLevels.join(", ")}`);
  return level;
}
