"""The json source kind against the local fixture server: paging, cursors, mapping, hostility."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from fixture_server import FixtureServer, fetching_locally, reply
from yuqing.domain import Platform, RawItem
from yuqing.errors import FetchError, SourceError
from yuqing.pipeline.base import ItemError
from yuqing.settings import Settings
from yuqing.sources.base import CollectContext, Collected, SourceInfo
from yuqing.sources.fetch import Fetcher
from yuqing.sources.json_api import JsonApiConfig, JsonApiSource

SOURCE = SourceInfo(name="测试接口", kind="json", platform=Platform.WEIBO, region="某市")


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return fetching_locally(Settings(data_dir=tmp_path, **overrides))


def _context(fetcher: Fetcher, state: dict[str, Any] | None, max_items: int) -> CollectContext:
    return CollectContext(
        source=SOURCE,
        fetch=fetcher,
        now=datetime.now(UTC),
        state={} if state is None else state,
        max_items=max_items,
    )


def _run(
    tmp_path: Path,
    config: dict[str, Any],
    state: dict[str, Any] | None = None,
    *,
    max_items: int = 500,
    settings: Settings | None = None,
) -> Collected:
    source = JsonApiSource(JsonApiConfig.model_validate(config))

    async def go() -> Collected:
        async with Fetcher(settings or _settings(tmp_path)) as fetcher:
            return await source.collect(_context(fetcher, state, max_items))

    return asyncio.run(go())


def _revisit(tmp_path: Path, config: dict[str, Any], urls: list[str]) -> Collected:
    source = JsonApiSource(JsonApiConfig.model_validate(config))

    async def go() -> Collected:
        async with Fetcher(_settings(tmp_path)) as fetcher:
            ctx = _context(fetcher, None, 500)
            for url in urls:
                ctx.remember(url)  # revisits ignore what earlier runs saw
            return await source.revisit(ctx, urls)

    return asyncio.run(go())


def _items(collected: Collected) -> list[RawItem]:
    return [r for r in collected.records if isinstance(r, RawItem)]


def _errors(collected: Collected) -> list[ItemError]:
    return [r for r in collected.records if isinstance(r, ItemError)]


def _query(request: BaseHTTPRequestHandler) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}


def _json(request: BaseHTTPRequestHandler, data: object) -> None:
    reply(request, 200, json.dumps(data, ensure_ascii=False), "application/json")


def _paged_api(views: int = 10) -> Callable[[BaseHTTPRequestHandler], None]:
    """Three pages of two posts each, then empty pages."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        page = int(_query(request).get("page", "1"))
        posts = (
            [
                {
                    "pid": n,
                    "text": f"第 {n} 条帖子",
                    "link": f"https://bbs.example.cn/t/{n}",
                    "views": views * n,
                }
                for n in range(page * 2 - 1, page * 2 + 1)
            ]
            if page <= 3
            else []
        )
        _json(request, {"code": 0, "data": {"list": posts}})

    return handler


PAGED: dict[str, Any] = {
    "items": "data.list",
    "fields": {"id": "pid", "content": "text", "url": "link", "views": "views"},
    "params": {"q": "农商行"},
    "paging": {"type": "page", "param": "page", "start": 1, "max_pages": 10},
}


# --- configuration ---------------------------------------------------------------------------


def _config_error(**config: Any) -> str:
    base: dict[str, Any] = {
        "url": "https://api.example.cn/x",
        "items": "data",
        "fields": {"content": "c"},
    }
    with pytest.raises(ValidationError) as caught:
        JsonApiConfig.model_validate(base | config)
    return str(caught.value)


def test_config_refuses_unknown_fields_keys_and_missing_content() -> None:
    assert "未知字段 colour" in _config_error(fields={"content": "c", "colour": "x"})
    assert "必须映射 content" in _config_error(fields={"title": "t"})
    assert "extra" in _config_error(timeout=3).lower()
    assert "http" in _config_error(url="file:///etc/passwd")
    assert "paging" in _config_error(paging={"type": "scroll"})


def test_config_names_the_expression_with_a_syntax_error() -> None:
    message = _config_error(items="data.")
    assert "items" in message and "'data.'" in message and "语法错误" in message
    message = _config_error(fields={"content": "c", "title": "a[["})
    assert "fields.title" in message
    assert "双引号" in _config_error(fields={"content": "诉求内容"})
    assert "paging.next" in _config_error(paging={"type": "cursor", "next": "meta.("})
    assert "{slug}" in _config_error(url_template="https://x.cn/{slug}")


# --- reading entries ------------------------------------------------------------------------


COMPLAINTS = {
    "items": "data.items[*]",
    "fields": {
        "id": '"工单编号"',
        "title": '"诉求标题"',
        "content": '"诉求内容"',
        "published_at": '"受理时间"',
        "region": '"所属区域"',
        "platform": '"来源渠道"',
        "views": '"统计"."浏览"',
        "reposts": '"统计"."转发"',
        "comments": '"统计"."评论"',
    },
    "url_template": "https://12345.example.gov.cn/gd/{id}",
}


