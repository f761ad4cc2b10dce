"""``probed probe --type domain NAME``: one RDAP query now, the registration's expiry printed
(docs/design.md §19.2); what the domain watch would learn, without the daemon."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

import aiohttp

from probed.cli.api_client import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE
from probed.config import parse_duration
from probed.config.domain_names import registrable, url_host
from probed.domains.bootstrap import BootstrapSource
from probed.domains.rdap import Unknown, expiry


def cmd_probe_domain(args: argparse.Namespace) -> int:
    """Exit 0 with the expiry, 2 when it is unknown (the reason printed), 1 on bad usage."""
    host = url_host(args.url)
    domain = registrable(host) if host else None
    if domain is None:
        print(f"probed probe: {args.url!r} has no registrable domain", file=sys.stderr)
        return EXIT_USAGE
    try:
        timeout = parse_duration(args.timeout)
    except ValueError as exc:
        print(f"probed probe: {exc}", file=sys.stderr)
        return EXIT_USAGE

    async def once() -> str:
        async with aiohttp.ClientSession() as session:
            bootstrap = await BootstrapSource(args.rdap_bootstrap).current(session, timeout)
            base = bootstrap.server_for(domain)
            if base is None:
                raise Unknown(f'no RDAP server for "{domain}" in the bootstrap')
            at = await expiry(session, base, domain, timeout)
        days = (at - datetime.now(UTC)).days
        return f"{domain}: registration expires {at.isoformat()} ({days} days left; {base})"

    try:
        print(asyncio.run(once()))
    except Unknown as exc:
        print(f"{domain}: expiry unknown: {exc}")
        return EXIT_RUNTIME
    return EXIT_OK
