"""The channels schema step on a real file: a database of the version before it, with an email
alert still undelivered, is upgraded in place and that alert goes out exactly once."""

from __future__ import annotations

import json
import sqlite3

from probed.alerts.payload import Payload
from probed.store import Store, channels_schema
from probed.store.migrations import LATEST, STEPS
from tests.kit.clock import T0, FakeClock
from tests.kit.configs import email_channel, make_config
from tests.kit.harness import Harness
from tests.kit.monitors import make_monitor

BEFORE = STEPS[: STEPS.index(channels_schema.migrate)]
"""The steps of the release before the channels step (others may follow it)."""


def write_old_database(path, message_id: str) -> None:
    store = Store.open(path, steps=BEFORE)
    payload = Payload(monitor="api", url="https://api.example.test/health", reason="HTTP 503")
    with store.transaction():
        row = store.outbox.add(
            "api", "down", "email", T0, T0, json.dumps(payload.to_json()), None, T0
        )
        store.outbox.name(row, message_id, None)
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(BEFORE)
    db.close()


async def test_an_undelivered_email_alert_of_the_previous_version_goes_out_once_after_upgrade(
    tmp_path, smtp
):
    path = tmp_path / "probed.db"
    write_old_database(path, "<alert-1-0ld0ld@example.test>")
    config = make_config(tmp_path, [make_monitor("api")], email_channel(smtp.port))
    h = Harness(config, FakeClock())
    try:
        await h.dispatcher.run_once()
        assert h.store.alertmanager.rows("am") == []  # the new table is there, empty
    finally:
        await h.close()
    (mail,) = smtp.inbox
    assert mail.subject == "[probed] DOWN: api"
    assert mail.message_id == "<alert-1-0ld0ld@example.test>"
    assert (tmp_path / f"probed.db.bak-v{len(BEFORE)}").exists()

    h = Harness(config, FakeClock())  # a second start: nothing left to send
    try:
        await h.dispatcher.run_once()
    finally:
        await h.close()
    assert len(smtp.inbox) == 1
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
    db.close()