def test_complaint_export_with_chinese_fields_counts_and_bad_entries(
    site: FixtureServer, tmp_path: Path
) -> None:
    config = {"url": site.url("api/complaints_12345.json")} | COMPLAINTS
    state: dict[str, Any] = {}
    collected = _run(tmp_path, config, state)
    items = _items(collected)
    assert [i.external_id for i in items] == ["GD2026110300017", "GD2026110300018"]
    first, second = items
    assert first.metrics.views == 12_000 and first.metrics.comments == 1024
    assert second.metrics.views == 100_000
    assert first.platform is Platform.COMPLAINT and first.region == "城东区"
    assert first.published == "2026-11-03 08:15:00"
    assert first.url == "https://12345.example.gov.cn/gd/GD2026110300017"
    assert first.origin.startswith("源「测试接口」") and "第 1 条" in first.origin
    empty, wrong_type = _errors(collected)
    assert "缺少字段 content" in empty.error and "第 3 条" in empty.where
    assert "GD2026110300019" in empty.where
    assert "对象" in wrong_type.error and "第 4 条" in wrong_type.where
    assert collected.pages == 1

    again = _run(tmp_path, config, state)  # unchanged file: the server answers 304
    assert (again.pages, again.not_modified, again.records) == (1, 1, [])


def test_nested_paths_relative_links_templates_and_entries_of_the_wrong_type(
    site: FixtureServer, tmp_path: Path
) -> None:
    config = {
        "url": site.url("api/nested.json"),
        "items": "result.posts",
        "fields": {
            "id": "id",
            "content": "body.text",
            "author": "user.name",
            "url": "link",
            "views": "stats.views",
        },
        "url_template": "/post/{id}?from=api",
    }
    collected = _run(tmp_path, config)
    p1, p2 = _items(collected)
    assert p1.url == site.url("post/p1") and p1.author == "张三" and p1.metrics.views == 1200
    assert p2.url == site.url("post/p2?from=api") and p2.metrics.views == 34_000
    assert p1.platform is Platform.WEIBO and p1.region == "某市"  # inherited from the source
    not_object, list_author = _errors(collected)
    assert "第 3 条" in not_object.where and "JSON 对象" in not_object.error
    assert "字符串" in not_object.error
    assert "author" in list_author.error and "数组" in list_author.error


