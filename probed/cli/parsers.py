"""How every command's argparse sub-parser starts: help, description, examples and exit codes
(``add_parser``), and for the API clients the token note and the ``--url`` / ``-c`` options
(``api_parser``)."""

from __future__ import annotations

import argparse
import textwrap
import typing
from typing import Any

from probed.cli.api_client import DEFAULT_URL, TOKEN_NOTE

_P = typing.TypeVar("_P", bound=argparse.ArgumentParser)


def add_parser(
    sub: argparse._SubParsersAction[_P],
    name: str,
    help: str,
    examples: str,
    exit_codes: str = "0 ok; 1 config or usage error; 2 runtime failure",
) -> _P:
    return sub.add_parser(
        name,
        help=help,
        description=help[0].upper() + help[1:] + ".",
        epilog=f"examples:\n{examples}\n\nexit codes: {exit_codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def api_parser(
    sub: Any, name: str, help: str, examples: str, exits: str
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=textwrap.fill(help[0].upper() + help[1:] + ". " + TOKEN_NOTE),
        epilog=f"examples:\n{examples}\n\n{exits}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--url", help=f"the daemon's address (default: listen in -c, else {DEFAULT_URL})"
    )
    p.add_argument("-c", "--config", help="monitors.toml to read listen and the API token from")
    return p
