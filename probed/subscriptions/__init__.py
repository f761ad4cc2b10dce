"""Status page subscriptions (docs/design.md §18.4): double opt-in by email, webhook
subscribers, and the mails of incident news and maintenance through a durable queue."""
