"""Cold-start benchmark: import time of every Lambda handler vs. ``import boto3``.

Each sample is a fresh interpreter (what a Lambda cold start pays for imports), the
median of ``--runs`` samples is reported, and every handler is compared with the
baseline measured in the same run:

    python bench/coldstart.py [--runs 9] [--json]

Handlers are read from template.yaml, so a new function is benchmarked automatically.
Two columns per handler: tracing off (``POWERTOOLS_TRACE_DISABLED=true``, as in local
runs) and tracing on (as deployed: ``Tracing: Active``, so the X-Ray SDK is loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.template import load_transformed, resources_of_type  # noqa: E402

_SNIPPET = (
    "import time as _t\n"
    "_s = _t.perf_counter()\n"
    "{body}\n"
    "print(_t.perf_counter() - _s)\n"
)

_DUMMY_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "sellerops",
}


def _placeholder(name: str, value: object, defaults: dict[str, str]) -> str:
    """A plain value for an environment variable: parameter defaults, else a dummy name."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("Ref") in defaults:
        return defaults[value["Ref"]]
    return f"bench-{name.lower()}"


def handler_modules() -> dict[str, tuple[str, dict[str, str]]]:
    """Logical id → (handler module, environment variables with placeholder values)."""
    template = load_transformed()
    defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    found = {}
    functions = resources_of_type(template, "AWS::Lambda::Function")
    for logical_id, resource in sorted(functions.items()):
        props = resource["Properties"]
        module = props["Handler"].rsplit(".", 1)[0]
        variables = props.get("Environment", {}).get("Variables", {})
        env = {name: _placeholder(name, value, defaults) for name, value in variables.items()}
        found[logical_id] = (module, env)
    return found


def sample(body: str, env: dict[str, str], runs: int) -> float:
    """Median seconds of ``body`` in ``runs`` fresh interpreters."""
    full_env = {**os.environ, **_DUMMY_ENV, **env, "PYTHONDONTWRITEBYTECODE": "0"}
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _SNIPPET.format(body=body)],
            cwd=ROOT, env=full_env, capture_output=True, text=True, check=False,
        )
        if out.returncode != 0:
            raise SystemExit(f"import failed ({body!r}):\n{out.stderr}")
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def interpreter_start(runs: int) -> float:
    """Median wall time of a bare ``python -c pass`` (what every cold start pays first)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    # Warm the bytecode cache once so every sample measures imports, not compilation.
    sample("import boto3", {}, 1)
    baseline = sample("import boto3", {}, args.runs)
    bare = interpreter_start(args.runs)
    rows = []
    for logical_id, (module, env) in handler_modules().items():
        sample(f"import {module}", env, 1)
        off = sample(f"import {module}", {**env, "POWERTOOLS_TRACE_DISABLED": "true"}, args.runs)
        on_env = {k: v for k, v in env.items() if k != "POWERTOOLS_TRACE_DISABLED"}
        on_env["POWERTOOLS_TRACE_DISABLED"] = "false"
        on = sample(f"import {module}", on_env, args.runs)
        rows.append({
            "function": logical_id, "module": module,
            "tracing_off_s": round(off, 4), "tracing_on_s": round(on, 4),
            "ratio_off": round(off / baseline, 2), "ratio_on": round(on / baseline, 2),
        })

    result = {"python": sys.version.split()[0], "runs": args.runs,
              "baseline_import_boto3_s": round(baseline, 4), "bare_interpreter_s": round(bare, 4),
              "handlers": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"python {result['python']}, median of {args.runs} fresh interpreters per cell")
    print(f"baseline  import boto3: {baseline:.3f} s   (imports only; a bare interpreter's "
          f"start, {bare:.3f} s, is not counted anywhere)")
    print(f"{'function':<24} {'module':<34} {'off s':>7} {'ratio':>6} {'on s':>7} {'ratio':>6}")
    for row in rows:
        print(f"{row['function']:<24} {row['module']:<34} {row['tracing_off_s']:>7.3f} "
              f"{row['ratio_off']:>5.2f}x {row['tracing_on_s']:>7.3f} {row['ratio_on']:>5.2f}x")
    print("goal: <= 2.00x import boto3 for every handler (tracing off); 'on' = as deployed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
