// The Beacon API's field lists of the head and chain_reorg events, as the node's event stream must
// send them: pinned by the events plugin's unit test and by the live-devnet operations test.

export const HEAD_EVENT_FIELDS = [
  "slot",
  "block",
  "state",
  "epoch_transition",
  "previous_duty_dependent_root",
  "current_duty_dependent_root",
  "execution_optimistic",
] as const;

export const CHAIN_REORG_EVENT_FIELDS = [
  "slot",
  "depth",
  "old_head_block",
  "new_head_block",
  "old_head_state",
  "new_head_state",
  "epoch",
  "execution_optimistic",
] as const;
