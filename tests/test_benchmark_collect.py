"""The collection benchmark runs end to end on a tiny site and writes its JSON."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "collect.py"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_collect", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_run_collects_every_page_and_writes_the_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "collect.json"
    argv = ["--n", "6", "--runs", "1", "--concurrency", "1", "4", "--latency-ms", "0", "5"]
    assert _benchmark().main([*argv, "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["benchmark"] == "collect"
    assert (result["n"], result["runs"], result["concurrency"]) == (6, 1, [1, 4])
    assert {"platform", "python", "cpu_count"} <= result["machine"].keys()
    assert result["extraction_only_seconds"] > 0 and result["mean_article_chars"] > 100
    rows = result["results"]
    assert [(r["latency_ms"], r["concurrency"]) for r in rows] == [(0, 1), (0, 4), (5, 1), (5, 4)]
    for row in rows:
        assert row["complete"] and (row["pages"], row["items"], row["errors"]) == (7, 6, 0)
        assert row["with_views"] == 6
        assert row["seconds"] > 0 and row["pages_per_second"] > 0
        assert len(row["runs_seconds"]) == 1
    assert [r["ratio_to_concurrency_1"] for r in rows[::2]] == [1.0, 1.0]
    table = capsys.readouterr().out
    assert "pages/s" in table and "concurrency" in table


def test_arguments_are_checked() -> None:
    with pytest.raises(SystemExit):
        _benchmark().parse_args(["--concurrency", "0"])
    with pytest.raises(SystemExit):
        _benchmark().parse_args(["--concurrency", "65"])
