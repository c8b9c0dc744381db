"""The web source kind against the local fixture server, through the real polite fetcher."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fixture_server import FixtureServer, fetching_locally, reply
from yuqing.domain import Metrics, Platform, RawItem
from yuqing.errors import SourceError
from yuqing.pipeline.base import ItemError
from yuqing.settings import Settings
from yuqing.sources.base import CollectContext, Collected, SourceInfo
from yuqing.sources.extract import entry_key
from yuqing.sources.fetch import Fetcher
from yuqing.sources.web import WebConfig, WebSource

SOURCE = SourceInfo(name="滨江日报网", kind="web", platform=Platform.NEWS)
NOW = datetime(2026, 11, 6, tzinfo=UTC)
NEWS = {
    "link_selector": "ul.news-list a",
    "next_selector": "a.next",
    "metrics": {"views": "span.views"},
}
FORUM = {
    "link_pattern": r"/thread-\d+-1-1\.html$",
    "title_selector": "#thread_subject",
    "content_selector": "td.t_f",
    "date_selector": ".plc .authi em",
    "author_selector": ".pls .authi a",
    "metrics": {"views": "span.views", "comments": "span.replies"},
}


def _settings(tmp_path: Path) -> Settings:
    return fetching_locally(Settings(data_dir=tmp_path))


def _run(
    tmp_path: Path,
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    *,
    max_items: int = 500,
    revisit: Sequence[str] | None = None,
) -> Collected:
    source = WebSource(WebConfig.model_validate(config))

    async def go() -> Collected:
        async with Fetcher(_settings(tmp_path)) as fetcher:
            ctx = CollectContext(SOURCE, fetcher, NOW, {} if state is None else state, max_items)
            if revisit is not None:
                return await source.revisit(ctx, revisit)
            return await source.collect(ctx)

    return asyncio.run(go())


def _items(collected: Collected) -> list[RawItem]:
    return [r for r in collected.records if isinstance(r, RawItem)]


def _errors(collected: Collected) -> list[ItemError]:
    return [r for r in collected.records if isinstance(r, ItemError)]


def test_a_listing_and_its_next_page_give_every_article(
    site: FixtureServer, tmp_path: Path
) -> None:
    collected = _run(tmp_path, {"url": site.url("news/index.html"), "max_pages": 3, **NEWS})
    items = _items(collected)
    assert [i.url for i in items] == [site.url(f"news/articles/{n}.html") for n in range(1, 9)]
    assert collected.records == items and collected.problems == []
    assert collected.pages == 2 + 8
    first = items[0]
    assert first.title == "滨江市地铁3号线二期工程今日开通运营"
    assert first.content.startswith("11月3日上午8时，滨江市地铁3号线二期工程正式开通初期运营。")
    assert "版权所有" not in first.content
    assert (first.author, first.published) == ("记者 张伟", "2026-11-03 08:30")
    assert first.metrics == Metrics(views=12_000)
    assert first.origin == f"源「滨江日报网」 {first.url}"
    assert [i.metrics.views for i in items[1:4]] == [8563, 100_000, 35_000]


def test_one_page_by_default_and_no_next_page_without_a_selector(
    site: FixtureServer, tmp_path: Path
) -> None:
    collected = _run(tmp_path, {"url": site.url("news/index.html"), **NEWS})
    assert len(_items(collected)) == 5
    assert site.requests_to("news/page2.html") == []


def test_paging_stops_at_a_page_already_read(site: FixtureServer, tmp_path: Path) -> None:
    # On page 2 the first pager link leads back to page 1.
    config = {**NEWS, "url": site.url("news/index.html"), "next_selector": ".pages a"}
    collected = _run(tmp_path, {**config, "max_pages": 10})
    assert len(_items(collected)) == 8
    assert len(site.requests_to("news/index.html")) == 1


def test_articles_collected_before_are_not_fetched_again(
    site: FixtureServer, tmp_path: Path
) -> None:
    state: dict[str, Any] = {}
    config = {"url": site.url("news/index.html"), **NEWS}
    assert len(_items(_run(tmp_path, config, state))) == 5
    again = _run(tmp_path, config, state)
    assert again.records == [] and again.pages == 1
    assert len(site.requests_to("news/articles/1.html")) == 1


def test_gbk_pages_are_read_by_their_meta_charset(site: FixtureServer, tmp_path: Path) -> None:
    config = {**NEWS, "url": site.url("news/gbk/index.gbk.html"), "max_pages": 2}
    items = _items(_run(tmp_path, config))
    assert [i.url for i in items][-1] == site.url("news/gbk/articles/8.gbk.html")
    assert len(items) == 8
    assert items[2].title == "市农商银行多个网点排长队 银行回应：系统升级所致"
    assert "网传“取不出钱”的说法与事实不符" in items[2].content
    assert items[2].metrics.views == 100_000


def test_forum_threads_by_link_pattern_with_selectors(site: FixtureServer, tmp_path: Path) -> None:
    collected = _run(tmp_path, {"url": site.url("forum/index.html"), **FORUM})
    # The pinned rules thread is linked but gone: one error, the run goes on.
    [gone] = _errors(collected)
    assert gone.where == f"源「滨江日报网」 {site.url('forum/thread-900-1-1.html')}"
    assert gone.error.startswith("文章页抓取失败：")
    items = _items(collected)
    assert [i.title for i in items] == [
        "城南停水通知来了，大家提前储水",
        "城南停水到底什么时候恢复？",
        "农商行排队情况实拍，排了两个小时",
        "滨江马拉松志愿者招募，有一起的吗",
    ]
    second = items[1]
    assert second.content.startswith("说好的晚上9点恢复，现在还是没水")
    assert second.content.endswith("正在抢修，大家再耐心等等。")
    assert "Discuz" not in second.content and "查看" not in second.content
    assert (second.author, second.published) == ("南湖老住户", "2026-11-04 20:15")
    assert second.metrics == Metrics(views=12_000, comments=236)
    # Profile and paging links do not match the pattern; each thread is fetched once.
    assert site.requests_to("forum/space-uid-20031.html") == []
    assert len(site.requests_to("forum/thread-1001-1-1.html")) == 1


def test_max_items_bounds_a_run_and_other_hosts_are_dropped(
    site: FixtureServer, tmp_path: Path
) -> None:
    config = {"url": site.url("hostile/many.html"), "link_pattern": r"article\.html\?id="}
    collected = _run(tmp_path, config, max_items=7)
    items = _items(collected)
    assert [i.url for i in items] == [site.url(f"hostile/article.html?id={n}") for n in range(1, 8)]
    assert collected.records == items
    assert len(site.requests_to("hostile/article.html")) == 7
    assert items[0].title == "滨江快讯：城区部分路段今晚起实施夜间施工"


def test_a_listing_of_200_links_yields_each_once(site: FixtureServer, tmp_path: Path) -> None:
    # Articles 1-190 were collected before: the run fetches only the last ten, so all 200
    # links were found, the repeated "#comments" link of article 1 and off-site ones dropped.
    state: dict[str, Any] = {"seen": []}
    for n in range(1, 191):
        state["seen"].append(entry_key(site.url(f"hostile/article.html?id={n}")))
    config = {"url": site.url("hostile/many.html"), "link_selector": "ul.flash a"}
    collected = _run(tmp_path, config, state)
    wanted = [site.url(f"hostile/article.html?id={n}") for n in range(191, 201)]
    assert [i.url for i in _items(collected)] == wanted
    assert collected.records == _items(collected)
    assert len(site.requests_to("hostile/article.html")) == 10
    assert len(state["seen"]) == 200


def test_links_to_other_hosts_are_followed_when_allowed(
    site: FixtureServer, tmp_path: Path
) -> None:
    # The fixture server under a second name is a second host.
    other = site.base_url.replace("127.0.0.1", "localhost")
    listing = (
        f'<ul class="l"><li><a href="{other}/news/articles/1.html">外站</a></li>'
        f'<li><a href="/news/articles/2.html">本站</a></li></ul>'
    )
    url = site.route("list.html", lambda r: reply(r, 200, listing))
    config = {"url": url, "link_selector": ".l a"}
    assert [i.url for i in _items(_run(tmp_path, config))] == [site.url("news/articles/2.html")]
    both = _items(_run(tmp_path, {**config, "same_host": False}))
    assert [i.url for i in both] == [
        f"{other}/news/articles/1.html",
        site.url("news/articles/2.html"),
    ]


def test_script_laden_articles_give_only_their_text(site: FixtureServer, tmp_path: Path) -> None:
    listing = '<div class="x"><a href="/hostile/script.html">食堂</a></div>'
    url = site.route("scripts.html", lambda r: reply(r, 200, listing))
    for extra in ({}, {"content_selector": "#content"}):
        [item] = _items(_run(tmp_path, {"url": url, "link_selector": ".x a", **extra}))
        assert item.content.startswith("11月5日，有学生在网络平台发帖称")
        for words in ("脚本", "alert", "注释", "JavaScript", "模板", "样式", "框架"):
            assert words not in item.content


def test_revisit_fetches_known_articles_again_for_fresh_counters(
    site: FixtureServer, tmp_path: Path
) -> None:
    counter = itertools.count(1)
    article = (Path(__file__).parents[1] / "fixtures/sites/news/articles/1.html").read_text()

    def growing(request: BaseHTTPRequestHandler) -> None:
        reply(request, 200, article.replace("阅读 1.2万", f"阅读 {next(counter)}万"))

    url = site.route("news/hot.html", growing)
    config = {"url": site.url("news/index.html"), **NEWS}
    state: dict[str, Any] = {}
    first = _run(tmp_path, config, state, revisit=[url])
    again = _run(tmp_path, config, state, revisit=[url, site.url("news/articles/2.html")])
    assert [i.metrics.views for i in _items(first)] == [10_000]
    assert [i.metrics.views for i in _items(again)] == [20_000, 8563]
    assert _items(again)[0].title == "滨江市地铁3号线二期工程今日开通运营"


def test_an_unreachable_listing_fails_the_run(site: FixtureServer, tmp_path: Path) -> None:
    url = site.url("news/missing.html")
    with pytest.raises(SourceError) as caught:
        _run(tmp_path, {"url": url, **NEWS})
    assert str(caught.value).startswith(f"源「滨江日报网」 {url}：列表页无法抓取：")


def test_a_listing_that_is_not_html_fails_the_run(site: FixtureServer, tmp_path: Path) -> None:
    url = site.url("sitemap/pages.xml.gz")
    with pytest.raises(SourceError, match="列表页不是网页（内容类型为 application/xml）"):
        _run(tmp_path, {"url": url, **NEWS})


def test_a_listing_without_matching_links_fails_the_run(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = site.url("news/index.html")
    with pytest.raises(SourceError, match=re.escape("列表页上没有找到文章链接（规则「ul.gone a」")):
        _run(tmp_path, {"url": url, "link_selector": "ul.gone a"})


def test_a_next_page_that_fails_ends_the_paging_with_a_note(
    site: FixtureServer, tmp_path: Path
) -> None:
    site.route("news/page2.html", lambda r: reply(r, 404, "没有了"))
    collected = _run(tmp_path, {"url": site.url("news/index.html"), "max_pages": 2, **NEWS})
    assert len(_items(collected)) == 5
    [problem] = collected.problems
    assert problem.startswith(f"源「滨江日报网」 {site.url('news/page2.html')}：翻页抓取失败：")


def test_an_article_page_that_is_not_html_is_an_item_error(
    site: FixtureServer, tmp_path: Path
) -> None:
    listing = '<p class="x"><a href="/feeds/atom.xml">订阅</a><a href="/hello/">你好</a></p>'
    url = site.route("mixed.html", lambda r: reply(r, 200, listing))
    collected = _run(tmp_path, {"url": url, "link_selector": ".x a"})
    error, item = collected.records
    assert isinstance(error, ItemError) and "文章页不是网页" in error.error
    assert isinstance(item, RawItem) and item.content == "你好，世界"


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({}, "须填写且只填写一个"),
        ({"link_selector": "a", "link_pattern": "x"}, "须填写且只填写一个"),
        ({"link_selector": "a[["}, "CSS 选择器无法解析"),
        ({"link_pattern": "thread-("}, "链接正则表达式无法解析"),
        ({"link_selector": "a", "metrics": {"shares": ".s"}}, "不认识的指标 shares"),
        ({"link_selector": "a", "metrics": {"views": "[["}}, "CSS 选择器无法解析"),
        ({"link_selector": "a", "max_pages": 0}, "max_pages"),
        ({"link_selector": "a", "link_selectr": "b"}, "link_selectr"),
    ],
)
def test_config_errors_name_the_problem(config: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        WebConfig.model_validate({"url": "https://news.example.cn/", **config})
    assert (WebSource.kind, WebSource.label) == ("web", "网页列表")
