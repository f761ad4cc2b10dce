"""``probed init``: starter files for someone who installed probed with pip and has no checkout.

The templates ship inside the package (probed/templates); tests keep them equal to the repo's
monitors.toml and systemd/probed.service.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TypeVar

EXIT_OK, EXIT_USAGE = 0, 1
_P = TypeVar("_P", bound=argparse.ArgumentParser)

# (template, file written, mode): the env file holds secrets, so only its owner may read it.
CONFIG = ("monitors.toml", "monitors.toml", 0o644)
SYSTEMD = [("probed.service", "probed.service", 0o644), ("env", "env", 0o600)]


def template(name: str) -> str:
    return (resources.files("probed") / "templates" / name).read_text(encoding="utf-8")


def cmd_init(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    files = [CONFIG, *(SYSTEMD if args.systemd else [])]
    targets = [(name, directory / out, mode) for name, out, mode in files]
    existing = [str(path) for _, path, _ in targets if path.exists()]
    if existing and not args.force:
        print(
            f"probed init: not overwriting {', '.join(existing)} (--force replaces them)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, path, mode in targets:
            write(path, template(name), mode)
    except OSError as exc:
        print(f"probed init: {exc.filename or directory}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for _, path, _ in targets:
        print(f"wrote {path}")
    config = directory / CONFIG[1]
    print(f"\nnext: edit {config}, then validate it with: probed check -c {config}")
    if args.systemd:
        print(
            "install as a service (as root; see the comments at the top of probed.service):\n"
            f"  install -m 0644 {directory / 'probed.service'} /etc/systemd/system/\n"
            "  install -d -m 0755 /etc/probed\n"
            f"  install -m 0644 {config} /etc/probed/monitors.toml\n"
            f"  install -m 0600 {directory / 'env'} /etc/probed/env\n"
            "  systemctl daemon-reload && systemctl enable --now probed"
        )
    return EXIT_OK


def write(path: Path, text: str, mode: int) -> None:
    # Created with its final mode, so a secret is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)  # O_CREAT's mode is masked by the umask and ignored for existing files


def add_command(sub: argparse._SubParsersAction[_P]) -> None:
    p = sub.add_parser(
        "init",
        help="write a commented starter monitors.toml (and with --systemd the unit and env file)",
        description="Write a commented starter monitors.toml that checks only probed itself;"
        " with --systemd also probed.service and an env file for secrets.",
        epilog="examples:\n  probed init\n  probed init --systemd ./probed-files\n\n"
        "exit codes: 0 written; 1 a file exists (nothing is written) or cannot be written",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "dir", nargs="?", default=".", metavar="DIR", help="where to write (default: here)"
    )
    p.add_argument(
        "--systemd",
        action="store_true",
        help="also write probed.service and an env file for secrets (mode 0600)",
    )
    p.add_argument("--force", action="store_true", help="overwrite files that already exist")
    p.set_defaults(func=cmd_init)
