"""[subscriptions]: webhook subscribers of the status page's news (docs/design.md §18.4)."""

from __future__ import annotations

from dataclasses import dataclass, field

from probed.config.reader import Reader, Section, describe, pick, url_problem

KEYS = ("webhooks",)
WEBHOOK_KEYS = ("url", "secret", "secret_file", "timeout")


@dataclass(frozen=True, slots=True)
class SubscriberWebhook:
    """One ``webhooks`` entry: incident news and maintenance notices POSTed as JSON."""

    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    """Signs the body: X-Probed-Signature: sha256=<hex HMAC-SHA256>, as the webhook channel."""
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Subscriptions:
    """[subscriptions]."""

    webhooks: tuple[SubscriberWebhook, ...] = ()


def off_reason(external_url: str | None, email: bool) -> str | None:
    """Why email subscriptions are off (the form hidden, the API 404), or None when on."""
    if external_url is None:
        return "subscriptions need [probed] external_url (the links in the mails)"
    if not email:
        return "subscriptions need an [alerts.email] channel (its SMTP server sends them)"
    return None


def read_subscriptions(reader: Reader, data: object) -> Subscriptions:
    """The table's settings; problems go to ``reader`` with table and key."""
    if data is None:
        return Subscriptions()
    if not isinstance(data, dict):
        reader.problem("subscriptions", f"expected a table, got {describe(data)}")
        return Subscriptions()
    sec = Section(reader, "[subscriptions] ", data)
    sec.reject_unknown(KEYS)
    raw = data.get("webhooks", [])
    if not isinstance(raw, list):
        sec.problem("webhooks", f"expected an array of tables, got {describe(raw)}")
        return Subscriptions()
    hooks: list[SubscriberWebhook] = []
    for index, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            sec.problem(f"webhooks #{index}", f"expected a table, got {describe(item)}")
            continue
        hook = Section(reader, f"[subscriptions] webhooks #{index} ", item)
        hook.reject_unknown(WEBHOOK_KEYS)
        url = pick(hook.string("url", required=True, nonempty=True), "")
        if url and (problem := url_problem(url)):
            hook.problem("url", problem)
        secret = hook.secret("secret")
        timeout = pick(hook.duration("timeout", positive=True), 10.0)
        hooks.append(SubscriberWebhook(url, secret, timeout))
    return Subscriptions(tuple(hooks))
