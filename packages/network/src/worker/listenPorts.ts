// A restarted network worker listens where the first one did: a listen address asking for TCP
// port 0 is pinned to the port the first worker was given (peers and bootnode lists know it).

/** `listen` with each `/tcp/0` replaced by the port bound for the same IP in `bound`. */
export function pinListenPorts(listen: readonly string[] | undefined, bound: readonly string[]): string[] | undefined {
  if (listen === undefined) return undefined;
  return listen.map((addr) => {
    const match = /^(\/ip[46]\/[^/]+)\/tcp\/0(\/.*)?$/.exec(addr);
    if (match === null) return addr;
    const [, ip, rest = ""] = match;
    const anyAddress = ip === "/ip4/0.0.0.0" || ip === "/ip6/::";
    const port = bound
      .map((b) => /^(\/ip[46]\/[^/]+)\/tcp\/(\d+)/.exec(b))
      .find((m) => m !== null && (anyAddress || m[1] === ip))?.[2];
    return port === undefined ? addr : `${ip}/tcp/${port}${rest}`;
  });
}
