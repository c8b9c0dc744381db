"""The `yuqing` command: JSON shapes of the public contract, and errors as one line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from yuqing.cli import app


@pytest.fixture
def run(tmp_path: Path, sqlite_url: str) -> CliRunner:
    env = {"YUQING_DATA_DIR": str(tmp_path / "data"), "YUQING_DATABASE_URL": sqlite_url}
    return CliRunner(env=env)


def _json(runner: CliRunner, *args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def test_import_reports_counts_and_errors_as_json(run: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": 1, "content": "云岭农商银行网点排长队", "platform": "weibo"}\n'
        "{oops\n"
        '{"id": 3, "content": "储户反映取不出钱", "metrics": {"views": -5}}\n',
        encoding="utf-8",
    )
    report = _json(run, "import", str(path))
    assert isinstance(report, dict)
    assert report["imported"] == 1
    assert report["duplicates"] == 0
    assert [e["line"] for e in report["errors"]] == [2, 3]
    assert all(e["error"] for e in report["errors"])
    again = _json(run, "import", str(path))
    assert isinstance(again, dict)
    assert (again["imported"], again["duplicates"]) == (0, 1)


def test_import_of_a_missing_file_is_one_red_line(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(app, ["import", str(tmp_path / "nope.jsonl"), "--json"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("错误：")
    assert len(result.stderr.strip().splitlines()) == 1


def test_subjects_add_list_import_and_search(run: CliRunner, tmp_path: Path) -> None:
    added = _json(run, "subjects", "add", "云岭农商银行", "-a", "云岭农商行", "-x", "招聘")
    assert added == {"name": "云岭农商银行", "created": True}
    subjects_file = tmp_path / "subjects.json"
    subjects_file.write_text(
        '[{"name": "挤兑传言", "kind": "topic",'
        ' "rule": "(云岭农商 | 云岭农信) & (挤兑 | 取不出)"}]',
        encoding="utf-8",
    )
    assert _json(run, "subjects", "import", str(subjects_file)) == {"created": 1, "updated": 0}
    listed = _json(run, "subjects", "list")
    assert isinstance(listed, list)
    assert [s["name"] for s in listed] == ["云岭农商银行", "挤兑传言"]

    items = tmp_path / "items.jsonl"
    items.write_text(
        '{"content": "网传云岭农商行发生挤兑，银行辟谣"}\n{"content": "今天天气不错"}\n',
        encoding="utf-8",
    )
    _json(run, "import", str(items))
    found = _json(run, "search", "挤兑")
    assert isinstance(found, dict)
    assert found["total"] == 1
    assert sorted(found["items"][0]["subjects"]) == [listed[0]["id"], listed[1]["id"]]
    assert _json(run, "search", "天气", "--platform", "weibo") == {
        "total": 0,
        "page": 1,
        "items": [],
    }


def test_bad_rule_is_refused_with_its_position(run: CliRunner) -> None:
    result = run.invoke(app, ["subjects", "add", "x", "--rule", "(挤兑 & "])
    assert result.exit_code == 1
    assert "规则语法错误" in result.stderr


def test_init_and_db_upgrade(run: CliRunner) -> None:
    init = _json(run, "init")
    assert isinstance(init, dict) and init["database"].startswith("sqlite")
    assert _json(run, "db", "upgrade") == {"upgraded": False, "database": init["database"]}


def test_demo_without_serving(run: CliRunner) -> None:
    report = _json(run, "demo", "--no-serve")
    assert isinstance(report, dict)
    assert report["imported"] >= 300
    assert report["errors"] == []
    assert report["units"] >= 7
