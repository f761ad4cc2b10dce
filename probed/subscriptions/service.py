"""Subscriptions (docs/design.md §18.4): double opt-in, signed links, incident news and
maintenance notices queued for every confirmed subscriber and webhook, and their delivery.

Messages are rows of ``subscriber_outbox``, written in the transaction that stores their cause
(an incident's news: ``on_news`` is an IncidentBook listener), marked sent only once the far
side accepted them, each with a Message-ID kept across retries. Delivery rides on the alert
dispatcher as a channel that ``refresh``es on its own schedule (``Refreshing``): it gets the
dispatcher's rounds, wake-ups and shutdown flush, and a slow receiver delays only itself.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from probed.alerts.dispatcher import backoff
from probed.alerts.messages import Message
from probed.config import Config
from probed.config.subscriptions import off_reason
from probed.errors import NotifierError, StoreWriteError
from probed.incidents.book import News
from probed.store import Store
from probed.store.incidents import IncidentRow
from probed.store.subscribers import QueuedRow, SubscriberRow
from probed.subscriptions import links, notices
from probed.subscriptions.limits import ClientLimit
from probed.subscriptions.mails import (
    Event,
    Letter,
    confirmation,
    incident_event,
    letter,
    maintenance_event,
)
from probed.subscriptions.notices import Upcoming
from probed.subscriptions.sender import receiver, send_queued

log = structlog.get_logger("probed")

NAME = "(subscribers)"
"""The dispatcher's name for this sender (no [alerts.NAME] can be called that)."""
CONFIRMATIONS_PER_DAY = 3
MAX_AGE = timedelta(days=2)
"""A message undeliverable this long is given up."""
KEEP = timedelta(days=30)
ADDRESS_MAX = 254
_ADDRESS = re.compile(r"[^\s@,;<>()\[\]\\\"]+@[^\s@,;<>()\[\]\\\"]+\.[^\s@,;<>()\[\]\\\"]+")


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    """The one answer for a new, pending or confirmed address: "check your inbox"."""
    INVALID = "invalid"
    LIMITED = "limited"
    OFF = "off"


def normal_address(text: str) -> str | None:
    """``text`` as one lower-case address, or None when it is not one."""
    address = text.strip().lower()
    if len(address) > ADDRESS_MAX or not _ADDRESS.fullmatch(address):
        return None
    return address


