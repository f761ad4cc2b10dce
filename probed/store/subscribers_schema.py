"""Schema step: status page subscribers and their durable mail queue (docs/design.md §18.4).

``subscribers``: one row per address (lower-cased), ``pending`` until its confirmation link is
followed; ``nonce`` goes into every link's signature, so removing and subscribing again voids
the old links. ``subscriber_confirmations`` counts confirmation mails per address and UTC day.
``subscriber_outbox`` holds every subscriber message (mail or webhook) until its receiver
accepted it; ``subscriber_notices`` remembers which maintenance notices went out.
"""

from __future__ import annotations

import sqlite3

from probed.store.db import run_script

SCHEMA = """
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
    created_ms INTEGER NOT NULL,
    confirmed_ms INTEGER,
    nonce TEXT NOT NULL
);
CREATE TABLE subscriber_confirmations (
    address TEXT NOT NULL,
    day TEXT NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (address, day)
);
CREATE TABLE subscriber_outbox (
    id INTEGER PRIMARY KEY,
    recipient TEXT NOT NULL,  -- an address, or "webhook:<n>"
    kind TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    body TEXT NOT NULL,  -- JSON: the rendered message
    message_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,
    last_error TEXT,
    sent_ms INTEGER
);
CREATE INDEX subscriber_outbox_pending ON subscriber_outbox (status, next_ms);
CREATE TABLE subscriber_notices (
    key TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL
);
"""


def migrate(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)
