// Bearer tokens for HTTP APIs (Lighthouse's api-token.txt convention): one token per file,
// generated owner-only when absent, compared in constant time.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, readFile, writeFile } from "node:fs/promises";

export const TOKEN_FILE_NAME = "api-token.txt";

/**
 * The API token: read from `path` (trimmed, at least 16 characters), or, when the file does not
 * exist and `create` is set, generated and written owner-only.
 */
export async function loadOrCreateToken(path: string, create: boolean): Promise<string> {
  if (!existsSync(path)) {
    if (!create) throw new Error(`token file ${path} does not exist`);
    const token = randomBytes(32).toString("hex");
    await writeFile(path, `${token}\n`, { mode: 0o600, flag: "wx" });
    // The mode above is filtered by the umask; make it exact.
    await chmod(path, 0o600);
    return token;
  }
  const token = (await readFile(path, "utf8")).trim();
  if (token.length < 16 || /\s/.test(token)) {
    throw new Error(`token file ${path} must hold one token of at least 16 characters without spaces`);
  }
  return token;
}

/** A checker for `Authorization: Bearer <token>` headers; the comparison takes constant time. */
export function bearerChecker(token: string): (header: string | undefined) => boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  return (header) => {
    const given = Buffer.from(header ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}
