"""Schema version 1: the 0.1.0 schema exactly, as its four modules created it (store, history,
pauses, outbox). Migration step 1 creates it; later steps start from it."""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS monitors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    check_key TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 1,
    since REAL,
    failures INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    outage_start REAL,
    reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS transitions (
    id INTEGER PRIMARY KEY,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id),
    kind TEXT NOT NULL,
    old INTEGER NOT NULL,
    new INTEGER NOT NULL,
    at REAL NOT NULL,
    reason TEXT NOT NULL,
    outage_start REAL
);
CREATE INDEX IF NOT EXISTS transitions_monitor_at ON transitions(monitor_id, at);
CREATE TABLE IF NOT EXISTS checks (
    id INTEGER PRIMARY KEY,
    monitor_id INTEGER NOT NULL REFERENCES monitors(id),
    at REAL NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL,
    status_code INTEGER,
    duration REAL NOT NULL,
    dns REAL, connect REAL, tls REAL, first_byte REAL,
    cert_expires_at REAL
);
CREATE INDEX IF NOT EXISTS checks_monitor_at ON checks(monitor_id, at);
CREATE TABLE IF NOT EXISTS hourly (
    monitor_id INTEGER NOT NULL REFERENCES monitors(id) ON UPDATE CASCADE,
    hour INTEGER NOT NULL,
    checks INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    rt_sum_ms INTEGER,
    rt_min_ms INTEGER,
    rt_max_ms INTEGER,
    PRIMARY KEY (monitor_id, hour)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    stopped_at REAL
);
CREATE TABLE IF NOT EXISTS history_meta (
    key TEXT PRIMARY KEY,
    value REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pause_overrides (
    monitor_id INTEGER PRIMARY KEY REFERENCES monitors(id) ON UPDATE CASCADE,
    paused INTEGER NOT NULL,
    until REAL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    monitor TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    created_at REAL NOT NULL,
    outage_start REAL,
    payload TEXT NOT NULL,
    message_id TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'pending',
    digest TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS outbox_storm ON outbox(channel, kind, created_at);
CREATE INDEX IF NOT EXISTS outbox_monitor ON outbox(monitor, kind, created_at);
CREATE TABLE IF NOT EXISTS alert_certs (
    monitor TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    passed TEXT NOT NULL
);
"""
