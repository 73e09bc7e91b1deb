"""bench/reprice.py smoke test: a small workload through both stubbed stacks.

Run as a subprocess: the benchmark sets its own Lambda environment when imported.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_reprice_bench_decides_alike_on_both_stacks_and_refuses_repeats():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "reprice.py"), "--notifications", "400",
         "--skus", "40", "--repeat", "1", "--json", "--no-publishing"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["notifications"] == 400
    assert result["failed_records"] == 0
    assert result["price_updates"] > 0
    # the workload redelivers ~5 % of the notifications: each is refused by the
    # idempotency store, the in-memory one as the DynamoDB one
    assert 5 <= result["repeats"] <= 40
    assert result["same_outcomes"] is True
    assert result["ratio"] > 1 and result["with_repositories_ratio"] > 1
    assert len(result["ratio_runs"]) == 1 and result["ratio_runs"][0] > 1
