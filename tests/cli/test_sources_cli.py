"""`yuqing sources add|list|show|remove|test` and `yuqing collect`, on the fixture server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner, Result

from fixture_server import FixtureServer
from yuqing.cli import app

NEWS = {
    "link_selector": "ul.news-list a",
    "next_selector": "a.next",
    "max_pages": 3,
    "metrics": {"views": "span.views"},
}


@pytest.fixture
def run(tmp_path: Path, sqlite_url: str) -> CliRunner:
    env = {
        "YUQING_DATA_DIR": str(tmp_path / "data"),
        "YUQING_DATABASE_URL": sqlite_url,
        "YUQING_COLLECT_ALLOW_PRIVATE_ADDRESSES": "true",
        "YUQING_COLLECT_HOST_INTERVAL_SECONDS": "0",
        "YUQING_COLLECT_BACKOFF_SECONDS": "0.01",
        "YUQING_COLLECT_RETRIES": "1",
        "YUQING_COLLECT_TIMEOUT_SECONDS": "2",
        "YUQING_COLLECT_JITTER_SECONDS": "0",
        "YUQING_COLLECT_FAILURE_LIMIT": "2",
    }
    return CliRunner(env=env)


def _json(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _one_red_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("错误：")
    return lines[0]


def _add_news(run: CliRunner, site: FixtureServer, name: str = "滨江日报网") -> Any:
    config = orjson.dumps({"url": site.url("news/index.html"), **NEWS}).decode()
    return _json(
        run,
        *("sources", "add", name, "--kind", "web", "--platform", "news"),
        *("--media-tier", "local", "--region", "滨江市", "--config", config, "--interval", "30"),
    )


def test_add_list_show_and_collect_a_web_source(run: CliRunner, site: FixtureServer) -> None:
    added = _add_news(run, site)
    assert (added["name"], added["kind"], added["interval_minutes"]) == ("滨江日报网", "web", 30)
    assert added["region"] == "滨江市"
    assert "token" not in added

    report = _json(run, "collect", "--source", "滨江日报网")
    (only,) = report["sources"]
    assert only["ok"], only["error"]
    assert (only["records"], only["imported"], only["duplicates"]) == (8, 8, 0)

    (listed,) = _json(run, "sources", "list")
    assert listed["health"]["last_success_at"]
    assert listed["health"]["items_per_run"] == 8
    assert listed["health"]["failing"] is False
    text = run.invoke(app, ["sources", "list"])
    assert text.exit_code == 0
    assert (
        "滨江日报网" in text.stdout and "每 30 分钟" in text.stdout and "每次 8.0 条" in text.stdout
    )

    shown = _json(run, "sources", "show", str(added["id"]))
    assert [r["imported"] for r in shown["runs"]] == [8]
    assert shown["health"]["items_total"] == 8
    human = run.invoke(app, ["sources", "show", "滨江日报网"])
    assert human.exit_code == 0
    assert "成功" in human.stdout and "新增 8" in human.stdout


def test_sources_test_prints_items_and_stores_nothing(run: CliRunner, site: FixtureServer) -> None:
    _add_news(run, site)
    preview = _json(run, "sources", "test", "滨江日报网")
    assert len(preview["items"]) == 8
    assert preview["errors"] == []
    titles = {i["title"] for i in preview["items"]}
    assert "滨江市地铁3号线二期工程今日开通运营" in titles
    assert all(i["url"].startswith(site.url("news/articles/")) for i in preview["items"])
    assert any(i["metrics"].get("views") for i in preview["items"])
    human = run.invoke(app, ["sources", "test", "滨江日报网"])
    assert human.exit_code == 0
    assert "8 条将入库" in human.stdout
    assert _json(run, "search", "地铁")["total"] == 0
    (listed,) = _json(run, "sources", "list")
    assert listed["health"]["runs"] == 0


def test_a_failing_source_is_one_red_line_and_collect_exits_1_after_all(
    run: CliRunner, site: FixtureServer
) -> None:
    _add_news(run, site)
    _json(
        run,
        *("sources", "add", "消失的论坛", "--kind", "rss"),
        *("--config", orjson.dumps({"url": site.url("nope/feed.xml")}).decode()),
    )
    line = _one_red_line(run.invoke(app, ["sources", "test", "消失的论坛"]))
    assert "nope/feed.xml" in line

    result = run.invoke(app, ["collect", "--all", "--json"])
    assert result.exit_code == 1
    reports = {r["source"]: r for r in orjson.loads(result.stdout)["sources"]}
    assert reports["滨江日报网"]["ok"] and reports["滨江日报网"]["imported"] == 8
    assert not reports["消失的论坛"]["ok"]
    assert "nope/feed.xml" in reports["消失的论坛"]["error"]
    second = run.invoke(app, ["collect", "--all", "--json"])
    assert second.exit_code == 1
    listed = {s["name"]: s for s in _json(run, "sources", "list")}
    assert listed["消失的论坛"]["health"]["failing"] is True
    assert "nope/feed.xml" in listed["消失的论坛"]["health"]["last_error"]
    text = run.invoke(app, ["sources", "list"])
    failing_line = next(ln for ln in text.stdout.splitlines() if "消失的论坛" in ln)
    assert "失败" in failing_line and "最近错误" in failing_line


def test_collect_all_skips_disabled_and_passive_sources(
    run: CliRunner, site: FixtureServer
) -> None:
    config = orjson.dumps({"url": site.url("news/index.html"), **NEWS}).decode()
    _json(run, "sources", "add", "停用的源", "--kind", "web", "--config", config, "--disabled")
    _json(run, "sources", "add", "人工录入", "--kind", "manual")
    assert _json(run, "collect", "--all") == {"sources": []}
    assert site.requests_to("news/index.html") == []


def test_push_source_shows_its_token_once(run: CliRunner) -> None:
    result = run.invoke(app, ["sources", "add", "外部爬虫", "--kind", "push"])
    assert result.exit_code == 0, result.output
    assert "推送令牌：" in result.stdout
    assert "只显示这一次" in result.stderr
    token = result.stdout.split("推送令牌：")[1].split()[0]
    assert len(token) >= 32
    shown = run.invoke(app, ["sources", "show", "外部爬虫", "--json"])
    assert token not in shown.stdout
    added = _json(run, "sources", "add", "另一个爬虫", "--kind", "push")
    assert len(added["token"]) >= 32


def test_config_file_and_cron(run: CliRunner, site: FixtureServer, tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(orjson.dumps({"url": site.url("feeds/rss20.xml")}).decode(), "utf-8")
    added = _json(
        run,
        *("sources", "add", "订阅", "--kind", "rss", "--config-file", str(path)),
        *("--cron", "0 8,12,17 * * 1-5", "--no-robots", "--max-items", "50"),
    )
    assert (added["cron"], added["robots"], added["max_items"]) == ("0 8,12,17 * * 1-5", False, 50)
    human = run.invoke(app, ["sources", "show", "订阅"])
    assert "定时 0 8,12,17 * * 1-5" in human.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--kind", "ftp"], "未知的源类型"),
        (["--kind", "rss", "--config", "{oops"], "不是有效的 JSON"),
        (["--kind", "rss", "--config", "[1]"], "应为 JSON 对象"),
        (["--kind", "rss", "--config", '{"url": "https://a.example/f", "x": 1}'], "x："),
        (["--kind", "rss", "--config", '{"url": "https://a.example/f"}', "--cron", "bad"], "定时"),
        (["--kind", "manual", "--interval", "0"], "抓取间隔"),
        (["--kind", "manual", "--platform", "nowhere"], "platform"),
    ],
)
def test_bad_input_is_one_red_line(run: CliRunner, args: list[str], words: str) -> None:
    line = _one_red_line(run.invoke(app, ["sources", "add", "某源", *args]))
    assert words in line
    assert _json(run, "sources", "list") == []


def test_duplicate_name_and_unknown_source(run: CliRunner) -> None:
    _json(run, "sources", "add", "某论坛", "--kind", "manual")
    assert "已有名为「某论坛」的源" in _one_red_line(
        run.invoke(app, ["sources", "add", "某论坛", "--kind", "manual"])
    )
    for command in (["show"], ["test"], ["remove", "--yes"]):
        assert "没有这个源" in _one_red_line(run.invoke(app, ["sources", *command, "没有这个源"]))
    assert "没有这个源" in _one_red_line(run.invoke(app, ["collect", "-s", "没有这个源"]))
    assert "--all" in _one_red_line(run.invoke(app, ["collect"]))


def test_remove_asks_unless_yes(run: CliRunner) -> None:
    _json(run, "sources", "add", "某论坛", "--kind", "manual")
    declined = run.invoke(app, ["sources", "remove", "某论坛"], input="n\n")
    assert declined.exit_code == 1
    assert "已取消" in declined.stderr
    assert len(_json(run, "sources", "list")) == 1
    accepted = run.invoke(app, ["sources", "remove", "某论坛"], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert _json(run, "sources", "list") == []
    again = _json(run, "sources", "add", "又一个", "--kind", "manual")
    assert _json(run, "sources", "remove", "又一个", "--yes") == {
        "removed": again["id"],
        "name": "又一个",
    }
