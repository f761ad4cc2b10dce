"""``probed probe``'s command line: one URL of any probed kind, with each kind's options."""

from __future__ import annotations

import argparse
from typing import Any

from probed.cli.parsers import add_parser
from probed.cli.probe import cmd_probe, loss_arg
from probed.cli.probe_client import add_client_flags
from probed.config.kinds import KINDS
from probed.config.mail import EHLO_NAME


def add_probe_command(sub: Any) -> None:
    p: argparse.ArgumentParser = add_parser(
        sub,
        "probe",
        "check one URL now and print the result with its phases",
        "  probed probe https://example.org\n"
        "  probed probe --type keyword --keyword ok https://example.org/health\n"
        "  probed probe --ca-file internal-ca.pem https://intranet.example\n"
        "  probed probe --type tcp --tls tcp://mail.example.com:465\n"
        "  probed probe --type smtp --starttls smtp://mail.example.com:587\n"
        "  probed probe --type dns --expect 93.184.215.14 dns://1.1.1.1/example.com?type=A\n"
        "  probed probe --type ping --count 5 --loss-max 20% icmp://192.0.2.1\n"
        "  probed probe --type domain example.com\n"
        "  probed probe --source-address 192.0.2.10 https://example.org\n"
        "  probed probe --proxy http://proxy:3128 --client-cert c.pem --client-key c.key"
        " https://internal.example",
        "0 up; 1 usage error; 2 the check failed",
    )
    p.add_argument(
        "url",
        help="URL to check: http(s)://…, tcp://host:port, dns://[server]/name?type=A,"
        " icmp://host, smtp(s)://, imap(s)://, pop3(s)://host[:port]",
    )
    # push is not among them: a push monitor is judged on what its job sends, not probed.
    probed_kinds = [name for name, kind in KINDS.items() if kind.probe is not None]
    p.add_argument("--type", choices=probed_kinds, default="http", help="check kind (default http)")
    p.add_argument("--method", help="HTTP method (default HEAD; GET for keyword)")
    p.add_argument("--keyword", help="text the body must contain (for --type keyword)")
    p.add_argument("--tls", action="store_true", help="tcp: TLS handshake after connecting")
    p.add_argument("--json-query", help="json: the JMESPath expression")
    p.add_argument(
        "--expect", action="append", default=[], help="dns: a value the answer must hold (repeat)"
    )
    p.add_argument("--json-expect", help="json: the value it must give (JSON, else a string)")
    p.add_argument(
        "--count",
        type=int,
        choices=range(1, 101),
        default=3,
        metavar="N",
        help="ping: echo requests to send (default 3)",
    )
    p.add_argument(
        "--loss-max",
        type=loss_arg,
        metavar="RATIO",
        help='ping: the share that may go unanswered (0.2 or "20%%"; default: all but one)',
    )
    p.add_argument(
        "--ip-version",
        choices=("4", "6", "auto"),
        default="auto",
        help="ping: which address of a name to ping (default auto)",
    )
    p.add_argument(
        "--rdap-bootstrap",
        metavar="URL|FILE",
        help="domain: IANA-format RDAP bootstrap instead of the shipped one",
    )
    p.add_argument(
        "--starttls", action="store_true", help="smtp, imap, pop3: upgrade with STARTTLS/STLS"
    )
    p.add_argument("--ehlo", default=EHLO_NAME, help=f"smtp: the EHLO name (default {EHLO_NAME})")
    p.add_argument("--expect-banner", help="smtp, imap, pop3: text the greeting must hold")
    p.add_argument("--timeout", default="30s", help="bound on the whole check (default 30s)")
    p.add_argument("-k", "--insecure", action="store_true", help="do not verify certificates")
    p.add_argument(
        "--ca-file", metavar="PEM", help="trust this CA bundle instead of the system store"
    )
    p.add_argument("--source-address", metavar="IP", help="send the check from this local address")
    add_client_flags(p)
    p.set_defaults(func=cmd_probe)
