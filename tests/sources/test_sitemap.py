"""The sitemap source kind against the local fixture server, through the real polite fetcher.

The fixture sitemaps list https://news.example.cn/…; `_serve_on_site` serves them with those
addresses pointing at the fixture server, as a site's own sitemap would.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fixture_server import SITES, FixtureServer, fetching_locally, reply
from yuqing.domain import Platform, RawItem
from yuqing.errors import SourceError
from yuqing.pipeline.base import ItemError
from yuqing.settings import Settings
from yuqing.sources.base import CollectContext, Collected, SourceInfo
from yuqing.sources.fetch import Fetcher
from yuqing.sources.sitemap import MAX_SITEMAP_BYTES, SitemapConfig, SitemapSource

SOURCE = SourceInfo(name="滨江日报网地图", kind="sitemap", platform=Platform.NEWS)
NOW = datetime(2026, 11, 5, tzinfo=UTC)
HOST = "https://news.example.cn"
SITEMAPS = [
    "sitemap/index.xml",
    "sitemap/news.xml",
    "sitemap/pages.xml.gz",
    "sitemap/archive-2025.xml",
    "sitemap/nested/level1.xml",
    "sitemap/nested/level2.xml",
    "sitemap/nested/too-deep.xml",
    "sitemap/nested/forum.xml",
    "sitemap/xxe.xml",
]


def _settings(tmp_path: Path) -> Settings:
    return fetching_locally(Settings(data_dir=tmp_path))


def _run(
    tmp_path: Path,
    url: str,
    state: dict[str, Any] | None = None,
    *,
    max_items: int = 500,
    **config: Any,
) -> Collected:
    source = SitemapSource(SitemapConfig(url=url, **config))

    async def go() -> Collected:
        async with Fetcher(_settings(tmp_path)) as fetcher:
            ctx = CollectContext(SOURCE, fetcher, NOW, {} if state is None else state, max_items)
            return await source.collect(ctx)

    return asyncio.run(go())


def _serve_on_site(site: FixtureServer) -> None:
    """Every fixture sitemap, its URLs on the fixture server, with ETags answered by 304s."""
    for path in SITEMAPS:
        data = (SITES / path).read_bytes()
        gzipped = data.startswith(b"\x1f\x8b")
        text = gzip.decompress(data) if gzipped else data
        text = text.replace(HOST.encode(), site.base_url.encode())
        _route(site, path, gzip.compress(text, mtime=0) if gzipped else text)


def _route(site: FixtureServer, path: str, body: bytes, kind: str = "application/xml") -> str:
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'

    def handler(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == etag:
            reply(request, 304, b"", kind, {"ETag": etag})
        else:
            reply(request, 200, body, kind, {"ETag": etag})

    return site.route(path, handler)


def _items(collected: Collected) -> list[RawItem]:
    return [r for r in collected.records if isinstance(r, RawItem)]


def _errors(collected: Collected) -> list[ItemError]:
    return [r for r in collected.records if isinstance(r, ItemError)]


def test_an_index_leads_to_recent_articles_newest_first(
    site: FixtureServer, tmp_path: Path
) -> None:
    _serve_on_site(site)
    collected = _run(tmp_path, site.url("sitemap/index.xml"))
    items = _items(collected)
    # Dated URLs newest first (news, plain and gzipped sitemaps, the nested index), then
    # the undated thread; article 8 and the 2025 archive are older than 7 days.
    assert [i.url for i in items] == [
        site.url("forum/thread-1002-1-1.html"),
        *(site.url(f"news/articles/{n}.html") for n in range(1, 8)),
        site.url("forum/thread-1001-1-1.html"),
    ]
    assert collected.records == items
    assert site.requests_to("sitemap/archive-2025.xml") == []
    assert site.requests_to("news/articles/8.html") == []
    # Two index levels are followed; the index a nested index lists is not.
    assert site.requests_to("sitemap/nested/too-deep.xml") == []
    [problem] = collected.problems
    assert problem == (
        f"源「滨江日报网地图」 {site.url('sitemap/index.xml')}：网站地图索引嵌套超过 2 层，"
        "更深的 1 个子地图未读取"
    )
    assert collected.pages == 6 + 9
    first_article = items[1]
    assert first_article.title == "滨江市地铁3号线二期工程今日开通运营"
    assert first_article.published == "2026-11-03T08:30:00+08:00"  # news:publication_date
    assert first_article.content.startswith("11月3日上午8时")
    assert items[6].published == "2026-10-31 15:20"  # no news date: the page's own stamp


def test_since_days_none_reads_everything_listed(site: FixtureServer, tmp_path: Path) -> None:
    _serve_on_site(site)
    collected = _run(tmp_path, site.url("sitemap/index.xml"), since_days=None)
    urls = [i.url for i in _items(collected)]
    assert site.url("news/articles/8.html") in urls
    [old] = _errors(collected)  # listed in the 2025 archive, gone from the site
    assert old.where == f"源「滨江日报网地图」 {site.url('news/2025/old.html')}"


def test_max_sitemaps_bounds_the_children_read(site: FixtureServer, tmp_path: Path) -> None:
    _serve_on_site(site)
    collected = _run(tmp_path, site.url("sitemap/index.xml"), max_sitemaps=1)
    # Only the newest child: the news sitemap.
    assert [i.url for i in _items(collected)] == [
        site.url(f"news/articles/{n}.html") for n in (1, 2, 3, 4, 5)
    ]
    assert site.requests_to("sitemap/pages.xml.gz") == []
    assert any("超过每次 1 个的上限" in p for p in collected.problems)


def test_unchanged_sitemaps_answer_304_and_the_index_still_leads_to_its_children(
    site: FixtureServer, tmp_path: Path
) -> None:
    _serve_on_site(site)
    url = site.url("sitemap/index.xml")
    state: dict[str, Any] = {}
    assert len(_items(_run(tmp_path, url, state))) == 9
    again = _run(tmp_path, url, state)
    assert again.records == []
    assert again.not_modified == 6  # the index and every child read before
    assert len(site.requests_to("sitemap/news.xml")) == 2
    assert site.requests_to("sitemap/news.xml")[-1].headers["If-None-Match"]


def test_a_news_sitemap_rewritten_under_an_unchanged_index_is_read(
    site: FixtureServer, tmp_path: Path
) -> None:
    _serve_on_site(site)
    url = site.url("sitemap/index.xml")
    state: dict[str, Any] = {}
    _run(tmp_path, url, state)
    fresh = (SITES / "sitemap/news.xml").read_bytes().replace(HOST.encode(), site.base_url.encode())
    _route(site, "sitemap/news.xml", fresh.replace(b"articles/5.html", b"articles/8.html"))
    again = _run(tmp_path, url, state)
    assert [i.url for i in _items(again)] == [site.url("news/articles/8.html")]


def test_max_items_bounds_a_run_and_the_next_run_reads_the_rest(
    site: FixtureServer, tmp_path: Path
) -> None:
    _serve_on_site(site)
    url = site.url("sitemap/news.xml")
    state: dict[str, Any] = {}
    first = _run(tmp_path, url, state, max_items=3)
    assert [i.url for i in _items(first)] == [
        site.url(f"news/articles/{n}.html") for n in (1, 2, 3)
    ]
    second = _run(tmp_path, url, state, max_items=3)  # no 304: the rest is still to read
    assert [i.url for i in _items(second)] == [site.url(f"news/articles/{n}.html") for n in (4, 5)]


def test_entities_are_not_resolved(site: FixtureServer, tmp_path: Path) -> None:
    _serve_on_site(site)
    collected = _run(tmp_path, site.url("sitemap/xxe.xml"))
    # The file entity, the remote entity and the entity bomb stay unexpanded: those <loc>s
    # are no URLs. The plain one is read.
    assert [i.url for i in _items(collected)] == [site.url("news/articles/1.html")]
    assert collected.records == _items(collected) and collected.problems == []
    assert site.requests_to("sitemap/secret.txt") == []
    assert "root:" not in str(collected)
    assert [r.path for r in site.log if "lol" in r.path] == []


def test_a_gzip_bomb_is_refused(site: FixtureServer, tmp_path: Path) -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 1000), compresslevel=1)
    url = _route(site, "sitemap/bomb.xml.gz", bomb, "application/x-gzip")
    with pytest.raises(SourceError, match="解压后超过 50 MB 上限，已中止") as caught:
        _run(tmp_path, url)
    assert str(caught.value).startswith(f"源「滨江日报网地图」 {url}：不是有效的网站地图：")


def test_a_broken_child_is_noted_and_the_rest_read(site: FixtureServer, tmp_path: Path) -> None:
    _serve_on_site(site)
    _route(site, "sitemap/pages.xml.gz", b"\x1f\x8b\x08\x00broken", "application/x-gzip")
    site.route("sitemap/news.xml", lambda r: reply(r, 404, "not found", "text/plain"))
    collected = _run(tmp_path, site.url("sitemap/index.xml"))
    assert [i.url for i in _items(collected)] == [
        site.url("forum/thread-1002-1-1.html"),
        site.url("forum/thread-1001-1-1.html"),
    ]
    broken = f"源「滨江日报网地图」 {site.url('sitemap/pages.xml.gz')}：不是有效的网站地图：gzip"
    gone = f"源「滨江日报网地图」 {site.url('sitemap/news.xml')}：网站地图无法抓取："
    assert any(p.startswith(broken) and p.endswith("已跳过") for p in collected.problems)
    assert any(p.startswith(gone) for p in collected.problems)


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("news/index.html", "不是有效的网站地图：根元素是 <html>"),
        ("feeds/rss20.xml", "不是有效的网站地图：根元素是 <rss>"),
        ("sitemap/missing.xml", "网站地图无法抓取："),
    ],
)
def test_a_sitemap_that_cannot_be_read_fails_the_run(
    site: FixtureServer, tmp_path: Path, path: str, words: str
) -> None:
    url = site.url(path)
    with pytest.raises(SourceError) as caught:
        _run(tmp_path, url)
    assert str(caught.value).startswith(f"源「滨江日报网地图」 {url}：{words}")


def test_config_refuses_unknown_keys_and_bad_bounds() -> None:
    for bad in ({"max_sitemap": 3}, {"max_sitemaps": 0}, {"since_days": 0}, {"url": "ftp://x"}):
        with pytest.raises(ValidationError):
            SitemapConfig.model_validate({"url": "https://news.example.cn/sitemap.xml", **bad})
    assert (SitemapSource.kind, SitemapSource.label) == ("sitemap", "网站地图")