def test_paged_api_reads_until_the_empty_page_then_skips_seen_entries(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = site.route("api/posts", _paged_api())
    state: dict[str, Any] = {}
    collected = _run(tmp_path, {"url": url + "?v=2"} | PAGED, state)
    assert [i.external_id for i in _items(collected)] == ["1", "2", "3", "4", "5", "6"]
    queries = [_query_of(r.path) for r in site.requests_to("api/posts")]
    assert queries == [{"v": "2", "q": "农商行", "page": str(n)} for n in (1, 2, 3, 4)]
    assert collected.pages == 4

    again = _run(tmp_path, {"url": url} | PAGED, state)
    assert again.records == [] and again.pages == 4


def _query_of(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}


def test_paging_stops_at_max_items_and_max_pages(site: FixtureServer, tmp_path: Path) -> None:
    url = site.route("api/posts", _paged_api())
    collected = _run(tmp_path, {"url": url} | PAGED, max_items=3)
    assert len(_items(collected)) == 3 and len(site.requests_to("api/posts")) == 2
    site.log.clear()
    paging = PAGED["paging"] | {"max_pages": 2}
    collected = _run(tmp_path, {"url": url} | PAGED | {"paging": paging})
    assert len(_items(collected)) == 4 and len(site.requests_to("api/posts")) == 2


def test_cursor_api_follows_cursors_until_none(site: FixtureServer, tmp_path: Path) -> None:
    chain = {"": "c2", "c2": "c3", "c3": None}

    def handler(request: BaseHTTPRequestHandler) -> None:
        cursor = _query(request).get("after", "")
        _json(
            request,
            {
                "items": [{"id": cursor or "c1", "t": f"帖子 {cursor}"}],
                "meta": {"next": chain[cursor]},
            },
        )

    url = site.route("api/feed", handler)
    config = {
        "url": url,
        "items": "items",
        "fields": {"id": "id", "content": "t"},
        "paging": {"type": "cursor", "param": "after", "next": "meta.next"},
    }
    collected = _run(tmp_path, config)
    assert [i.external_id for i in _items(collected)] == ["c1", "c2", "c3"]
    assert [_query_of(r.path).get("after") for r in site.requests_to("api/feed")] == [
        None,
        "c2",
        "c3",
    ]
    assert collected.problems == []


def test_a_cursor_that_repeats_forever_is_stopped(site: FixtureServer, tmp_path: Path) -> None:
    def handler(request: BaseHTTPRequestHandler) -> None:
        n = len(site.requests_to("api/loop"))
        _json(request, {"items": [{"id": n, "t": f"第 {n} 条"}], "next": "same"})

    url = site.route("api/loop", handler)
    config = {
        "url": url,
        "items": "items",
        "fields": {"id": "id", "content": "t"},
        "paging": {"type": "cursor", "next": "next", "max_pages": 50},
    }
    collected = _run(tmp_path, config)
    assert len(site.requests_to("api/loop")) == 2 and len(_items(collected)) == 2
    assert "重复" in collected.problems[0] and "same" in collected.problems[0]


def test_revisit_walks_the_listing_again_for_the_urls_asked(
    site: FixtureServer, tmp_path: Path
) -> None:
    url = site.route("api/posts", _paged_api(views=1000))
    wanted = ["https://bbs.example.cn/t/2", "https://bbs.example.cn/t/5"]
    collected = _revisit(tmp_path, {"url": url} | PAGED, wanted)
    items = _items(collected)
    assert [i.url for i in items] == wanted
    assert [i.metrics.views for i in items] == [2000, 5000]
    assert len(site.requests_to("api/posts")) == 3  # stopped once both were found


# --- hostile answers --------------------------------------------------------------------------


def _fails(site: FixtureServer, tmp_path: Path, path: str) -> str:
    config = {"url": site.url(path), "items": "data.list", "fields": {"content": "text"}}
    with pytest.raises(SourceError) as caught:
        _run(tmp_path, config)
    message = str(caught.value)
    assert "源「测试接口」" in message and site.url(path) in message
    return message


def test_invalid_and_truncated_json_fail_with_url_and_position(
    site: FixtureServer, tmp_path: Path
) -> None:
    message = _fails(site, tmp_path, "api/invalid.json")
    assert "不是有效的 JSON：缺少逗号" in message and "第 1 行第 43 列" in message
    assert "不完整" in _fails(site, tmp_path, "api/truncated.json")


def test_items_giving_a_string_or_html_fails_saying_what_came(
    site: FixtureServer, tmp_path: Path
) -> None:
    message = _fails(site, tmp_path, "api/items_string.json")
    assert "应得到数组" in message and "字符串" in message and "暂无数据" in message
    site.route("api/login", lambda r: reply(r, 200, "<html><body>请登录</body></html>"))
    assert "HTML" in _fails(site, tmp_path, "api/login")
    site.route("api/deep", lambda r: reply(r, 200, "[" * 100_000, "application/json"))
    assert "嵌套过深" in _fails(site, tmp_path, "api/deep")


def test_a_later_page_failing_keeps_the_earlier_pages(site: FixtureServer, tmp_path: Path) -> None:
    good = _paged_api()

    def handler(request: BaseHTTPRequestHandler) -> None:
        if _query(request).get("page") == "2":
            reply(request, 200, '{"data": {"list": [', "application/json")
        else:
            good(request)

    url = site.route("api/posts", handler)
    collected = _run(tmp_path, {"url": url} | PAGED)
    assert [i.external_id for i in _items(collected)] == ["1", "2"]
    assert "不完整" in collected.problems[0] and "前 1 页" in collected.problems[0]


def test_an_entry_missing_content_is_one_error_and_the_rest_go_on(
    site: FixtureServer, tmp_path: Path
) -> None:
    posts = [
        {"pid": 1, "text": "有正文"},
        {"pid": 2, "title": "无正文"},
        {"pid": 3, "text": "也有"},
    ]
    body = "\ufeff" + json.dumps({"data": {"list": posts}})  # with a BOM, as some exports
    site.route("api/some", lambda r: reply(r, 200, body, "application/json"))
    collected = _run(tmp_path, {"url": site.url("api/some")} | PAGED | {"paging": None})
    assert [i.external_id for i in _items(collected)] == ["1", "3"]
    (error,) = _errors(collected)
    assert "缺少字段 content" in error.error and "第 2 条" in error.where and "id 2" in error.where


def test_a_huge_page_fails_with_the_size_cap_in_words(site: FixtureServer, tmp_path: Path) -> None:
    posts = [{"text": "很长的帖子" * 100} for _ in range(100)]
    site.route("api/huge", lambda r: _json(r, {"data": {"list": posts}}))
    config = {"url": site.url("api/huge"), "items": "data.list", "fields": {"content": "text"}}
    with pytest.raises(FetchError) as caught:
        _run(tmp_path, config, settings=_settings(tmp_path, collect_max_bytes=10_000))
    assert site.url("api/huge") in str(caught.value) and "上限" in str(caught.value)


def test_headers_are_sent_and_their_values_never_echoed(
    site: FixtureServer, tmp_path: Path
) -> None:
    def keyed(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("X-Api-Key") == "s3cr3t-key":
            _json(request, {"data": {"list": [{"t": "网点排长队"}]}})
        else:
            reply(request, 401, "no key", "text/plain")

    site.route("api/keyed", keyed)
    config = {
        "url": site.url("api/keyed"),
        "items": "data.list",
        "fields": {"content": "t"},
        "headers": {"X-Api-Key": "s3cr3t-key"},
    }
    records = _run(tmp_path, config).records
    assert [r.content for r in records if isinstance(r, RawItem)] == ["网点排长队"]
    wrong = {**config, "headers": {"X-Api-Key": "wrong-key"}}
    with pytest.raises(SourceError) as caught:
        _run(tmp_path, wrong)
    assert "401" in str(caught.value) and "wrong-key" not in str(caught.value)
