"""The heaviest functions in a py-spy ``--format raw`` profile (collapsed stacks).

    .venv/bin/python bench/pyspy_top.py PROFILE [--top 25] [--under probed]

Inclusive share: of all samples, those with the function anywhere on the stack (once per
stack). Own share: those with it at the top. ``--under`` keeps only functions whose file path
contains the text, to read a profile at probed's level rather than the event loop's.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path


def read(path: Path) -> tuple[Counter[str], Counter[str], int]:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        # py-spy writes "function (file:line)": the line varies within a function, drop it.
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    return inclusive, own, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--under", default="")
    args = parser.parse_args()
    inclusive, own, total = read(args.profile)
    print(f"{total} samples")
    print(f"{'incl %':>7} {'own %':>6}  function (file)")
    shown = 0
    for frame, n in inclusive.most_common():
        if args.under not in frame:
            continue
        print(f"{100 * n / total:7.1f} {100 * own[frame] / total:6.1f}  {frame}")
        shown += 1
        if shown >= args.top:
            break
    print("\nown time:")
    for frame, n in own.most_common(args.top):
        print(f"{100 * n / total:7.1f}  {frame}")


if __name__ == "__main__":
    main()
