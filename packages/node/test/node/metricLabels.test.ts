// The metrics package may not import the network package (the import graph runs the other way),
// so the label values its specs declare are spelled twice: once where the network counts the
// events, once in the spec. The bridge copies one onto the other by key; a value spelled
// differently would be dropped or exported under a label the spec does not list. These tests pin
// each pair equal.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RUNTIME_METRICS } from "@metronome/metrics";
import {
  DEFERRED_PENALTY_OUTCOMES,
  GOSSIP_STAT_KINDS,
  GOSSIP_VERDICTS,
  PEER_ACTIONS,
  REQRESP_OUTCOMES,
  REQRESP_STAT_METHODS,
  SCORE_DISCONNECT_REASONS,
} from "@metronome/network";
import { REQRESP_PROTOCOL_LABEL } from "../../src/node/networkMetricsSync.ts";

const runtime = RUNTIME_METRICS.runtime;
const sorted = (values: readonly string[]) => [...values].sort();

describe("metric label values agree with the network's own spellings", () => {
  it("req/resp results and methods", () => {
    assert.deepEqual(sorted(runtime.reqrespRequests.labelValues.result), sorted(REQRESP_OUTCOMES));
    // The bridge maps each method the network counts to the protocol label the spec lists.
    assert.deepEqual(sorted(Object.keys(REQRESP_PROTOCOL_LABEL)), sorted(REQRESP_STAT_METHODS));
    assert.deepEqual(
      sorted(runtime.reqrespRequests.labelValues.protocol),
      sorted(Object.values(REQRESP_PROTOCOL_LABEL)),
    );
  });

  it("gossip topic kinds and verdicts", () => {
    assert.deepEqual(sorted(runtime.gossipMessages.labelValues.topic), sorted(GOSSIP_STAT_KINDS));
    assert.deepEqual(sorted(runtime.gossipMessages.labelValues.result), sorted(GOSSIP_VERDICTS));
  });

  it("peer-score penalties, disconnection reasons and deferred-penalty outcomes", () => {
    assert.deepEqual(sorted(runtime.peerScorePenalties.labelValues.action), sorted(PEER_ACTIONS));
    assert.deepEqual(sorted(runtime.peerScoreDisconnects.labelValues.reason), sorted(SCORE_DISCONNECT_REASONS));
    assert.deepEqual(sorted(runtime.peerScorePenaltiesDeferred.labelValues.outcome), sorted(DEFERRED_PENALTY_OUTCOMES));
  });
});