class Subscriptions:
    """The subscribers of the status page and their messages."""

    name = NAME

    def __init__(
        self,
        store: Store,
        key: bytes,
        config: Config,
        now: Callable[[], datetime],
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.table = store, store.subscribers
        self.key, self.config, self.now, self.wake = key, config, now, wake
        self.limit = ClientLimit()
        self._pruned: datetime | None = None
        self._news: list[tuple[int, News]] = []
        """News not yet queued (its incident not stored yet, or its write refused), in the
        order told."""
        self._told = 0

    def configure(self, config: Config) -> None:
        self.config = config

    @property
    def off_reason(self) -> str | None:
        """Why subscriptions are off, or None when they are on."""
        return off_reason(self.config.settings.external_url, self.config.email is not None)

    def _base(self) -> str:
        return (self.config.settings.external_url or "").rstrip("/")

    def _title(self) -> str:
        return self.config.settings.status_page_title

    def subscribe(self, text: str, client: str) -> Outcome:
        """Take a subscribe request; the same ACCEPTED whatever the address's state."""
        if self.off_reason is not None:
            return Outcome.OFF
        now = self.now()
        if not self.limit.allow(client, now):
            return Outcome.LIMITED
        address = normal_address(text)
        if address is None:
            return Outcome.INVALID
        day = now.strftime("%Y-%m-%d")
        with self.store.transaction():
            row = self.table.get(address)
            if row is None:
                row = self.table.add(address, secrets.token_hex(16), now)
            if row.state == "confirmed":
                return Outcome.ACCEPTED  # nothing to send, and nothing to tell
            if self.table.confirmations(address, day) >= CONFIRMATIONS_PER_DAY:
                return Outcome.ACCEPTED
            self.table.count_confirmation(address, day)
            link = self._base() + links.confirm_path(self.key, row.id, row.nonce, now)
            self._queue(address, confirmation(self._title(), link), now)
        self.wake()
        return Outcome.ACCEPTED

    def signed(self, action: str, query: dict[str, str]) -> SubscriberRow | None:
        """The subscriber a link signs, or None (wrong, expired or removed)."""
        subscriber_id = links.parse_id(query.get("id", ""))
        if subscriber_id is None:
            return None
        row = self.table.by_id(subscriber_id)
        if row is None:
            return None
        sig, expires = query.get("sig", ""), query.get("expires", "")
        if not links.valid(self.key, action, row.id, row.nonce, sig, expires, self.now()):
            return None
        return row

    def confirm(self, row: SubscriberRow) -> None:
        with self.store.transaction():
            self.table.confirm(row.id, self.now())
        log.info("subscriber confirmed", subscriber=row.id)

    def unsubscribe(self, row: SubscriberRow) -> None:
        with self.store.transaction():
            self.table.remove(row.address)
        log.info("subscriber removed", subscriber=row.id)

    def on_news(self, news: News) -> None:
        """IncidentBook listener: queue the news for everyone, inside its transaction."""
        self._told += 1
        self._news.append((self._told, news))
        self.flush()

    def flush(self) -> None:
        """Queue the news whose incident is stored, in order. An automatic incident's row is
        written after its news is told (the book writes last), so the record hook calls this
        again once the book wrote; while the file refuses the incident, its news waits."""
        taken: list[tuple[int, News]] = []

        def put_back() -> None:  # the transaction was rolled back: nothing was queued
            self._news = sorted(self._news + taken, key=lambda told: told[0])

        try:
            with self.store.transaction():
                self.store.if_not_written(put_back)
                while self._news:
                    row = self.store.incidents.get(self._news[0][1].code)
                    if row is None:
                        return
                    taken.append(self._news.pop(0))
                    self._tell(taken[-1][1], row)
        except StoreWriteError:
            log.warning("subscriber news waits until the state database takes it")

    def _tell(self, news: News, row: IncidentRow) -> None:
        if not row.manual:
            monitor = self.config.monitor(row.monitor)
            if monitor is None or not monitor.public:
                return  # a private monitor's outage is nobody's news outside
        kind = news.kind
        if row.manual and kind == "opened":
            return  # its first update follows in the same transaction: one mail for both
        if kind == "resolved" and news.update is not None:
            return  # the "resolved" update's own mail says so
        if row.manual and kind == "updated" and len(self.store.incidents.updates([row.id])) == 1:
            kind = "opened"
        self.announce(incident_event(kind, row, news.update, news.at), news.at)

    def announce(self, event: Event, at: datetime) -> int:
        """Queue ``event`` for every confirmed subscriber (while mail is on) and webhook; how
        many messages."""
        base = self._base()
        count = 0
        mailing = self.off_reason is None
        for sub in self.table.all("confirmed") if mailing else ():
            unsubscribe = base + links.unsubscribe_path(self.key, sub.id, sub.nonce)
            self._queue(sub.address, letter(event, self._title(), base + "/", unsubscribe), at)
            count += 1
        for index, _ in enumerate(self.config.subscriptions.webhooks):
            self._queue_raw(f"webhook:{index}", event.kind, at, json.dumps(event.document))
            count += 1
        self.wake()
        return count

    def _queue(self, address: str, mail: Letter, at: datetime) -> None:
        self._queue_raw(address, mail.kind, at, json.dumps(mail.to_json()))

    def _queue_raw(self, recipient: str, kind: str, at: datetime, body: str) -> None:
        sender = self.config.email.sender if self.config.email is not None else "probed"
        domain = sender.rpartition("@")[2].rstrip(">") or "probed"
        message_id = f"<subscriber-{secrets.token_hex(8)}@{domain}>"
        self.table.queue(recipient, kind, at, body, message_id)

    # The dispatcher's side (alerts.channels.Refreshing).

    def _upcoming(self, now: datetime) -> list[Upcoming]:
        public = [m.name for m in self.config.monitors if m.public]
        stored = self.store.maintenance.all()  # windows added by `probed maintenance add`
        found = notices.upcoming(self.config.maintenance, stored, public, now)
        return [u for u in found if not self.table.was_noticed(u.key)]

    def refresh_due(self) -> datetime | None:
        times = [self.table.next_due()]
        if self._news:  # refused by a full disk: at once when the book has written it
            stored = self.store.incidents.get(self._news[0][1].code) is not None
            times.append(self.now() + timedelta(seconds=0 if stored else 5))
        times += [u.start - notices.AHEAD for u in self._upcoming(self.now())]
        return min((t for t in times if t is not None), default=None)

    def notify_maintenance(self) -> int:
        """Queue the notices due now (once each); how many windows were announced."""
        now = self.now()
        count = 0
        for u in notices.due(self._upcoming(now), now):
            with self.store.transaction():
                if self.table.noticed(u.key, now):
                    event = maintenance_event(u.name, ", ".join(u.monitors), u.start, u.end)
                    self.announce(event, now)
                    count += 1
        return count

    async def refresh(self) -> None:
        """Queue due maintenance notices, then deliver every message due now, one at a time,
        oldest first."""
        self.flush()
        self.notify_maintenance()
        now = self.now()
        held: set[str] = set()
        for row in self.table.due(now):
            if receiver(row.recipient) not in held and not await self._deliver(row):
                held.add(receiver(row.recipient))
        if self._pruned is None or now - self._pruned > timedelta(hours=1):
            self._pruned = now
            with self.store.transaction():
                self.table.prune(now - KEEP)
                self.table.prune_pending(now - 2 * links.CONFIRM_VALID)
                self.table.prune_confirmations((now - timedelta(days=2)).strftime("%Y-%m-%d"))

    async def send(self, message: Message) -> str:
        raise NotifierError("the subscribers' sender takes no alerts", permanent=True)

    async def _deliver(self, row: QueuedRow) -> bool:
        """Try ``row``; False when it failed for now. Then every pending message of its
        receiver (the SMTP server, or the webhook) waits as long, oldest first again: a server
        that is down costs one attempt per backoff, not one per subscriber, and no mail
        overtakes an earlier one."""
        now = self.now()
        try:
            answer = await send_queued(self.config, row)
        except NotifierError as exc:
            with self.store.transaction():
                if exc.permanent or now - row.created > MAX_AGE:
                    self.table.mark(row.id, "failed", now, str(exc))
                    log.error("subscriber message given up", kind=row.kind, error=str(exc))
                else:
                    retry = now + timedelta(seconds=backoff(row.attempts + 1))
                    self.table.retry(row.id, retry, str(exc))
                    self.table.hold(receiver(row.recipient), retry)
                    log.warning("subscriber message failed: will retry", error=str(exc))
                    return False
            return True
        except Exception as exc:  # a bug for this one message must not hold the others
            log.exception("subscriber message could not be sent", kind=row.kind)
            with self.store.transaction():
                self.table.mark(row.id, "failed", now, f"{type(exc).__name__}: {exc}")
            return True
        with self.store.transaction():
            self.table.mark(row.id, "sent", self.now())
        log.info("subscriber message sent", kind=row.kind, answer=answer)
        return True
