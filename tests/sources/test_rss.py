"""The rss source kind against the local fixture server, through the real polite fetcher."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from fixture_server import SITES, FixtureServer, fetching_locally, reply
from yuqing.domain import Platform, RawItem
from yuqing.errors import SourceError
from yuqing.pipeline.base import Batch, ItemError
from yuqing.pipeline.normalize import Normalize
from yuqing.settings import Settings
from yuqing.sources.base import CollectContext, Collected, SourceInfo
from yuqing.sources.fetch import Fetcher
from yuqing.sources.rss import RssConfig, RssSource

SOURCE = SourceInfo(name="滨江日报订阅", kind="rss", platform=Platform.NEWS, region="滨江市")
NOW = datetime(2026, 11, 6, tzinfo=UTC)
FEED_HOST = "https://news.example.cn"


def _settings(tmp_path: Path) -> Settings:
    return fetching_locally(Settings(data_dir=tmp_path))


def _run(tmp_path: Path, url: str, state: dict[str, Any] | None = None, **config: Any) -> Collected:
    source = RssSource(RssConfig(url=url, **config))

    async def go() -> Collected:
        async with Fetcher(_settings(tmp_path)) as fetcher:
            return await source.collect(
                CollectContext(SOURCE, fetcher, NOW, {} if state is None else state)
            )

    return asyncio.run(go())


def _items(collected: Collected) -> list[RawItem]:
    return [r for r in collected.records if isinstance(r, RawItem)]


def _errors(collected: Collected) -> list[ItemError]:
    return [r for r in collected.records if isinstance(r, ItemError)]


def _normalized(items: list[RawItem]) -> list[Any]:
    stage = Normalize(ZoneInfo("Asia/Shanghai"), 100_000, now=lambda: NOW)
    batch = stage.process(Batch(raw=items))
    assert batch.errors == []
    return batch.items


def _serve_on_site(site: FixtureServer, path: str, content_type: str) -> str:
    """Serve a fixture feed with its links pointing at the fixture server (with an ETag)."""
    body = (SITES / path).read_bytes().replace(FEED_HOST.encode(), site.base_url.encode())
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'

    def handler(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == etag:
            reply(request, 304, b"", content_type, {"ETag": etag})
        else:
            reply(request, 200, body, content_type, {"ETag": etag})

    return site.route(path, handler)


def test_rss_2_entries_become_items(site: FixtureServer, tmp_path: Path) -> None:
    collected = _run(tmp_path, site.url("feeds/rss20.xml"))
    assert collected.pages == 1 and collected.problems == []
    first, second, third = _items(collected)
    assert first.title == "滨江市地铁3号线二期工程今日开通运营"
    assert first.url == f"{FEED_HOST}/news/articles/1.html"
    assert first.content.startswith("<p>11月3日上午8时")  # content:encoded over description
    assert first.is_html
    assert first.author == "张伟"
    assert first.published == datetime(2026, 11, 3, 0, 30, tzinfo=UTC)
    assert first.external_id == "bjrb-20261103-0001"
    assert (first.platform, first.region, first.origin) == (
        Platform.NEWS,
        "滨江市",
        f"源「滨江日报订阅」 {FEED_HOST}/news/articles/1.html",
    )
    assert second.content == "11月4日9时至21时，城南片区将临时停水12小时，涉及约3.2万户居民。"
    assert third.published == "2026年11月2日 10:12"  # feedparser could not read it; normalize can
    assert third.author == "chenjing@news.example.cn (陈静)"
    [error] = _errors(collected)
    assert error.where == f"源「滨江日报订阅」 {site.url('feeds/rss20.xml')} 第 4 个条目"
    assert error.error == "条目既没有链接也没有正文"
    normalized = _normalized(_items(collected))
    assert normalized[0].content == (
        "11月3日上午8时，滨江市地铁3号线二期工程正式开通初期运营。\n\n"
        "二期工程线路全长18.6公里，共设车站13座。"
    )
    assert normalized[2].published_at == datetime(2026, 11, 2, 2, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "titles", "published"),
    [
        (
            "feeds/rss091.xml",
            ["滨江市地铁3号线二期工程今日开通运营", "城南片区明日起临时停水12小时 市民请提前储水"],
            [None, None],
        ),
        (
            "feeds/rss092.xml",
            ["市农商银行多个网点排长队 银行回应：系统升级所致", ""],
            [None, None],
        ),
        (
            "feeds/rss10.rdf",
            [
                "滨江大学食堂饭菜涨价引学生热议 校方称将召开听证会",
                "秋冬季流感进入高发期 疾控专家提醒接种疫苗",
            ],
            [datetime(2026, 11, 1, 13, 5, tzinfo=UTC), datetime(2026, 10, 29, 8, 40, tzinfo=UTC)],
        ),
        (
            "feeds/atom.xml",
            ["第十届滨江国际马拉松鸣枪开跑 三万名跑者参赛", "老旧小区加装电梯试点扩大至12个街道"],
            # <published> first, <updated> when an entry has only that.
            [datetime(2026, 10, 31, 23, 50, tzinfo=UTC), datetime(2026, 10, 31, 7, 20, tzinfo=UTC)],
        ),
    ],
)
def test_each_feed_format(
    site: FixtureServer,
    tmp_path: Path,
    path: str,
    titles: list[str],
    published: list[datetime | None],
) -> None:
    collected = _run(tmp_path, site.url(path))
    items = _items(collected)
    assert [i.title for i in items] == titles
    assert [i.published for i in items] == published
    assert collected.records == items and collected.problems == []
    assert all(i.content for i in items)
    assert len(_normalized(items)) == len(items)


def test_atom_keeps_authors_ids_and_the_text_type(site: FixtureServer, tmp_path: Path) -> None:
    html_entry, text_entry = _items(_run(tmp_path, site.url("feeds/atom.xml")))
    assert (html_entry.author, html_entry.external_id) == (
        "孙悦",
        "tag:news.example.cn,2026:article-5",
    )
    assert html_entry.is_html and not text_entry.is_html
    assert text_entry.content.startswith("我市老旧小区加装电梯试点范围")


def test_an_entry_without_link_or_title_keeps_its_text(site: FixtureServer, tmp_path: Path) -> None:
    entry = _items(_run(tmp_path, site.url("feeds/rss092.xml")))[1]
    assert entry.url is None and entry.title == ""
    assert entry.content.startswith("市场监管局提醒")


def test_an_unchanged_feed_answers_304_and_yields_nothing(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = site.url("feeds/rss20.xml")
    state: dict[str, Any] = {}
    assert len(_items(_run(tmp_path, url, state))) == 3
    again = _run(tmp_path, url, state)
    assert again.records == [] and (again.pages, again.not_modified) == (1, 1)
    sent = site.requests_to("feeds/rss20.xml")[-1].headers
    assert sent["If-None-Match"] == state["validators"][url]["etag"]


def test_entries_collected_before_are_skipped(site: FixtureServer, tmp_path: Path) -> None:
    url = site.url("feeds/rss20.xml")
    state: dict[str, Any] = {}
    _run(tmp_path, url, state)
    state.pop("validators")  # the feed answers 200 again, with the same entries
    again = _run(tmp_path, url, state)
    assert _items(again) == [] and len(_errors(again)) == 1


def test_a_run_stops_at_max_items_and_the_next_run_reads_the_rest(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = site.url("feeds/rss20.xml")
    source = RssSource(RssConfig(url=url))
    state: dict[str, Any] = {}

    async def go() -> Collected:
        async with Fetcher(_settings(tmp_path)) as fetcher:
            return await source.collect(CollectContext(SOURCE, fetcher, NOW, state, max_items=2))

    first = asyncio.run(go())
    assert [i.external_id for i in _items(first)] == ["bjrb-20261103-0001", "bjrb-20261102-0007"]
    second = asyncio.run(go())  # not a 304: the first run did not read everything
    assert [i.external_id for i in _items(second)] == ["bjrb-20261102-0003"]
    assert second.not_modified == 0


def test_a_malformed_feed_keeps_what_was_read_and_says_so(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = site.url("feeds/malformed.xml")
    collected = _run(tmp_path, url)
    items = _items(collected)
    assert [i.title for i in items] == ["城南停水到底什么时候恢复？", "农商行排队情况实拍"]
    assert items[1].content == "农商行排队情况实拍"  # its text was lost in the broken markup
    [problem] = collected.problems
    assert problem.startswith(f"源「滨江日报订阅」 {url}：订阅格式有错误（")
    assert problem.endswith("已读取能识别的 2 个条目")


@pytest.mark.parametrize("path", ["feeds/fake.xml", "news/index.html", "hello/"])
def test_a_page_that_is_not_a_feed_fails_the_run(
    site: FixtureServer, tmp_path: Path, path: str
) -> None:
    url = site.url(path)
    with pytest.raises(SourceError, match="不是有效的 RSS/Atom 订阅") as caught:
        _run(tmp_path, url)
    assert str(caught.value).startswith(f"源「滨江日报订阅」 {url}：")


def test_an_unreachable_feed_fails_the_run_naming_source_and_url(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = site.url("feeds/gone.xml")
    with pytest.raises(SourceError) as caught:
        _run(tmp_path, url)
    message = str(caught.value)
    assert message.startswith(f"源「滨江日报订阅」 {url}：订阅无法抓取：")
    assert "404" in message


def test_hostile_entries_lose_scripts_and_resolve_no_entities(
    site: FixtureServer, tmp_path: Path
) -> None:
    collected = _run(tmp_path, site.url("feeds/hostile.xml"))
    items = _items(collected)
    normalized = _normalized(items)
    assert normalized[0].content == "有学生在食堂拍到过期食材的照片。\n\n校方尚未回应。"
    assert all("<script" not in i.content and "onerror" not in i.content for i in items)
    for item in normalized:
        text = f"{item.title} {item.content}"
        for words in ("alert", "脚本内容", "图片脚本", "display", "注释", "root:"):
            assert words not in text
    assert "/etc/passwd" not in str(collected)


def test_full_text_of_linked_articles(site: FixtureServer, tmp_path: Path) -> None:
    url = _serve_on_site(site, "feeds/rss20.xml", "application/rss+xml")
    collected = _run(tmp_path, url, fetch_articles=True)
    first, _, third = _items(collected)
    assert first.url == site.url("news/articles/1.html")
    assert first.content.startswith("11月3日上午8时，滨江市地铁3号线二期工程正式开通初期运营。")
    assert "沿线串联起城北新区" in first.content  # only on the page, not in the feed
    assert not first.is_html
    # The feed's fields where it knows better: id, the precise time.
    assert first.external_id == "bjrb-20261103-0001"
    assert first.published == datetime(2026, 11, 3, 0, 30, tzinfo=UTC)
    assert first.author == "记者 张伟"
    assert third.title == "市农商银行多个网点排长队 银行回应：系统升级所致"
    assert collected.pages == 4
    assert len(site.requests_to("news/articles/2.html")) == 1


def test_an_article_that_cannot_be_fetched_falls_back_to_the_summary(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = _serve_on_site(site, "feeds/rss20.xml", "application/rss+xml")
    site.route("news/articles/2.html", lambda r: reply(r, 404, "已删除"))
    collected = _run(tmp_path, url, fetch_articles=True)
    second = _items(collected)[1]
    assert second.content == "11月4日9时至21时，城南片区将临时停水12小时，涉及约3.2万户居民。"
    [problem] = collected.problems
    assert problem.startswith(
        f"源「滨江日报订阅」 {site.url('news/articles/2.html')}：文章页抓取失败："
    )
    assert problem.endswith("已改用订阅中的摘要")


def test_config_refuses_unknown_keys_and_bad_urls() -> None:
    with pytest.raises(ValidationError, match="fetch_article"):
        RssConfig.model_validate({"url": "https://x.cn/rss", "fetch_article": True})
    with pytest.raises(ValidationError, match="http:// 或 https://"):
        RssConfig.model_validate({"url": "file:///etc/passwd"})
    assert RssSource.kind == "rss" and RssSource.label == "RSS/Atom 订阅"
