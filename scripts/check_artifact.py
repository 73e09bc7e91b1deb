"""Check the artefacts of `sam build` (functions/Makefile) without AWS or Docker.

    python scripts/check_artifact.py [BUILD_DIR]      (default .aws-sam/build)

For every function of the built template:
- the artefact root holds the `functions` package (`functions/__init__.py`) and the
  handler's module file at the path its dotted name gives;
- the compiled dependencies are Lambda's (a cp313 aarch64 `pydantic_core`), and the
  runtime-provided boto3/botocore are not bundled; no `__pycache__` was copied;
- the handler module imports from a copy of only the artefact's `functions/` tree (with
  this interpreter's own third-party packages standing in for the aarch64 wheels), so
  the function needs no service directory the Makefile did not copy.
Prints one line per function with the unpacked artefact size; exits 1 on a problem.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.template import ROOT, load_sam

# Dummy values for every environment variable a handler may read at import time.
_IMPORT_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "STAGE": "check",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "sellerops",
    "POWERTOOLS_SERVICE_NAME": "check",
    "SPAPI_APP_SECRET": "app",
    "SPAPI_SELLER_SECRET_PREFIX": "sellers/",
    **{
        name: name.lower()
        for name in (
            "ACCOUNTS_TABLE LISTINGS_TABLE PRICE_HISTORY_TABLE CLAIMS_TABLE IDEMPOTENCY_TABLE "
            "AUDIT_JOBS_TABLE FOLLOW_UPS_TABLE EVENT_BUS_NAME"
        ).split()
    },
    **{
        name: f"https://sqs.us-east-1.amazonaws.com/000000000000/{name.lower()}"
        for name in (
            "PRICE_NOTIFICATIONS_QUEUE_URL",
            "PRICE_UPDATES_QUEUE_URL",
            "AUDIT_JOBS_QUEUE_URL",
        )
    },
    **{
        name: f"arn:aws:sns:us-east-1:000000000000:{name.lower()}"
        for name in ("CSM_TOPIC_ARN", "CLAIMS_TEAM_TOPIC_ARN", "ALARMS_TOPIC_ARN")
    },
}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def check_function(logical_id: str, handler: str, artefact: Path) -> list[str]:
    problems = []
    module_name = handler.rsplit(".", 1)[0]
    module_file = artefact.joinpath(*module_name.split(".")).with_suffix(".py")
    if not (artefact / "functions" / "__init__.py").is_file():
        problems.append("no functions/__init__.py at the artefact root")
    if not module_file.is_file():
        problems.append(f"no {module_file.relative_to(artefact)}")
    if not list(artefact.glob("pydantic_core/_pydantic_core.cpython-313-aarch64-linux-gnu.so")):
        problems.append("no cp313 aarch64 pydantic_core binary")
    for bundled in ("boto3", "botocore"):
        if (artefact / bundled).exists():
            problems.append(f"{bundled} is bundled (the runtime provides it)")
    if list((artefact / "functions").rglob("__pycache__")):
        problems.append("__pycache__ copied into the artefact")
    if problems:
        return problems
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(artefact / "functions", Path(scratch) / "functions")
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": scratch, **_IMPORT_ENV}
        function_name = handler.rsplit(".", 1)[1]
        code = (
            "import importlib, sys\n"
            f"module = importlib.import_module({module_name!r})\n"
            f"getattr(module, {function_name!r})\n"
            f"assert module.__file__.startswith({scratch!r}), module.__file__\n"
        )
        result = subprocess.run(  # noqa: S603 - our interpreter, our code
            [sys.executable, "-c", code],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["?"])[-1]
        problems.append(f"{handler} does not import from the artefact's functions/: {last}")
    return problems


def main(argv: list[str]) -> int:
    build_dir = Path(argv[1]) if len(argv) > 1 else ROOT / ".aws-sam" / "build"
    built = load_sam(build_dir / "template.yaml")
    failed = False
    functions = {
        logical_id: resource
        for logical_id, resource in built.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    if not functions:
        print(f"no functions in {build_dir / 'template.yaml'}", file=sys.stderr)
        return 1
    for logical_id, resource in functions.items():
        props = resource.get("Properties", {})
        artefact = build_dir / str(props.get("CodeUri", logical_id))
        problems = check_function(logical_id, props["Handler"], artefact)
        size_mb = _size(artefact) / 1e6 if artefact.is_dir() else 0.0
        status = "ok" if not problems else "FAILED"
        print(f"{logical_id}: {status} ({size_mb:.1f} MB unpacked)")
        for problem in problems:
            print(f"  - {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
