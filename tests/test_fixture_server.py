"""The fixture server the collection tests rely on: files with validators, routes, a log."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import httpx

from fixture_server import FixtureServer, reply


def test_serves_files_with_validators_and_answers_304(site: FixtureServer) -> None:
    first = httpx.get(site.url("hello/"))
    assert first.status_code == 200
    assert "你好，世界" in first.text
    again = httpx.get(site.url("hello/"), headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert httpx.get(site.url("missing.html")).status_code == 404
    assert [r.path for r in site.requests_to("hello/")] == ["/hello/", "/hello/"]


def test_routes_answer_as_registered(site: FixtureServer) -> None:
    def teapot(request: BaseHTTPRequestHandler) -> None:
        reply(request, 418, "茶壶", "text/plain; charset=utf-8")

    url = site.route("teapot", teapot)
    response = httpx.get(url + "?x=1", headers={"User-Agent": "probe"})
    assert (response.status_code, response.text) == (418, "茶壶")
    assert site.requests_to("teapot")[0].headers["User-Agent"] == "probe"
