"""The polite fetcher every source kind fetches through (SPEC 3.1, 3.18).

One `httpx.AsyncClient` per `Fetcher`. Each GET follows redirects itself so every hop is
checked (scheme, private addresses, robots.txt), waits its turn at the host's gate, retries
network errors, 5xx and 429 with exponential backoff, reads the body under a size cap
(decompressing it here, bounded, so a gzip bomb stops at the cap), and finds its charset.

    async with Fetcher(settings) as fetcher:
        page = await fetcher.get("https://news.example.cn/list", etag=known_etag)
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType

import charset_normalizer
import httpx

from yuqing.errors import FetchError
from yuqing.ingest.encoding import bom_encoding
from yuqing.settings import Settings
from yuqing.sources.base import Page
from yuqing.sources.robots import HostGate, Origin, RobotsRules, Site, private_refusal, resolve

REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_CAP = 60.0
"""Longest Retry-After honoured, in seconds."""
_PORTS = {"http": 80, "https": 443}
# Headers the fetcher sets itself; a source's own headers may not replace them.
_OWN_HEADERS = frozenset(
    {"user-agent", "host", "accept-encoding", "if-none-match", "if-modified-since", "range"}
)
_VALIDATORS = frozenset({"if-none-match", "if-modified-since"})


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


@dataclass(slots=True)
class FetchStats:
    """What a fetcher has done so far (for health views and benchmarks)."""

    requests: int = 0  # HTTP requests sent, robots.txt, redirect hops and retries included
    retries: int = 0
    bytes: int = 0  # body bytes read, after decompression
    seconds: float = 0.0  # time spent in requests, waits for the host's turn excluded


class _Problem(Exception):
    """Why one attempt failed, in words; `retry` if trying again may help; `status` if the
    server answered."""

    def __init__(
        self, reason: str, *, retry: bool = False, delay: float = 0.0, status: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.delay = delay
        self.status = status


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: dict[str, str]
    body: bytes
    location: str | None = None


class Fetcher:
    """Fetches pages politely and within bounds; `get` raises `FetchError` in words."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        host_concurrency: int | None = None,
        host_interval: float | None = None,
    ) -> None:
        self._settings = settings
        self._agent = settings.collect_user_agent
        self._timeout = settings.collect_timeout_seconds
        self._concurrency = (
            settings.collect_host_concurrency if host_concurrency is None else host_concurrency
        )
        self._interval = (
            settings.collect_host_interval_seconds if host_interval is None else host_interval
        )
        if self._concurrency < 1 or self._interval < 0:
            raise ValueError("host_concurrency must be >= 1 and host_interval >= 0")
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(self._timeout),
            follow_redirects=False,
            # Only encodings decoded here, bounded; see _Inflater.
            headers={"User-Agent": self._agent, "Accept-Encoding": "gzip, deflate"},
        )
        self._sites: dict[Origin, Site] = {}
        self._stats = FetchStats()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def stats(self) -> FetchStats:
        """A snapshot of the counters."""
        return replace(self._stats)

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Page:
        """GET `url`; a 304 answer to the validators given is a Page with an empty body.

        `headers` (an API key, say) go to `url`'s own origin only: a redirect to another
        origin drops them, as browsers drop credentials.
        """
        started = time.monotonic()
        extra = {k: v for k, v in (headers or {}).items() if k.lower() not in _OWN_HEADERS}
        headers = dict(extra)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            final, response = await self._follow(_target(url), headers, robots=robots)
        except _Problem as exc:
            raise FetchError(url, exc.reason) from None
        return Page(
            url=url,
            final_url=str(final),
            status=response.status,
            headers=response.headers,
            body=response.body,
            encoding=find_encoding(response.body, response.headers.get("content-type", "")),
            elapsed=time.monotonic() - started,
        )

    async def _follow(
        self, target: httpx.URL, headers: dict[str, str], *, robots: bool
    ) -> tuple[httpx.URL, _Response]:
        """Follow redirects hop by hop, checking each hop before it is requested."""
        chain = [target]
        while True:
            try:
                await self._check_address(target)
                if robots:
                    await self._check_robots(target)
                response = await self._request(target, headers)
            except _Problem as exc:
                if len(chain) > 1:
                    exc.reason = f"跳转到 {target} 后{exc.reason}"
                raise
            if response.location is None:
                return target, response
            try:
                following = _target(response.location, base=target)
            except _Problem as exc:
                raise _Problem(f"跳转地址「{response.location}」无效：{exc.reason}") from None
            if following in chain:
                loop = [*chain[chain.index(following) :], following]
                raise _Problem("重定向循环：" + " → ".join(str(u) for u in loop))
            if len(chain) > self._settings.collect_max_redirects:
                raise _Problem(f"重定向超过 {self._settings.collect_max_redirects} 次")
            chain.append(following)
            if _origin(following) != _origin(target):
                headers = {k: v for k, v in headers.items() if k.lower() in _VALIDATORS}
            target = following

    async def _request(self, target: httpx.URL, headers: dict[str, str]) -> _Response:
        """One hop with retries: backoff doubles, Retry-After is honoured up to a cap."""
        retries = self._settings.collect_retries
        for attempt in range(retries + 1):
            try:
                return await self._attempt(target, headers)
            except _Problem as exc:
                if not exc.retry:
                    raise
                if attempt == retries:
                    exc.reason += f"（已重试 {retries} 次）" if retries else ""
                    raise
                self._stats.retries += 1
                backoff = self._settings.collect_backoff_seconds * 2**attempt
                await asyncio.sleep(max(backoff, exc.delay))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(self, target: httpx.URL, headers: dict[str, str]) -> _Response:
        """One request, bounded by the host's gate and an overall deadline."""
        async with self._site(target).gate.slot():
            self._stats.requests += 1
            begun = time.monotonic()
            try:
                async with asyncio.timeout(self._timeout):
                    response = await self._exchange(target, headers)
            except (TimeoutError, httpx.TimeoutException):
                raise _Problem(f"超时（{self._timeout:g} 秒）", retry=True) from None
            except httpx.TransportError as exc:
                raise _Problem(_network_words(exc, target), retry=True) from None
            finally:
                self._stats.seconds += time.monotonic() - begun
        self._stats.bytes += len(response.body)
        return response

    async def _exchange(self, target: httpx.URL, headers: dict[str, str]) -> _Response:
        request = self._client.build_request("GET", target, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.RemoteProtocolError as exc:
            if "location header" not in str(exc):
                raise
            raise _Problem("跳转地址无效（服务器给出的 Location 无法解析）") from None
        try:
            status = response.status_code
            plain = {key.lower(): value for key, value in response.headers.items()}
            if status in REDIRECTS and "location" in plain:
                return _Response(status, plain, b"", plain["location"])
            _check_status(status, plain)
            body = b"" if status in (204, 304) else await self._read(response, plain)
            return _Response(status, plain, body)
        finally:
            await response.aclose()

    async def _read(self, response: httpx.Response, headers: dict[str, str]) -> bytes:
        """The decoded body, aborted as soon as it passes the size cap."""
        limit = self._settings.collect_max_bytes
        too_big = f"响应超过 {_size(limit)} 上限，已中止"
        length = _content_length(headers)
        if length is not None and length > limit:
            raise _Problem(too_big)
        inflater = _Inflater(headers.get("content-encoding", ""))
        body = bytearray()
        received = 0
        try:
            async for chunk in response.aiter_raw():
                received += len(chunk)
                inflater.feed(chunk, body, limit)
                if len(body) > limit:
                    raise _Problem(too_big)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            raise _Problem("响应不完整（连接在传完之前断开）", retry=True) from None
        if length is not None and received < length:
            raise _Problem("响应不完整（连接在传完之前断开）", retry=True)
        inflater.finish(body, limit)
        if len(body) > limit:
            raise _Problem(too_big)
        return bytes(body)

    def _site(self, target: httpx.URL) -> Site:
        origin = (target.scheme, target.host, target.port or _PORTS[target.scheme])
        site = self._sites.get(origin)
        if site is None:
            site = self._sites[origin] = Site(HostGate(self._concurrency, self._interval))
        return site

    async def _check_robots(self, target: httpx.URL) -> None:
        site = self._site(target)
        rules = site.robots
        if rules is None:
            async with site.robots_lock:
                rules = site.robots
                if rules is None:
                    rules = site.adopt(await self._read_robots(target), self._agent)
        refusal = rules.refusal(str(target), self._agent)
        if refusal is not None:
            raise _Problem(refusal)

    async def _read_robots(self, target: httpx.URL) -> RobotsRules:
        robots_url = target.join("/robots.txt")
        try:
            _, response = await self._follow(robots_url, {}, robots=False)
        except _Problem as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return RobotsRules.from_response(exc.status, b"")
            return RobotsRules(problem=exc.reason)
        return RobotsRules.from_response(response.status, response.body)

    async def _check_address(self, target: httpx.URL) -> None:
        """Refuse hosts on loopback, private, link-local or reserved networks (SPEC 3.18)."""
        if self._settings.collect_allow_private_addresses:
            return
        port = target.port or _PORTS[target.scheme]
        try:
            addresses = await resolve(target.host, port, self._timeout)
        except (OSError, TimeoutError):
            raise _Problem(f"无法解析域名 {target.host}") from None
        refusal = private_refusal(target.host, addresses)
        if refusal is not None:
            raise _Problem(refusal)


class _Inflater:
    """Undo one Content-Encoding layer with bounded output (no gzip bomb past the cap)."""

    def __init__(self, encoding: str) -> None:
        self._name = encoding.strip().lower()
        self._first = True
        self._z: zlib._Decompress | None
        if self._name in ("", "identity"):
            self._z = None
        elif self._name in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self._name == "deflate":
            self._z = zlib.decompressobj()
        else:
            raise _Problem(f"不支持的内容编码「{encoding.strip()}」")

    def feed(self, data: bytes, out: bytearray, limit: int) -> None:
        if self._z is None:
            out += data
            return
        try:
            out += self._z.decompress(data, max(limit - len(out) + 1, 1))
        except zlib.error:
            if not (self._first and self._name == "deflate"):
                raise _Problem(f"响应的 {self._name} 压缩数据损坏") from None
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, sent by some servers
            out += self._z.decompress(data, max(limit - len(out) + 1, 1))
        self._first = False
        while self._z.unconsumed_tail and len(out) <= limit:
            out += self._z.decompress(self._z.unconsumed_tail, limit - len(out) + 1)

    def finish(self, out: bytearray, limit: int) -> None:
        if self._z is None:
            return
        self.feed(b"", out, limit)
        if len(out) <= limit:
            out += self._z.flush()
        if not self._z.eof and self._name != "deflate":
            raise _Problem("响应不完整（压缩数据没有结尾）", retry=True)


def _target(url: str, base: httpx.URL | None = None) -> httpx.URL:
    """The URL to request (relative to `base`), refused unless it is http(s) with a host."""
    try:
        parsed = httpx.URL(url.strip()) if base is None else base.join(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        raise _Problem("网址无效") from None
    if parsed.scheme not in _PORTS:
        shown = f"「{parsed.scheme}:」" if parsed.scheme else "没有协议的"
        raise _Problem(f"只能抓取 http/https 网址，不能抓取{shown}网址")
    if not parsed.host:
        raise _Problem("网址缺少主机名")
    return parsed.copy_with(fragment=None)


def _check_status(status: int, headers: dict[str, str]) -> None:
    """Raise for statuses that are not a page: 429 and 5xx may be retried, 4xx may not."""
    retry = status == 429 or status >= 500
    if status == 429:
        reason = "请求过于频繁（429）"
    elif status >= 500:
        reason = f"服务器返回 {status}"
    elif status in (404, 410):
        reason = f"页面不存在（{status}）"
    elif status in (401, 403):
        reason = f"无权访问（{status}）"
    elif status >= 400:
        reason = f"服务器拒绝了请求（{status}）"
    elif 300 <= status < 400 and status != 304:
        reason = f"服务器返回 {status} 但没有给出跳转地址"
    else:
        return
    delay = _retry_after(headers) if retry else 0.0
    raise _Problem(reason, retry=retry, delay=delay, status=status)


def _retry_after(headers: dict[str, str]) -> float:
    """Retry-After in seconds (a number or an HTTP date), at most RETRY_AFTER_CAP."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _content_length(headers: dict[str, str]) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _size(limit: int) -> str:
    if limit >= 1_000_000:
        return f"{limit / 1_000_000:g} MB"
    return f"{limit / 1000:g} KB"


def _network_words(exc: httpx.TransportError, target: httpx.URL) -> str:
    where = f"{target.host}:{target.port or _PORTS[target.scheme]}"
    text = str(exc)
    if isinstance(exc, httpx.ConnectError):
        if "SSL" in text or "CERTIFICATE" in text.upper():
            return f"与 {where} 的 TLS 握手失败（证书无效或协议不符）"
        return f"无法连接到 {where}（连接被拒绝、主机不可达或域名无法解析）"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{where} 没有正常应答就断开了连接"
    if isinstance(exc, httpx.ProxyError):
        return "代理服务器出错"
    return f"与 {where} 的连接出错（{type(exc).__name__}）"


_ALIASES = {
    # GBK and GB2312 pages often use characters only their superset GB18030 defines.
    **dict.fromkeys(
        ("gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "cp936", "euc-cn", "chinese"),
        "gb18030",
    ),
    "big5": "big5hkscs",
    # As browsers do (WHATWG Encoding): these labels mean windows-1252.
    **dict.fromkeys(("iso-8859-1", "latin1", "latin-1", "ascii", "us-ascii"), "cp1252"),
}
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)
_DOCUMENT_CHARSET = re.compile(
    rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:-]+)|<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)",
    re.IGNORECASE,
)
_TEXTUAL = ("text/", "xml", "json", "javascript", "html")
_SAMPLE = 256_000


def find_encoding(body: bytes, content_type: str) -> str:
    """The charset `body` decodes with: BOM, Content-Type, the document's own declaration
    (first 4 KB), detection, else utf-8. A declared charset that garbles the body (a header
    that lies) is passed over; GBK and GB2312 become GB18030, their superset."""
    marked = bom_encoding(body)
    if marked is not None:  # utf-8-sig: `Page.text()` then drops the mark
        return "utf-8-sig" if marked[0] == "utf-8" else marked[0]
    header = _HEADER_CHARSET.search(content_type)
    declared = [_codec(header.group(1)) if header else None]
    kind = content_type.split(";")[0].strip().lower()
    if kind and not any(part in kind for part in _TEXTUAL):
        return declared[0] or "utf-8"  # images, PDFs: no text to sniff
    document = _DOCUMENT_CHARSET.search(body[:4096])
    if document:
        declared.append(_codec((document.group(1) or document.group(2)).decode("ascii")))
    sample = body[:_SAMPLE]
    for name in declared:
        if name is not None and _decodes(sample, name):
            return name
    guess = charset_normalizer.from_bytes(sample).best()
    if guess is not None:
        detected = _codec(guess.encoding)
        if detected is not None:
            return "utf-8" if detected == "cp1252" and sample.isascii() else detected
    return next((name for name in declared if name is not None), "utf-8")


def _codec(label: str) -> str | None:
    """Python's name of a charset label, or None when Python has no such codec."""
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decodes(sample: bytes, name: str) -> bool:
    """Whether `sample` reads in `name` with at most a stray bad byte per 200."""
    text = sample.decode(name, errors="replace")
    return text.count("\ufffd") * 200 <= max(len(sample), 200)
