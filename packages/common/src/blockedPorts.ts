// Ports the fetch standard refuses to connect to ("bad ports", https://fetch.spec.whatwg.org/#bad-port).
// Node's global fetch is undici, which fails every request to one of them with "bad port" before
// opening a connection: a node serving HTTP there is unreachable for the devnet launcher, the
// validator client, browsers and any other fetch-based tool, while the port itself works fine for
// curl. So Metronome refuses such a port up front, naming it, instead of serving an API nobody can call.

/**
 * The list exactly as Node 24.9's bundled undici 7.16.0 enforces it (lib/web/fetch/constants.js,
 * `badPorts`), which is the fetch standard's table (the standard also lists 0, which here means
 * "disabled" and never reaches fetch). A test checks it against the running Node's fetch.
 */
export const FETCH_BLOCKED_PORTS: readonly number[] = [
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
];

const BLOCKED = new Set(FETCH_BLOCKED_PORTS);

export function isFetchBlockedPort(port: number): boolean {
  return BLOCKED.has(port);
}

/** The one-line reason used by every refusal, so an operator sees the same explanation everywhere. */
export function blockedPortReason(port: number): string {
  return `port ${port} is on the fetch standard's blocked-port list (https://fetch.spec.whatwg.org/#bad-port): Node's fetch, browsers and fetch-based clients (the devnet launcher, the validator client) refuse to connect to it`;
}

/** Throws `<what> <port>: <reason>; choose another port` when `port` is blocked (0, "disabled", is fine). */
export function assertFetchablePort(port: number, what: string): void {
  if (isFetchBlockedPort(port)) throw new Error(`${what} ${port}: ${blockedPortReason(port)}; choose another port`);
}

/** The port a URL connects to: its explicit port, else the scheme's default. */
export function urlPort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" ? 443 : 80;
}

/** As assertFetchablePort, for the port of an http(s) URL this process will fetch from. */
export function assertFetchableUrl(raw: string, what: string): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return; // Not a URL: the caller's own parsing reports that.
  }
  const port = urlPort(url);
  if (isFetchBlockedPort(port)) throw new Error(`${what} ${raw}: ${blockedPortReason(port)}; choose another port`);
}
