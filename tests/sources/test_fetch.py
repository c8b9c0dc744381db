"""The polite fetcher against the real local fixture server: pages, redirects, caps, charsets,
retries, robots.txt, private addresses and per-host limits."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixture_server import FixtureServer, reply
from yuqing.errors import FetchError
from yuqing.settings import Settings
from yuqing.sources.base import Page
from yuqing.sources.fetch import Fetcher, FetchStats

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sites" / "fetch"
Handler = Callable[[BaseHTTPRequestHandler], None]


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "collect_allow_private_addresses": True,
        "collect_backoff_seconds": 0.01,
        "collect_host_interval_seconds": 0,
        "collect_timeout_seconds": 1,
        "collect_max_bytes": 20_000,
    }
    values.update(overrides)
    return Settings(**values)


def fetch(settings: Settings, url: str, **kwargs: Any) -> tuple[Page, FetchStats]:
    async def go() -> tuple[Page, FetchStats]:
        async with Fetcher(settings) as fetcher:
            page = await fetcher.get(url, **kwargs)
            return page, fetcher.stats

    return asyncio.run(go())


def failure(settings: Settings, url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(settings, url, **kwargs)
    assert caught.value.url == url
    return caught.value


def counting(*answers: Handler) -> Handler:
    """A route answering with each handler in turn, the last one for every later request."""
    calls = iter(range(1_000_000))

    def handle(request: BaseHTTPRequestHandler) -> None:
        answers[min(next(calls), len(answers) - 1)](request)

    return handle


def status(code: int, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: reply(request, code, f"状态 {code}", headers=headers)


def ok(body: str = "<p>好</p>") -> Handler:
    return lambda request: reply(request, 200, body)


def redirect(to: str, code: int = 302) -> Handler:
    return lambda request: reply(request, code, "", headers={"Location": to})


# --- pages, headers, conditional GET ---------------------------------------------------------


def test_fetches_a_page_with_lowercase_headers_and_stats(
    site: FixtureServer, tmp_path: Path
) -> None:
    page, stats = fetch(make_settings(tmp_path), site.url("hello/"))
    assert (page.status, page.final_url, page.encoding) == (200, site.url("hello/"), "utf-8")
    assert "你好，世界" in page.text()
    assert page.content_type == "text/html"
    assert all(key == key.lower() for key in page.headers)
    assert page.etag and page.last_modified
    assert stats.requests == 2  # robots.txt, then the page
    assert stats.retries == 0
    assert stats.bytes == len(page.body)
    assert stats.seconds > 0


def test_user_agent_on_every_request_including_robots(site: FixtureServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, collect_user_agent="YuqingTest/9.9 (+https://x.cn/bot)")
    fetch(settings, site.url("hello/"))
    agents = [r.headers.get("User-Agent") for r in site.log]
    assert [r.path for r in site.log] == ["/robots.txt", "/hello/"]
    assert agents == ["YuqingTest/9.9 (+https://x.cn/bot)"] * 2


def test_conditional_get_answers_304_with_empty_body(site: FixtureServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first, _ = fetch(settings, site.url("fetch/bom.html"))
    by_etag, _ = fetch(settings, site.url("fetch/bom.html"), etag=first.etag)
    assert (by_etag.status, by_etag.body, by_etag.not_modified) == (304, b"", True)
    by_date, _ = fetch(settings, site.url("fetch/bom.html"), last_modified=first.last_modified)
    assert by_date.not_modified
    sent = site.requests_to("fetch/bom.html")
    assert sent[1].headers["If-None-Match"] == first.etag
    assert sent[2].headers["If-Modified-Since"] == first.last_modified
    assert "If-None-Match" not in sent[0].headers


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("file:///etc/passwd", "「file:」"),
        ("ftp://example.cn/a.txt", "「ftp:」"),
        ("javascript:alert(1)", "「javascript:」"),
        ("http:///no-host", "缺少主机名"),
        ("just words", "没有协议"),
    ],
)
def test_refuses_urls_that_are_not_http(
    site: FixtureServer, tmp_path: Path, url: str, words: str
) -> None:
    assert words in failure(make_settings(tmp_path), url).reason
    assert site.log == []


# --- redirects ---------------------------------------------------------------------------


def test_follows_redirects_to_the_final_url(site: FixtureServer, tmp_path: Path) -> None:
    site.route("r/1", redirect("/r/2", 301))
    site.route("r/2", redirect(site.url("r/3"), 307))
    site.route("r/3", ok("终点"))
    page, _ = fetch(make_settings(tmp_path), site.url("r/1"))
    assert page.url == site.url("r/1")
    assert page.final_url == site.url("r/3")
    assert page.text() == "终点"


def test_source_headers_go_to_its_own_origin_only(site: FixtureServer, tmp_path: Path) -> None:
    """An API key must not follow a redirect to another origin (localhost ≠ 127.0.0.1)."""
    other = site.base_url.replace("127.0.0.1", "localhost")
    site.route("keyed/1", redirect("/keyed/2", 302))
    site.route("keyed/2", redirect(f"{other}/keyed/3", 302))
    site.route("keyed/3", ok("到了"))
    headers = {"X-Api-Key": "k", "User-Agent": "spoofed"}
    page, _ = fetch(make_settings(tmp_path), site.url("keyed/1"), headers=headers)
    assert page.text() == "到了"
    sent = {r.path: r.headers for r in site.log}
    assert sent["/keyed/1"]["X-Api-Key"] == "k" and sent["/keyed/2"]["X-Api-Key"] == "k"
    assert "X-Api-Key" not in sent["/keyed/3"]
    assert all(h["User-Agent"].startswith("Yuqing/") for h in sent.values())


def test_too_many_redirects(site: FixtureServer, tmp_path: Path) -> None:
    for n in range(7):
        site.route(f"hop/{n}", redirect(f"/hop/{n + 1}"))
    site.route("hop/7", ok())
    error = failure(make_settings(tmp_path), site.url("hop/0"))
    assert error.reason == "重定向超过 5 次"
    assert len(site.requests_to("hop/5")) == 1
    assert site.requests_to("hop/6") == []
    page, _ = fetch(make_settings(tmp_path, collect_max_redirects=7), site.url("hop/0"))
    assert page.final_url == site.url("hop/7")


def test_redirect_loop_is_named(site: FixtureServer, tmp_path: Path) -> None:
    site.route("loop/a", redirect("/loop/b"))
    site.route("loop/b", redirect("/loop/a"))
    error = failure(make_settings(tmp_path), site.url("loop/a"))
    assert "重定向循环" in error.reason
    assert f"{site.url('loop/a')} → {site.url('loop/b')} → {site.url('loop/a')}" in error.reason


def test_redirect_to_another_scheme_is_refused(site: FixtureServer, tmp_path: Path) -> None:
    site.route("to-file", redirect("file:///etc/passwd"))
    assert "「file:」" in failure(make_settings(tmp_path), site.url("to-file")).reason


# --- size cap ----------------------------------------------------------------------------


def test_refuses_a_declared_length_over_the_cap_up_front(
    site: FixtureServer, tmp_path: Path
) -> None:
    site.route("big", lambda request: reply(request, 200, b"x" * 50_000))
    error = failure(make_settings(tmp_path), site.url("big"))
    assert error.reason == "响应超过 20 KB 上限，已中止"
    assert len(site.requests_to("big")) == 1  # not retried


def test_aborts_a_body_without_length_past_the_cap(site: FixtureServer, tmp_path: Path) -> None:
    def endless(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Connection", "close")
        request.end_headers()
        request.close_connection = True
        for _ in range(100):
            request.wfile.write(b"y" * 10_000)

    site.route("endless", endless)
    assert "上限，已中止" in failure(make_settings(tmp_path), site.url("endless")).reason


def test_gzip_bomb_stops_at_the_cap(site: FixtureServer, tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * 20_000_000)
    site.route(
        "bomb",
        lambda request: reply(request, 200, bomb, "text/html", {"Content-Encoding": "gzip"}),
    )
    assert len(bomb) < 20_000
    assert "上限，已中止" in failure(make_settings(tmp_path), site.url("bomb")).reason


def test_gzip_and_deflate_bodies_are_decoded(site: FixtureServer, tmp_path: Path) -> None:
    text = "压缩的页面 " * 100
    packed = gzip.compress(text.encode("utf-8"))
    site.route("gz", lambda r: reply(r, 200, packed, headers={"Content-Encoding": "gzip"}))
    page, stats = fetch(make_settings(tmp_path), site.url("gz"))
    assert page.text() == text
    assert stats.bytes == len(text.encode("utf-8"))


# --- charsets ----------------------------------------------------------------------------


def test_gbk_page_without_charset_in_header_reads_its_meta(
    site: FixtureServer, tmp_path: Path
) -> None:
    page, _ = fetch(make_settings(tmp_path), site.url("fetch/meta.gbk.html"))
    assert page.headers["content-type"] == "text/html"
    assert page.encoding == "gb18030"
    assert "自助设备出现故障" in page.text()


def test_gbk_page_without_any_declaration_is_detected(site: FixtureServer, tmp_path: Path) -> None:
    page, _ = fetch(make_settings(tmp_path), site.url("fetch/plain.gbk.html"))
    assert page.encoding == "gb18030"
    assert "客户服务公告" in page.text()


def test_a_header_that_lies_is_passed_over(site: FixtureServer, tmp_path: Path) -> None:
    data = (FIXTURES / "meta.gbk.html").read_bytes()
    site.route("lies", lambda r: reply(r, 200, data, "text/html; charset=utf-8"))
    site.route("unknown", lambda r: reply(r, 200, data, "text/html; charset=utf-42"))
    for path in ("lies", "unknown"):
        page, _ = fetch(make_settings(tmp_path), site.url(path))
        assert page.encoding == "gb18030"
        assert "网点公告" in page.text()


def test_utf8_bom_decides_and_is_not_part_of_the_text(site: FixtureServer, tmp_path: Path) -> None:
    data = (FIXTURES / "bom.html").read_bytes()
    site.route("bom-latin", lambda r: reply(r, 200, data, "text/html; charset=iso-8859-1"))
    for url in (site.url("fetch/bom.html"), site.url("bom-latin")):
        page, _ = fetch(make_settings(tmp_path), url)
        assert page.encoding == "utf-8-sig"
        assert page.text().startswith("<html><head><title>带字节顺序标记的页面")


def test_xml_encoding_declaration(site: FixtureServer, tmp_path: Path) -> None:
    page, _ = fetch(make_settings(tmp_path), site.url("fetch/feed.xml"))
    assert page.encoding == "gb18030"
    assert "<title>网点公告</title>" in page.text()


# --- retries and hostile answers -----------------------------------------------------------


def test_500_then_200_succeeds_after_one_retry(site: FixtureServer, tmp_path: Path) -> None:
    site.route("flaky", counting(status(500), ok("第二次好了")))
    page, stats = fetch(make_settings(tmp_path), site.url("flaky"), robots=False)
    assert page.text() == "第二次好了"
    assert (stats.requests, stats.retries) == (2, 1)


def test_5xx_after_the_last_retry(site: FixtureServer, tmp_path: Path) -> None:
    site.route("down", status(503))
    error = failure(make_settings(tmp_path, collect_retries=2), site.url("down"), robots=False)
    assert error.reason == "服务器返回 503（已重试 2 次）"
    assert len(site.requests_to("down")) == 3


def test_4xx_is_not_retried(site: FixtureServer, tmp_path: Path) -> None:
    site.route("gone", status(404))
    site.route("secret", status(403))
    settings = make_settings(tmp_path)
    assert failure(settings, site.url("gone")).reason == "页面不存在（404）"
    assert failure(settings, site.url("secret")).reason == "无权访问（403）"
    assert len(site.requests_to("gone")) == len(site.requests_to("secret")) == 1


def test_429_honours_retry_after(site: FixtureServer, tmp_path: Path) -> None:
    site.route("busy", counting(status(429, {"Retry-After": "1"}), ok("轮到你了")))
    page, stats = fetch(make_settings(tmp_path), site.url("busy"), robots=False)
    assert page.text() == "轮到你了"
    first, second = site.requests_to("busy")
    assert second.at - first.at >= 0.9
    assert stats.retries == 1


def test_slow_drip_hits_the_overall_deadline(site: FixtureServer, tmp_path: Path) -> None:
    stop = threading.Event()

    def drip(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", "100")
        request.end_headers()
        for _ in range(100):
            if stop.wait(0.2):
                return
            request.wfile.write(b"x")
            request.wfile.flush()

    site.route("drip", drip)
    settings = make_settings(tmp_path, collect_timeout_seconds=0.5, collect_retries=0)
    started = time.monotonic()
    try:
        error = failure(settings, site.url("drip"), robots=False)
    finally:
        stop.set()
    assert error.reason == "超时（0.5 秒）"
    assert time.monotonic() - started < 5


def test_truncated_body_is_retried_then_reported(site: FixtureServer, tmp_path: Path) -> None:
    def truncated(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "text/plain")
        request.send_header("Content-Length", "1000")
        request.end_headers()
        request.wfile.write(b"z" * 100)
        request.close_connection = True

    site.route("cut", truncated)
    error = failure(make_settings(tmp_path, collect_retries=2), site.url("cut"), robots=False)
    assert error.reason.startswith("响应不完整")
    assert error.reason.endswith("（已重试 2 次）")
    assert len(site.requests_to("cut")) == 3


def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    error = failure(make_settings(tmp_path, collect_retries=1), url, robots=False)
    assert "无法连接到 127.0.0.1" in error.reason
    assert error.reason.endswith("（已重试 1 次）")


def test_hostile_location_header_is_an_error(site: FixtureServer, tmp_path: Path) -> None:
    site.route("bad-location", redirect("http://[::1"))
    error = failure(make_settings(tmp_path), site.url("bad-location"))
    assert error.reason == "跳转地址无效（服务器给出的 Location 无法解析）"
    assert len(site.requests_to("bad-location")) == 1


# --- robots.txt --------------------------------------------------------------------------

ROBOTS = "User-agent: *\nDisallow: /closed\n\nUser-agent: Yuqing\nDisallow: /private\n"


def robots_txt(text: str) -> Handler:
    return lambda request: reply(request, 200, text, "text/plain; charset=utf-8")


def test_robots_disallow_for_our_agent(site: FixtureServer, tmp_path: Path) -> None:
    site.route("robots.txt", robots_txt(ROBOTS))
    site.route("private/a", ok("内部"))
    site.route("closed", ok("别人不许"))
    settings = make_settings(tmp_path)
    error = failure(settings, site.url("private/a"))
    assert error.reason == "robots.txt 不允许抓取"
    assert site.requests_to("private/a") == []
    # Our own group applies, not the * group; robots=False skips robots.txt altogether.
    assert fetch(settings, site.url("closed"))[0].text() == "别人不许"
    site.log.clear()
    assert fetch(settings, site.url("private/a"), robots=False)[0].text() == "内部"
    assert site.requests_to("robots.txt") == []


def test_robots_read_once_per_fetcher(site: FixtureServer, tmp_path: Path) -> None:
    site.route("robots.txt", robots_txt(ROBOTS))

    async def go() -> list[Page]:
        async with Fetcher(make_settings(tmp_path)) as fetcher:
            pages = await asyncio.gather(
                *(fetcher.get(site.url(f"hello/?n={n}")) for n in range(4))
            )
            pages.append(await fetcher.get(site.url("hello/")))
            return pages

    assert [page.status for page in asyncio.run(go())] == [200] * 5
    assert len(site.requests_to("robots.txt")) == 1


def test_robots_4xx_allows_and_5xx_refuses(site: FixtureServer, tmp_path: Path) -> None:
    site.route("robots.txt", status(404))
    assert fetch(make_settings(tmp_path), site.url("hello/"))[0].status == 200
    site.route("robots.txt", status(503))
    settings = make_settings(tmp_path, collect_retries=1)

    async def go() -> list[str]:
        async with Fetcher(settings) as fetcher:
            reasons = []
            for _ in range(2):
                with pytest.raises(FetchError) as caught:
                    await fetcher.get(site.url("hello/"))
                reasons.append(caught.value.reason)
            return reasons

    reasons = asyncio.run(go())
    assert reasons == ["无法读取 robots.txt（服务器返回 503（已重试 1 次）），暂不抓取该站点"] * 2
    assert len(site.requests_to("robots.txt")) == 1 + 2  # the 404, then 503 twice (one retry)
    assert len(site.requests_to("hello/")) == 1


def test_hostile_robots_txt_does_not_crash(site: FixtureServer, tmp_path: Path) -> None:
    junk = bytes(range(256)) * 20 + b"\nUser-agent: *\nDisallow: /hello\n"
    site.route("robots.txt", lambda request: reply(request, 200, junk, "text/plain"))
    assert "robots.txt" in failure(make_settings(tmp_path), site.url("hello/")).reason


def test_crawl_delay_spaces_requests_to_the_host(site: FixtureServer, tmp_path: Path) -> None:
    site.route("robots.txt", robots_txt("User-agent: *\nCrawl-delay: 0.4\n"))

    async def go() -> None:
        async with Fetcher(make_settings(tmp_path)) as fetcher:
            for n in range(3):
                await fetcher.get(site.url(f"hello/?n={n}"))

    asyncio.run(go())
    starts = [r.at for r in site.requests_to("hello/")]
    assert len(starts) == 3
    assert all(b - a >= 0.35 for a, b in itertools.pairwise(starts))


# --- private addresses -------------------------------------------------------------------


def test_private_addresses_are_refused_by_default(site: FixtureServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, collect_allow_private_addresses=False)
    port = site.base_url.rsplit(":", 1)[1]
    for url in (site.url("hello/"), f"http://localhost:{port}/hello/", "http://[::1]:1/"):
        error = failure(settings, url)
        assert "内网或保留地址" in error.reason
        assert "YUQING_COLLECT_ALLOW_PRIVATE_ADDRESSES" in error.reason
    assert site.log == []


def test_every_redirect_hop_is_checked_for_private_addresses(tmp_path: Path) -> None:
    seen: list[str] = []

    def public_site(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return httpx.Response(302, headers={"Location": "http://10.1.2.3/admin"})

    settings = make_settings(tmp_path, collect_allow_private_addresses=False)

    async def go() -> None:
        transport = httpx.MockTransport(public_site)
        async with Fetcher(settings, transport=transport) as fetcher:
            await fetcher.get("http://93.184.216.34/start")

    with pytest.raises(FetchError) as caught:
        asyncio.run(go())
    assert caught.value.reason.startswith(
        "跳转到 http://10.1.2.3/admin 后10.1.2.3 是内网或保留地址"
    )
    assert seen == ["http://93.184.216.34/robots.txt", "http://93.184.216.34/start"]


# --- per-host limits ---------------------------------------------------------------------


def test_at_most_host_concurrency_requests_in_flight(site: FixtureServer, tmp_path: Path) -> None:
    lock = threading.Lock()
    in_flight = {"now": 0, "most": 0}

    def slow(request: BaseHTTPRequestHandler) -> None:
        with lock:
            in_flight["now"] += 1
            in_flight["most"] = max(in_flight["most"], in_flight["now"])
        time.sleep(0.15)
        with lock:
            in_flight["now"] -= 1
        reply(request, 200, "慢")

    site.route("slow", slow)

    async def go(concurrency: int, urls: list[str]) -> int:
        in_flight["most"] = 0
        async with Fetcher(make_settings(tmp_path), host_concurrency=concurrency) as fetcher:
            await asyncio.gather(*(fetcher.get(url, robots=False) for url in urls))
        return in_flight["most"]

    assert asyncio.run(go(2, [site.url(f"slow?n={n}") for n in range(5)])) == 2
    # The limit is per host: one request at a time to each of two origins is two in flight.
    port = site.base_url.rsplit(":", 1)[1]
    other = [f"http://localhost:{port}/slow?n={n}" for n in range(2)]
    assert asyncio.run(go(1, [site.url(f"slow?n={n}") for n in range(2)] + other)) == 2


def test_host_interval_spaces_request_starts(site: FixtureServer, tmp_path: Path) -> None:
    async def go() -> None:
        async with Fetcher(make_settings(tmp_path), host_interval=0.3) as fetcher:
            await asyncio.gather(
                *(fetcher.get(site.url(f"hello/?n={n}"), robots=False) for n in range(3))
            )

    asyncio.run(go())
    starts = sorted(r.at for r in site.requests_to("hello/"))
    assert len(starts) == 3
    assert all(b - a >= 0.25 for a, b in itertools.pairwise(starts))


def test_host_limits_must_make_sense(tmp_path: Path) -> None:
    for bad in ({"host_concurrency": 0}, {"host_interval": -1.0}):
        with pytest.raises(ValueError, match="host_"):
            Fetcher(make_settings(tmp_path), **bad)
