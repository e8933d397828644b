// @libp2p/gossipsub keeps a peer-score delivery record for every message id for a fixed two
// minutes (its TimeCacheDuration, not an option). Metronome's scoring leaves mesh-delivery credit
// (P3) off, so a record only matters while copies of its message still come from other peers: it
// decides first delivery (P2) and whose copies of a rejected message are penalised (P4). Under a
// flood every record, with its own Set of peers, was the largest live structure on the network
// worker's heap. This gives them the copy window instead (gossipCopyWindowMs in options.ts). It
// reaches into the library's internals (version pinned): if their shape changes it leaves them
// alone and returns false, and a test fails loudly.

interface ExpiryEntry {
  msgId: string;
  expire: number;
}

interface DeliveryRecordsInternals {
  records: Map<string, unknown>;
  queue: { peekBack(): ExpiryEntry | undefined };
  ensureRecord(msgIdStr: string): unknown;
}

function deliveryRecordsOf(pubsub: unknown): DeliveryRecordsInternals | null {
  const records = (pubsub as { score?: { deliveryRecords?: Partial<DeliveryRecordsInternals> } }).score
    ?.deliveryRecords;
  if (
    records === undefined ||
    !(records.records instanceof Map) ||
    typeof records.ensureRecord !== "function" ||
    typeof records.queue?.peekBack !== "function"
  ) {
    return null;
  }
  return records as DeliveryRecordsInternals;
}

/** Makes new delivery records expire `ttlMs` after creation; false when the internals are not there. */
export function capDeliveryRecordLifetime(pubsub: unknown, ttlMs: number, now: () => number = Date.now): boolean {
  const records = deliveryRecordsOf(pubsub);
  if (records === null) return false;
  const ensureRecord = records.ensureRecord.bind(records);
  records.ensureRecord = (msgIdStr: string) => {
    const sizeBefore = records.records.size;
    const record = ensureRecord(msgIdStr);
    if (records.records.size > sizeBefore) {
      // A new record was queued last; every entry gets the same lifetime, so the queue stays sorted.
      const entry = records.queue.peekBack();
      if (entry?.msgId === msgIdStr) entry.expire = now() + ttlMs;
    }
    return record;
  };
  return true;
}

/** For tests: the expiry of a message id's delivery record, if the internals are there. */
export function deliveryRecordExpiry(pubsub: unknown, msgIdStr: string): number | undefined {
  const records = deliveryRecordsOf(pubsub);
  if (records === null) return undefined;
  records.ensureRecord(msgIdStr);
  return records.queue.peekBack()?.expire;
}
