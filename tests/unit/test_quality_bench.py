"""bench/quality.py smoke test: one small market, three runs, prices inside the bounds."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_bench():
    spec = importlib.util.spec_from_file_location("quality_bench", ROOT / "bench" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_quality_bench_runs_three_different_runs_inside_the_bounds():
    bench = load_bench()
    row = bench.run_case(("aggressive", 1, 1, 3, {}))
    for mode in bench.MODES:
        assert row[mode]["out_of_bounds"] == 0
        assert row[mode]["revenue"] > 0
    assert len({row[mode]["revenue"] for mode in bench.MODES}) == 3
    assert row["ours"]["price_changes"] > 0 and row["none"]["price_changes"] == 0
    totals = bench.aggregate([row])
    assert totals["overall"]["runs"] == 1 and totals["overall"]["out_of_bounds"] == 0
    assert "ours/naive" in bench.format_table([row], totals)
