"""Command line (docs/design.md §5). Exit codes: 0 ok, 1 config or usage error, 2 runtime
failure."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import typing
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from probed import __version__, logs
from probed.cli import api_client, import_cmd, init, report_cmd
from probed.cli.announce import add_announce
from probed.cli.incidents_cmd import add_incident_commands
from probed.cli.maintenance_cmd import add_maintenance_commands
from probed.cli.parsers import add_parser
from probed.cli.probe_command import add_probe_command
from probed.cli.subscribers_cmd import add_subscribers
from probed.cli.updates_cmd import add_update_commands
from probed.config import (
    Check,
    Config,
    HttpCheck,
    Monitor,
    load_config,
)
from probed.config.kinds import inbound
from probed.config.maintenance import describe_window
from probed.config.report import describe_report
from probed.config.subscriptions import off_reason
from probed.errors import ConfigError
from probed.units import counted, format_duration

EXIT_OK, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2
_P = typing.TypeVar("_P", bound=argparse.ArgumentParser)


def config_path(arg: str | None) -> Path:
    return Path(arg or os.environ.get("PROBED_CONFIG") or "monitors.toml")


def missing_config(arg: str | None) -> bool:
    """True after telling a person where the config path came from, when there is no file."""
    path = config_path(arg)
    if path.exists():
        return False
    if arg:
        source = "given with -c"
    elif os.environ.get("PROBED_CONFIG"):
        source = "from $PROBED_CONFIG"
    else:
        source = "the default, as neither -c nor $PROBED_CONFIG is set"
    print(
        f"probed: {path}: no such config file ({source}). Name one with -c FILE or"
        " $PROBED_CONFIG; `probed init` writes a starter monitors.toml.",
        file=sys.stderr,
    )
    return True


def cmd_run(args: argparse.Namespace) -> int:
    from probed.service.daemon import run

    if missing_config(args.config):
        return EXIT_USAGE
    return run(config_path(args.config))


def load_or_report(arg: str | None) -> Config | None:
    """The config, or None after printing every problem with it to stderr."""
    if missing_config(arg):
        return None
    path = config_path(arg)
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"{path}: {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.shown():
            print(f"  {problem}", file=sys.stderr)
        return None


def cmd_check(args: argparse.Namespace) -> int:
    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    print(summary_table(config))
    return EXIT_OK


def summary_table(config: Config) -> str:
    rows = [("NAME", "TYPE", "EVERY", "TIMEOUT", "DOWN AFTER", "ALERT", "URL")]
    for m in config.monitors:
        rows.append(
            (
                m.name + (" (paused)" if m.paused else ""),
                kind_label(m.check),
                format_duration(m.interval),
                format_duration(m.timeout),
                str(m.down_after),
                alert_routes(m),
                # The person running check may read the file, tokens and all: the ping path
                # is what they copy into the job (the daemon shows it only to token holders).
                push.path if (push := inbound(m.check)) is not None else m.display_url,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    channels = ", ".join(config.channels) or "none (state changes are only logged)"
    lines += [
        "",
        f"{config.path}: OK, {counted(len(config.monitors), 'monitor')};"
        f" alert channels: {channels}",
        f"listen {config.settings.listen}; state in {config.settings.state_dir}",
    ]
    if (shard := config.settings.shard) is not None:
        share = len(config.in_shard().monitors)
        lines.append(f"shard {shard}: {share} of {len(config.monitors)} monitors")
    if config.settings.location is not None:
        lines.append(f"location {config.settings.location}")
    if (dsn := config.settings.sentry_dsn) is not None:
        from probed.service import sentry

        lines.append(
            f"errors reported to sentry at {sentry.destination(dsn)}"
            if sentry.installed()
            else sentry.MISSING
        )
    if any(inbound(m.check) is not None for m in config.monitors):
        lines.append(
            f"push: the job calls http://{config.settings.listen}/push/<token> (GET or POST;"
            " …/fail with ?msg=, …/start before a run); the paths above hold the tokens"
        )
    if config.settings.external_url is not None:
        lines.append(f"incident and acknowledgement links on {config.settings.external_url}")
    elif any(m.alert or m.escalate for m in config.monitors):
        lines.append(
            "note: alerts will carry no incident or acknowledgement links, as probed does not"
            " know the URL people reach it on: set [probed] external_url"
            ' (e.g. "https://probed.example.com")'
        )
    if config.report is not None:
        lines.append(f"report {describe_report(config.report)}")
    off = off_reason(config.settings.external_url, config.email is not None)
    hooks = counted(len(config.subscriptions.webhooks), "webhook subscriber")
    if off is None:
        lines.append(f"subscriptions: the status page's form, and {hooks}")
    else:
        lines.append(f"note: {off}; {hooks}")
    for window in config.maintenance:
        names = "every monitor" if window.monitors is None else ", ".join(sorted(window.monitors))
        lines.append(f'maintenance "{window.name}": {describe_window(window)}: {names}')
    return "\n".join(lines)


def alert_routes(monitor: Monitor) -> str:
    """Its channels, then each escalation step's: ``email,sms +15m:pagerduty``."""
    steps = (f"+{format_duration(s.after)}:{','.join(s.alert)}" for s in monitor.escalate)
    return " ".join([",".join(monitor.alert) or "-", *steps])


