// @libp2p/gossipsub keeps each message's fast id (our hash of its raw bytes, fastMsgIdFn in
// options.ts) for the whole seen TTL, beside the message id it stands for. The fast id only spares
// a copy its decompression; the seen cache alone decides that a message is a duplicate. This gives
// the fast ids the shorter copy window (gossipCopyWindowMs). It reaches into the library's internals
// (version pinned): if their shape changes it leaves them alone and returns false, and a test fails
// loudly.

interface FastIdCacheInternals {
  entries: Map<string, unknown>;
  validityMs: number;
}

function fastIdCacheOf(pubsub: unknown): FastIdCacheInternals | null {
  const cache = (pubsub as { fastMsgIdCache?: Partial<FastIdCacheInternals> }).fastMsgIdCache;
  if (
    cache === undefined ||
    cache === null ||
    !(cache.entries instanceof Map) ||
    typeof cache.validityMs !== "number"
  ) {
    return null;
  }
  return cache as FastIdCacheInternals;
}

/**
 * Makes fast ids cached from now on expire `ttlMs` after they are cached; false when the internals
 * are not there. Call it before the first message arrives: the cache prunes in insertion order and
 * stops at the first live entry, so every entry must share one lifetime.
 */
export function capFastIdCacheLifetime(pubsub: unknown, ttlMs: number): boolean {
  const cache = fastIdCacheOf(pubsub);
  if (cache === null) return false;
  cache.validityMs = ttlMs;
  return true;
}

/** For tests: how long the fast-id cache keeps an entry, if the internals are there. */
export function fastIdCacheLifetime(pubsub: unknown): number | undefined {
  return fastIdCacheOf(pubsub)?.validityMs;
}
