// The head monitor's event payloads: Beacon-API integers are decimal strings read exactly; the
// chain's largest slot 2^53 - 1 arrives whole, a larger one is a malformed event, never rounded.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHeadEvent, parseReorgEvent } from "../src/headEvents.ts";
import { MalformedEventError } from "../src/sseStream.ts";

const ROOT = `0x${"ab".repeat(32)}`;
const head = (slot: unknown) => JSON.stringify({ slot, block: ROOT });

describe("head event payloads", () => {
  it("a slot of 2^53 - 1 (16 digits) is read whole", () => {
    assert.deepEqual(parseHeadEvent(head("9007199254740991")), { slot: Number.MAX_SAFE_INTEGER, root: ROOT });
  });

  it("a slot above 2^53 - 1, a bare number or a negative one is malformed, naming the field", () => {
    for (const [slot, message] of [
      ["9007199254740993", /^slot: 9007199254740993 is above 2\^53 - 1 \(9007199254740991\)/],
      ["18446744073709551615", /^slot: 18446744073709551615 is above 2\^53 - 1/],
      [12, /^slot: expected an unsigned integer as a decimal string, not a JSON number$/],
      ["-1", /^slot: expected an unsigned integer as a decimal string$/],
    ] as const) {
      assert.throws(
        () => parseHeadEvent(head(slot)),
        (err: unknown) => err instanceof MalformedEventError && message.test(err.message),
      );
    }
    const reorg = JSON.stringify({
      slot: "5",
      depth: "18446744073709551615",
      old_head_block: ROOT,
      new_head_block: ROOT,
    });
    assert.throws(
      () => parseReorgEvent("http://node", reorg),
      /^MalformedEventError: depth: 18446744073709551615 is above/,
    );
  });
});
