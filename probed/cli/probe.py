"""``probed probe``: one check of one URL now, printed with its phases, like ``curl -w``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import ssl
import sys
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

from probed.cli.api_client import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE
from probed.cli.probe_client import client_options
from probed.cli.progress import with_progress
from probed.config import (
    KINDS,
    Check,
    DnsCheck,
    HttpCheck,
    ImapCheck,
    JsonCheck,
    KeywordCheck,
    Monitor,
    PingCheck,
    Pop3Check,
    SmtpCheck,
    TcpCheck,
    parse_duration,
)
from probed.config.http_client import ClientOptions
from probed.config.mail import ehlo_problem
from probed.config.ping import parse_loss
from probed.config.vantage import family_problem, source_address_problem
from probed.model import CheckResult
from probed.units import counted


def cmd_probe(args: argparse.Namespace) -> int:
    from probed.probes import make_session, run_probe

    if args.type == "domain":
        from probed.cli.probe_domain import cmd_probe_domain

        return cmd_probe_domain(args)
    if args.type == "keyword" and not args.keyword:
        print("probed probe: --type keyword needs --keyword", file=sys.stderr)
        return EXIT_USAGE
    if args.type == "json" and not args.json_query:
        print("probed probe: --type json needs --json-query", file=sys.stderr)
        return EXIT_USAGE
    if args.type == "smtp" and (problem := ehlo_problem(args.ehlo)):
        print(f"probed probe: --ehlo: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        timeout = parse_duration(args.timeout)
    except ValueError as exc:
        print(f"probed probe: {exc}", file=sys.stderr)
        return EXIT_USAGE
    ca_file = None
    if args.ca_file is not None:
        ca_file = str(Path(args.ca_file).absolute())
        try:
            # A bad bundle is the caller's mistake (exit 1), not a DOWN target (exit 2).
            ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            print(f"probed probe: --ca-file {args.ca_file}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    client = client_options(args)
    if isinstance(client, str):
        print(f"probed probe: {client}", file=sys.stderr)
        return EXIT_USAGE
    source = args.source_address
    if source is not None:
        if problem := source_address_problem(source) or family_problem(source, args.url):
            print(f"probed probe: --source-address: {problem}", file=sys.stderr)
            return EXIT_USAGE
        source = str(ipaddress.ip_address(source))
    monitor = Monitor(
        name="probe",
        url=args.url,
        check=with_client(probe_check(args), client),
        timeout=timeout,
        interval=max(timeout, 1.0),
        verify_tls=not args.insecure,
        ca_file=ca_file,
        source_address=source,
    )

    async def once() -> CheckResult:
        async with make_session(source_address=source) as session:
            checking = run_probe(monitor, session, datetime.now(UTC))
            return await with_progress(checking, f"checking {monitor.display_url}", sys.stderr)

    result = asyncio.run(once())
    print(format_result(monitor, result))
    return EXIT_OK if result.ok else EXIT_RUNTIME


def probe_check(args: argparse.Namespace) -> Check:
    """The check ``probed probe`` runs: its kind's defaults and the flags that apply to it."""
    if args.type == "keyword":
        return KeywordCheck(keyword=args.keyword)
    if args.type == "http":
        # HEAD: a one-off look at a URL has no use for its body.
        return HttpCheck(method=(args.method or "HEAD").upper())
    if args.type == "tcp":
        return TcpCheck(tls=args.tls)
    if args.type == "dns":
        return DnsCheck(expect=tuple(args.expect))
    if args.type in ("smtp", "imap", "pop3"):
        banner = args.expect_banner
        if args.type == "smtp":
            return SmtpCheck(starttls=args.starttls, expect_banner=banner, ehlo=args.ehlo)
        mail = ImapCheck if args.type == "imap" else Pop3Check
        return mail(starttls=args.starttls, expect_banner=banner)
    if args.type == "json":
        return JsonCheck(json_query=args.json_query, json_expect=_json_value(args.json_expect))
    if args.type == "ping":
        return PingCheck(count=args.count, loss_max=args.loss_max, ip_version=args.ip_version)
    check: Check = KINDS[args.type].check()
    return check


def with_client(check: Check, client: ClientOptions) -> Check:
    """``check`` sent as the client flags say; kinds other than http's take none of them."""
    if not isinstance(check, HttpCheck):
        return check
    return replace(check, **{f.name: getattr(client, f.name) for f in fields(client)})


def loss_arg(text: str) -> float:
    """``--loss-max``: a ratio or a percentage, as the ``loss_max`` key takes it."""
    value: object = text
    with contextlib.suppress(ValueError):  # "20%", or words parse_loss explains
        value = float(text)
    try:
        return parse_loss(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _json_value(text: str | None) -> object:
    """``--json-expect``: a JSON value (``3``, ``true``, ``"x"``), else the text as a string."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def format_result(monitor: Monitor, result: CheckResult) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.1f} ms"

    t = result.timings
    lines = [
        f"{'UP' if result.ok else 'DOWN'}  {monitor.type} {monitor.display_url}",
        f"  reason:      {result.reason}",
        f"  status:      {result.status_code if result.status_code is not None else '-'}",
        f"  dns:         {ms(t.dns)}",
        f"  connect:     {ms(t.connect)}",
        f"  tls:         {ms(t.tls)}",
        f"  first byte:  {ms(t.first_byte)}",
        f"  total:       {ms(t.total)}",
    ]
    if (icmp := result.icmp) is not None:
        hop = "-" if icmp.hop_limit is None else icmp.hop_limit
        lines.append(f"  replies:     {icmp.received}/{icmp.sent}, hop limit {hop}")
    if result.cert_expires_at is not None:
        days = (result.cert_expires_at - result.at).total_seconds() / 86400
        lines.append(
            f"  certificate: expires {result.cert_expires_at:%Y-%m-%d %H:%M:%S} UTC"
            f" ({counted(int(days), 'day')})"
        )
    if result.tls is not None:
        lines.append(f"  protocol:    {result.tls.version}")
    return "\n".join(lines)
