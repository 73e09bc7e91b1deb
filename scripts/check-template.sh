#!/usr/bin/env bash
# Template checks (offline), run by `make check-template` and so by `make test`:
#   1. render the transformed template (SAM -> CloudFormation, offline) to out/
#   2. cfn-lint on template.yaml (SAM) and on the transformed template
#   3. checkov on the transformed template (own venv .venv-checkov; BC_SKIP_MAPPING)
#   4. pytest policy tests (tests/integration/test_template_policies.py)
# Works from a fresh clone with only Python 3.11+, pip, make and git: it creates what it
# needs. Environment knobs:
#   PYTHON=python3          interpreter used to create the venvs
#   SKIP_CHECKOV=1          skip step 3 (says so loudly; for machines without PyPI)
#   CHECKOV_VERSION=x.y.z   override the pinned checkov
# docs/TEMPLATE.md explains every check, skip and ignore.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
CHECKOV_VENV="$ROOT/.venv-checkov"
CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
OUT_DIR="$ROOT/out"
TRANSFORMED="$OUT_DIR/template.transformed.json"

# cfn-lint rules ignored, each with its reason (none so far). Format: "RULE  # reason".
CFN_LINT_IGNORES=(
)

step_start=0
step() { step_start=$(date +%s); printf '\n== %s\n' "$*"; }
done_step() { printf -- '-- ok (%ss)\n' "$(( $(date +%s) - step_start ))"; }
total_start=$(date +%s)

# The project venv (cfn-lint, aws-sam-translator, pytest come with '.[dev]').
if ! "$VENV/bin/python" -c 'import cfnlint, samtranslator, pytest' >/dev/null 2>&1; then
    step "installing the project venv (.venv)"
    make --no-print-directory -C "$ROOT" PYTHON="$PYTHON" .venv/.installed-stamp
    done_step
fi
# infra/ is importable from the repository root even before the editable install.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

step "render transformed template -> ${TRANSFORMED#"$ROOT"/}"
"$VENV/bin/python" "$ROOT/scripts/render_template.py" "$TRANSFORMED"
done_step

step "cfn-lint template.yaml ${TRANSFORMED#"$ROOT"/}"
ignore_args=()
for entry in "${CFN_LINT_IGNORES[@]}"; do
    ignore_args+=(--ignore-checks "${entry%%[[:space:]]*}")
done
"$VENV/bin/cfn-lint" "${ignore_args[@]}" -- template.yaml "$TRANSFORMED"
done_step

if [[ "${SKIP_CHECKOV:-}" == "1" ]]; then
    printf '\n== checkov SKIPPED (SKIP_CHECKOV=1): the template was NOT scanned by checkov\n'
else
    stamp="$CHECKOV_VENV/.installed-checkov-$CHECKOV_VERSION"
    if [[ ! -f "$stamp" ]]; then
        step "installing checkov $CHECKOV_VERSION into .venv-checkov (once; ~30 s)"
        rm -rf "$CHECKOV_VENV"
        "$PYTHON" -m venv "$CHECKOV_VENV"
        "$CHECKOV_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "checkov==$CHECKOV_VERSION"
        touch "$stamp"
        done_step
    fi
    step "checkov $CHECKOV_VERSION (offline) on ${TRANSFORMED#"$ROOT"/}"
    BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE \
        "$CHECKOV_VENV/bin/checkov" --config-file "$ROOT/.checkov.yaml" --skip-download \
        --file "$TRANSFORMED"
    done_step
fi

step "pytest tests/integration/test_template_policies.py"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/integration/test_template_policies.py
done_step

printf '\ntemplate checks passed (%ss)\n' "$(( $(date +%s) - total_start ))"
