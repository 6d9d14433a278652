"""The transport-neutral conversation: a pure state machine from (state, turn) to (state, replies)."""
