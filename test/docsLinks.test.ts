// Every relative link in the docs must resolve: docs/spec/ points into packages/... for the code
// behind each rule, and a file moved or renamed must not leave the spec pointing at nothing.
// Checked: docs/**/*.md, the root README.md and packages/*/README.md. A link to a Markdown file
// with a #fragment must also name a heading of that file (GitHub's anchor rules).
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface BrokenLink {
  file: string;
  line: number;
  target: string;
  problem: string;
}

/** Markdown files the check covers, relative to `root`. */
function markdownFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) found.push(relative(root, path));
    }
  };
  if (existsSync(join(root, "docs"))) walk(join(root, "docs"));
  if (existsSync(join(root, "README.md"))) found.push("README.md");
  const packages = join(root, "packages");
  if (existsSync(packages)) {
    for (const name of readdirSync(packages)) {
      if (existsSync(join(packages, name, "README.md"))) found.push(join("packages", name, "README.md"));
    }
  }
  return found.sort();
}

/** Lines outside fenced code blocks, with inline code spans blanked (they hold no links). */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, (span) => " ".repeat(span.length));
  });
}

const INLINE_LINK = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/;

function linkTargets(line: string): string[] {
  const targets = [...line.matchAll(INLINE_LINK)].map((m) => m[1] as string);
  const definition = REFERENCE_DEFINITION.exec(line);
  if (definition !== null) targets.push(definition[1] as string);
  return targets;
}

function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown.replace(/`/g, ""))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const slug = (heading[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function checkTarget(root: string, file: string, target: string): string | null {
  const [rawPath = "", fragment] = target.split("#", 2);
  const path = decodeURIComponent(rawPath.split("?")[0] as string);
  const resolved = path === "" ? join(root, file) : resolve(join(root, dirname(file)), path);
  if (!resolved.startsWith(root)) return "points outside the repository";
  if (!existsSync(resolved)) return "no such file";
  if (fragment === undefined || fragment === "" || !resolved.endsWith(".md") || !statSync(resolved).isFile()) {
    return null;
  }
  const anchors = headingAnchors(readFileSync(resolved, "utf8"));
  return anchors.has(fragment.toLowerCase()) ? null : `no heading #${fragment} in ${relative(root, resolved)}`;
}

function brokenLinks(root: string): BrokenLink[] {
  const broken: BrokenLink[] = [];
  for (const file of markdownFiles(root)) {
    proseLines(readFileSync(join(root, file), "utf8")).forEach((line, index) => {
      for (const target of linkTargets(line)) {
        if (isExternal(target)) continue;
        const problem = checkTarget(root, file, target);
        if (problem !== null) broken.push({ file, line: index + 1, target, problem });
      }
    });
  }
  return broken;
}

describe("documentation links", () => {
  it("every relative link in docs/, README.md and packages/*/README.md resolves", () => {
    const files = markdownFiles(REPO_ROOT);
    assert.ok(files.includes(join("docs", "spec", "README.md")), "docs/spec/README.md is part of the check");
    const broken = brokenLinks(REPO_ROOT);
    assert.deepEqual(
      broken.map((b) => `${b.file}:${b.line}: ${b.target} (${b.problem})`),
      [],
      "broken documentation links",
    );
  });

  it("the spec links into the code it describes", () => {
    const specFiles = markdownFiles(REPO_ROOT).filter((f) => f.startsWith(join("docs", "spec")));
    for (const file of specFiles) {
      const codeLinks = proseLines(readFileSync(join(REPO_ROOT, file), "utf8"))
        .flatMap(linkTargets)
        .filter((t) => t.includes("packages/"));
      assert.ok(codeLinks.length > 0, `${file} links to no code under packages/`);
    }
  });

  it("finds a missing file, a missing heading and a link leaving the repository", () => {
    const root = mkdtempSync(join(tmpdir(), "metronome-doclinks-"));
    try {
      writeFileSync(join(root, "README.md"), "# Top\n\n## A section\n\nSee [docs](docs/a.md).\n");
      const docs = join(root, "docs");
      mkdirSync(docs);
      writeFileSync(
        join(docs, "a.md"),
        [
          "# A",
          "[ok](../README.md#a-section) [gone](missing.ts) [bad anchor](../README.md#nope)",
          "[outside](../../elsewhere.md) [web](https://example.org/x) `[in code](nowhere.md)`",
          "```",
          "[fenced](nowhere.md)",
          "```",
          "[ref]: ./also-missing.md",
        ].join("\n"),
      );
      const found = brokenLinks(root).map((b) => `${b.file}:${b.line}: ${b.target}`);
      assert.deepEqual(found, [
        `${join("docs", "a.md")}:2: missing.ts`,
        `${join("docs", "a.md")}:2: ../README.md#nope`,
        `${join("docs", "a.md")}:3: ../../elsewhere.md`,
        `${join("docs", "a.md")}:7: ./also-missing.md`,
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
