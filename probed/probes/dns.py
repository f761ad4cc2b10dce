"""The ``dns`` probe: one query with dnspython's asyncio resolver, to the URL's server or the
system's, judged on the response code and the values of the answer."""

from __future__ import annotations

import asyncio
import ipaddress

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdata
import dns.resolver

from probed.config import DnsCheck, Monitor
from probed.config.dns import parse_dns_url
from probed.probes.check import Phase, PhaseTracker, ProbeError, ProbeOutcome
from probed.probes.reasons import target_reason

_LIFETIME_SHARE = 0.9
"""Of the check's timeout, what the resolver may spend: giving up before run_probe's deadline
lets it say which wait it was ("timeout") while the check still ends within its timeout."""


async def probe_dns(
    monitor: Monitor, check: DnsCheck, session: aiohttp.ClientSession, tracker: PhaseTracker
) -> ProbeOutcome:
    """Up when the answer is NOERROR and holds every ``expect`` value."""
    try:
        query = parse_dns_url(monitor.url)
    except ValueError as exc:
        raise ProbeError("invalid URL") from exc  # the config rejects these; `probed probe` may not
    resolver = dns.asyncresolver.Resolver(configure=query.server is None)
    if query.server is not None:
        resolver.nameservers = [query.server]
    resolver.port = query.port
    resolver.cache = None  # every check asks anew, as make_session's connector does
    # dnspython's own lifetime is not a deadline: it sleeps between retries past it.
    resolver.lifetime = monitor.timeout
    try:
        with tracker.phase(Phase.DNS):
            async with asyncio.timeout(monitor.timeout * _LIFETIME_SHARE):
                answer = await resolver.resolve(
                    dns.name.from_text(query.name),
                    query.record_type,
                    search=False,
                    raise_on_no_answer=False,
                    source=monitor.source_address,
                )
    except (TimeoutError, dns.exception.Timeout):
        raise ProbeError("timeout") from None
    except dns.resolver.NXDOMAIN:
        tracker.facts.append(("rcode", "NXDOMAIN"))
        raise ProbeError("NXDOMAIN") from None
    except dns.resolver.YXDOMAIN:
        tracker.facts.append(("rcode", "YXDOMAIN"))
        raise ProbeError("YXDOMAIN") from None
    except dns.resolver.NoNameservers as exc:
        if isinstance(rcode := _last_error(exc), str):
            tracker.facts.append(("rcode", rcode))
        if isinstance(error := _last_error(exc), OSError):
            # Raised as itself so run_probe can tell a source address this host cannot send
            # from (the probe host's failure) from the server's; its words are the same.
            raise error from None
        raise ProbeError(_no_nameservers(exc)) from None
    values = [_text(rdata) for rdata in answer.rrset or ()]
    shown = f"answer {', '.join(values) or '(empty)'}"
    found = {_key(value) for value in values}
    missing = [value for value in check.expect if _key(value) not in found]
    if missing:
        got = ", ".join(values) or "(empty)"
        tracker.facts += [("rcode", "NOERROR"), ("answer", got)]  # capture cuts it to 1 KiB
        return ProbeOutcome(False, f"{shown} lacks {', '.join(missing)}")
    return ProbeOutcome(True, shown)


def _last_error(exc: dns.resolver.NoNameservers) -> object:
    """What the last server asked answered (SERVFAIL, REFUSED) or raised; None: none asked."""
    errors = exc.kwargs.get("errors") or []
    return errors[-1][3] if errors else None


def _no_nameservers(exc: dns.resolver.NoNameservers) -> str:
    """Every server failed: the last one's response code (SERVFAIL, REFUSED) or error."""
    error = _last_error(exc)
    if error is None:
        return "no nameserver to ask"
    if isinstance(error, BaseException):
        # The server's malformed answer, say (dnspython's own exceptions): the server's
        # failure, so not worded "unexpected error", which means a bug in probed.
        return target_reason(error) or f"{type(error).__name__}: {error}"
    return str(error)


def _text(rdata: dns.rdata.Rdata) -> str:
    """A record's value as people write it: TXT as its text, names without the final dot."""
    strings = getattr(rdata, "strings", None)
    if isinstance(strings, tuple):  # TXT: quoted chunks of at most 255 bytes, one text
        return b"".join(strings).decode("utf-8", errors="replace")
    return " ".join(token.removesuffix(".") for token in rdata.to_text().split())


def _key(value: str) -> str:
    """What two values compare on: addresses in canonical form, names in any case."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return " ".join(token.removesuffix(".") for token in value.split()).casefold()
