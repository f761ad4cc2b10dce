"""Incidents (docs/design.md §17): an outage as a record with its evidence and timeline, the
acknowledgement links, escalation and the post-mortem draft."""
