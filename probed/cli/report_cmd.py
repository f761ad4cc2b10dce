"""``probed report``: the monitoring report of the last week or month, printed now
(docs/design.md §5, §18.6). A local command like ``probed check``: it reads monitors.toml
(each monitor's slo and slow_threshold) and the state database, so it works while the
daemon is stopped and gives the figures the daemon's mail would."""

from __future__ import annotations

import argparse
import sys
from typing import TypeVar

_P = TypeVar("_P", bound=argparse.ArgumentParser)
FORMATS = ("text", "markdown", "html", "json")
"""probed.reports.render.FORMATS, named here so that building the parser loads no reports."""


def cmd_report(args: argparse.Namespace) -> int:
    # The history and store load only when the command runs, not for every command.
    from probed.cli import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, load_or_report
    from probed.errors import StoreError
    from probed.history import History
    from probed.history.rollup import Retention
    from probed.reports.collect import collect
    from probed.reports.render import render
    from probed.reports.schedule import span_before
    from probed.store import Store
    from probed.units import utcnow

    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    config = config.in_shard()
    path = config.settings.state_dir / "probed.db"
    if not path.exists():
        print(
            f"probed report: no state database at {path}: the daemon has not run with this"
            " config yet",
            file=sys.stderr,
        )
        return EXIT_RUNTIME
    try:
        store = Store.open(path)
    except StoreError as exc:
        print(f"probed report: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    try:
        settings = config.settings
        history = History(
            store, utcnow, Retention(settings.raw_retention, settings.history_retention)
        )
        start, end = span_before(args.period, history.now())
        report = collect(history, config.monitors, start, end, args.period)
        zone = config.report.timezone if config.report is not None else "UTC"
        print(render(report, args.format, zone))
    finally:
        store.close()
    return EXIT_OK


def add_command(sub: argparse._SubParsersAction[_P]) -> None:
    from probed.cli import config_command

    p = config_command(
        sub,
        cmd_report,
        "print the monitoring report of the last week or month now",
        "  probed report\n  probed report --period month --format markdown\n"
        "  probed report --format json -c /etc/probed/monitors.toml",
        "0 printed; 1 config or usage error; 2 no state database or it cannot be read",
    )
    p.add_argument("--period", choices=("week", "month"), default="week", help="default week")
    p.add_argument("--format", choices=FORMATS, default="text", help="default text")