def kind_label(check: Check) -> str:
    # http monitors differ by method; every other kind is said by its name alone.
    return f"http {check.method}" if type(check) is HttpCheck else check.kind


def cmd_test_alert(args: argparse.Namespace) -> int:
    from probed.alerts.channels import send_test

    config = load_or_report(args.config)
    if config is None:
        return EXIT_USAGE
    if args.channel is not None and args.channel not in config.channels:
        configured = ", ".join(config.channels) or "none"
        print(
            f"probed test-alert: channel {args.channel!r} is not configured (configured:"
            f" {configured})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not config.channels:
        print(f"probed test-alert: {config.path} configures no alert channel", file=sys.stderr)
        return EXIT_USAGE
    from probed.cli.progress import with_progress

    sending = send_test(config, datetime.now(UTC), args.channel)
    outcomes = asyncio.run(with_progress(sending, "sending test alert", sys.stderr))
    for outcome in outcomes:
        status = "OK" if outcome.ok else "FAILED"
        print(f"{outcome.channel}: {status}: {outcome.answer}")
    return EXIT_OK if all(o.ok for o in outcomes) else EXIT_RUNTIME


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        # argparse exits 2 on usage errors; docs/design.md §5 keeps 2 for runtime failures.
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


EPILOG = """\
examples:
  probed init                       write a commented starter ./monitors.toml
  probed check -c monitors.toml     validate it (no network)
  probed run -c monitors.toml       run the daemon in the foreground
  probed probe https://example.org  one check now, with its timings
  probed status                     the running daemon's monitors
  probed incidents --open           its open incidents; probed ack ID acknowledges one
  probed import uptimerobot getMonitors.json > monitors.toml
                                    move from UptimeRobot (a saved API answer)
  probed COMMAND --help             a command's options and examples

The config is -c FILE, else $PROBED_CONFIG, else ./monitors.toml.

exit codes:
  0  ok
  1  config or usage error
  2  runtime failure (for probe: the check failed; for the API commands: the daemon)
"""


CONFIG_HELP = "monitors.toml to use (default: $PROBED_CONFIG, else ./monitors.toml)"


def config_command(
    sub: argparse._SubParsersAction[_P],
    func: Callable[[argparse.Namespace], int],
    help: str,
    examples: str,
    exit_codes: str,
) -> _P:
    """A command that reads monitors.toml (``-c``), named after ``func`` (cmd_test_alert:
    test-alert)."""
    name = func.__name__.removeprefix("cmd_").replace("_", "-")
    p = add_parser(sub, name, help, examples, exit_codes)
    p.add_argument("-c", "--config", help=CONFIG_HELP)
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="probed",
        description="Self-hosted uptime probe daemon.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"probed {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("PROBED_LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: $PROBED_LOG_LEVEL, else info)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config_command(
        sub,
        cmd_run,
        "run the daemon in the foreground",
        "  probed run -c /etc/probed/monitors.toml\n  PROBED_LISTEN=127.0.0.1:9926 probed run",
        "0 stopped by a signal; 1 config error (not restarted by the systemd unit); 2 cannot run"
        " (e.g. the listen address is taken); 3 crashed (a bug in probed)",
    )
    config_command(
        sub,
        cmd_check,
        "validate the config without touching the network",
        "  probed check\n  probed check -c /etc/probed/monitors.toml",
        "0 valid; 1 every problem is printed",
    )

    add_probe_command(sub)

    api_client.add_commands(sub)
    add_update_commands(sub, add_incident_commands(sub))
    add_announce(sub)
    add_maintenance_commands(sub)
    add_subscribers(sub)
    init.add_command(sub)
    import_cmd.add_command(sub)
    report_cmd.add_command(sub)

    p = config_command(
        sub,
        cmd_test_alert,
        "send a test message through each alert channel now",
        "  probed test-alert\n  probed test-alert --channel email -c /etc/probed/monitors.toml",
        "0 every channel accepted it; 1 config or usage error; 2 a channel failed",
    )
    p.add_argument("--channel", help="only this channel (e.g. email)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse gives an optional positional (``incident open TITLE [TEXT]``) its value only
    # before the options; a command names it in ``late_positional`` to take it after them too.
    late = getattr(args, "late_positional", None)
    if extra:
        if late is None or getattr(args, late) is not None or len(extra) > 1 or extra[0][:1] == "-":
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        setattr(args, late, extra[0])
    logs.configure(args.log_level)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
