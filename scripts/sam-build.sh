#!/usr/bin/env bash
# `sam build` without Docker, then check the artefacts (scripts/check_artifact.py).
# aws-sam-cli pins boto3/click/cfn-lint/pydantic exactly, so it lives in its own venv
# (.venv-sam, created on first use) and never beside the app's dependencies.
#   PYTHON=python3            interpreter for the venv
#   SAM_CLI_VERSION=x.y.z     override the pinned SAM CLI
#   extra arguments go to `sam build` (e.g. --use-container is NOT needed)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
SAM_VENV="$ROOT/.venv-sam"
SAM_CLI_VERSION="${SAM_CLI_VERSION:-1.170.0}"
export SAM_CLI_TELEMETRY=0

stamp="$SAM_VENV/.installed-sam-$SAM_CLI_VERSION"
if [[ ! -f "$stamp" ]]; then
    echo "== installing aws-sam-cli $SAM_CLI_VERSION into .venv-sam (once)"
    rm -rf "$SAM_VENV"
    "$PYTHON" -m venv "$SAM_VENV"
    "$SAM_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "aws-sam-cli==$SAM_CLI_VERSION"
    touch "$stamp"
fi

# The makefile build runs `$(PYTHON) -m pip install --platform manylinux2014_aarch64 ...`;
# any Python 3 with pip works, the wheels are chosen for Lambda's python3.13 on arm64.
start=$(date +%s)
"$SAM_VENV/bin/sam" build "$@"
echo "== sam build took $(( $(date +%s) - start ))s"

if [[ ! -x "$ROOT/.venv/bin/python" ]]; then
    make --no-print-directory -C "$ROOT" PYTHON="$PYTHON" .venv/.installed-stamp
fi
PYTHONPATH="$ROOT" "$ROOT/.venv/bin/python" "$ROOT/scripts/check_artifact.py" "$ROOT/.aws-sam/build"
