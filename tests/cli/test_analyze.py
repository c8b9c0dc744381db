"""`yuqing analyze`: the JSON-lines contract of SPEC 5, streaming, bad lines in place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from yuqing.cli import app
from yuqing.standard import load_standard

STANDARD = load_standard()
GRADES = {g.code.value: g.name for g in STANDARD.grades}
CATEGORIES = {c.code: c.name for c in STANDARD.iter_categories()}
HARM_TYPES = {h.code for h in STANDARD.harm_types}

RUN_ON_BANK = {
    "id": "a1",
    "title": "云岭农商银行要倒闭了？",
    "content": "听说云岭农商银行行长被带走了，银行马上要倒闭，钱取不出来了，门口已经挤兑排队取钱，"
    "赶紧去取钱！转给身边的人！",
    "platform": "weibo",
    "media_tier": "self_media",
    "metrics": {"reposts": 3200, "comments": 900, "likes": 1500},
}
PRAISE = {
    "id": "a2",
    "content": "为云岭农商银行点赞！大堂经理耐心帮我奶奶办好了社保卡，服务太贴心了，谢谢你们！",
    "platform": "weibo",
}
NOTICE = {
    "id": 7,
    "title": "关于系统升级暂停部分业务的公告",
    "content": "尊敬的客户：我行将于10月25日0:00至6:00进行系统升级，期间手机银行暂停服务。",
    "platform": "news",
    "media_tier": "other",
}


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"YUQING_DATA_DIR": str(tmp_path / "data")})


def _lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.strip()]


def _analyze(runner: CliRunner, payload: str, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["analyze", *args], input=payload)
    assert result.exit_code == 0, result.output
    return _lines(result.stdout)


def _jsonl(*records: object) -> str:
    return "".join(orjson.dumps(r).decode() + "\n" for r in records)


def test_output_follows_the_contract(runner: CliRunner) -> None:
    out = _analyze(runner, _jsonl(RUN_ON_BANK, PRAISE, NOTICE))
    assert [o["id"] for o in out] == ["a1", "a2", 7]
    for o in out:
        assert set(o) == {
            "id",
            "sentiment",
            "rumor",
            "offensive",
            "harms",
            "category",
            "grade",
            "subjects",
        }
        assert o["sentiment"]["label"] in {"positive", "neutral", "negative"}
        assert -1 <= o["sentiment"]["score"] <= 1
        for key in ("rumor", "offensive"):
            assert 0 <= o[key]["score"] <= 1
            assert isinstance(o[key]["label"], bool)
        assert all(h["type"] in HARM_TYPES and h["terms"] for h in o["harms"])
        assert CATEGORIES[o["category"]["code"]] == o["category"]["name"]
        assert GRADES[o["grade"]["code"]] == o["grade"]["name"]
        assert o["grade"]["reasons"], "every grade carries its reasons"
        assert all({"rule", "grade", "text", "evidence"} <= set(r) for r in o["grade"]["reasons"])
        assert o["subjects"] == []


def test_grades_follow_the_standard(runner: CliRunner) -> None:
    run, praise, notice = _analyze(runner, _jsonl(RUN_ON_BANK, PRAISE, NOTICE))
    assert run["grade"]["code"] == "dangerous"
    fired = {r["rule"]: r["evidence"] for r in run["grade"]["reasons"]}
    assert "挤兑" in fired["rumor_or_crisis_spreading"]["crisis"]
    assert praise["sentiment"]["label"] == "positive"
    assert praise["grade"]["code"] == "positive"
    assert notice["grade"]["code"] == "general"


def test_subjects_file_scopes_grading(runner: CliRunner, tmp_path: Path) -> None:
    subjects = tmp_path / "subjects.json"
    subjects.write_bytes(
        orjson.dumps(
            [
                {"name": "云岭农商银行", "aliases": ["云岭农商行"], "exclude": ["招聘"]},
                {"name": "挤兑专题", "rule": "(银行 | 农商行) & (挤兑 | 取不出)"},
            ]
        )
    )
    other_bank = {
        **RUN_ON_BANK,
        "id": "b",
        "title": "",
        "content": "某某银行门口有人排队取钱，说是要倒闭了",
    }
    run, other = _analyze(runner, _jsonl(RUN_ON_BANK, other_bank), "--subjects", str(subjects))
    assert run["subjects"] == ["云岭农商银行", "挤兑专题"]
    assert other["subjects"] == []
    assert other["grade"]["code"] in {"general", "attention"}  # not about a monitored subject


def test_bad_lines_get_an_error_in_place_and_the_stream_goes_on(runner: CliRunner) -> None:
    payload = (
        _jsonl(PRAISE)
        + "{not json\n"
        + '["a list"]\n'
        + _jsonl({"id": "x", "title": "无正文"})
        + _jsonl({"id": "y", "content": "正文", "metrics": {"views": "很多"}})
        + _jsonl({"id": "z", "content": "正文", "platform": "myspace"})
        + _jsonl(NOTICE)
    )
    out = _analyze(runner, payload)
    assert [o["id"] for o in out] == ["a2", None, None, "x", "y", "z", 7]
    assert [o.get("line") for o in out[1:6]] == [2, 3, 4, 5, 6]
    assert all(o["error"] for o in out[1:6])
    assert "views" in out[4]["error"]
    assert "grade" in out[0] and "grade" in out[6]


def test_reads_a_file_argument(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(_jsonl(NOTICE, PRAISE), encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == 0, result.output
    assert [o["id"] for o in _lines(result.stdout)] == [7, "a2"]


def test_missing_file_is_one_error_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert "文件不存在" in result.output


def test_streams_batch_by_batch(tmp_path: Path) -> None:
    """The first batch's results come out while the input is still open."""
    env = {
        **os.environ,
        "YUQING_DATA_DIR": str(tmp_path / "data"),
        "YUQING_BATCH_SIZE": "2",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "yuqing", "analyze", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(_jsonl(PRAISE, NOTICE).encode())
        proc.stdin.flush()
        first = orjson.loads(proc.stdout.readline())
        second = orjson.loads(proc.stdout.readline())
        assert (first["id"], second["id"]) == ("a2", 7)
        proc.stdin.write(_jsonl(RUN_ON_BANK).encode())
        proc.stdin.close()
        third = orjson.loads(proc.stdout.readline())
        assert third["id"] == "a1"
        assert proc.wait(timeout=60) == 0
