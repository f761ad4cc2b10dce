"""The monitoring engine: the pure state machine, one check end to end, scheduling and pauses."""
