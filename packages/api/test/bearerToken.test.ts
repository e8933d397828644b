import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { bearerChecker, isLoopbackHost, loadOrCreateToken } from "../src/bearerToken.ts";

describe("validator API token", () => {
  it("only loopback addresses count as loopback (anything else needs the token)", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) assert.equal(isLoopbackHost(h), true, h);
    for (const h of ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.org", "127.0.0.1.example.org"]) {
      assert.equal(isLoopbackHost(h), false, h);
    }
  });

  it("generates api-token.txt owner-only when absent, reads it back, refuses a missing explicit file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "metronome-token-"));
    try {
      const path = join(dir, "api-token.txt");
      const token = await loadOrCreateToken(path, true);
      assert.match(token, /^[0-9a-f]{64}$/);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.equal(await loadOrCreateToken(path, false), token);
      assert.equal((await readFile(path, "utf8")).trim(), token);
      await assert.rejects(loadOrCreateToken(join(dir, "missing.txt"), false), /does not exist/);
      await writeFile(join(dir, "short.txt"), "abc\n");
      await assert.rejects(loadOrCreateToken(join(dir, "short.txt"), false), /at least 16/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("accepts exactly `Bearer <token>`", () => {
    const check = bearerChecker("s".repeat(32));
    assert.equal(check(`Bearer ${"s".repeat(32)}`), true);
    for (const bad of [undefined, "", "s".repeat(32), `Bearer ${"s".repeat(31)}`, `bearer ${"s".repeat(32)}`]) {
      assert.equal(check(bad), false, String(bad));
    }
  });
});
