"""The argparse sub-parser every API command starts from: its help, token note, examples, exit
codes, and the ``--url`` / ``-c`` options."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from probed.cli.api_client import DEFAULT_URL, TOKEN_NOTE


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
