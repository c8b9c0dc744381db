"""The sitemap source kind: a site's sitemap or news sitemap lists its articles.

Reads `urlset` documents (with the Google News extension's title and publication date) and
`sitemapindex` documents, following an index's newest children, at most two index levels
deep and at most `max_sitemaps` children in all. Plain or gzipped (`.xml.gz`, recognised by
its bytes; decompressed up to the 50 MB the sitemaps protocol allows). URLs older than
`since_days` are skipped, the newest come first, and each new one is fetched and read as an
article. XML is parsed with entity resolution, DTD loading and network access off, so an
entity in a hostile sitemap can neither read local files nor fetch URLs.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from lxml import etree
from pydantic import Field

from yuqing.errors import FetchError, SourceError
from yuqing.sources.base import CollectContext, Collected, HttpUrlText, KindConfig
from yuqing.sources.extract import Hint, entry_key, fetch_articles

MAX_SITEMAP_BYTES = 50 * 1024 * 1024
"""Largest decompressed sitemap read (the sitemaps protocol's own limit)."""
MAX_INDEX_DEPTH = 2
"""Index levels followed: the index given, and indexes it lists; deeper ones are ignored."""
_GZIP_MAGIC = b"\x1f\x8b"


class SitemapConfig(KindConfig):
    """A sitemap or sitemap index; `max_sitemaps` bounds the child sitemaps read per run,
    `since_days` skips URLs whose date is older (None reads all)."""

    url: HttpUrlText
    max_sitemaps: int = Field(default=20, ge=1, le=1000)
    since_days: int | None = Field(default=7, ge=1)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One <url> or <sitemap> of a document."""

    url: str
    when: datetime | None  # lastmod or news publication date, for ordering and the cut-off
    title: str = ""
    published: str | None = None  # news:publication_date as written


@dataclass(frozen=True, slots=True)
class _Document:
    is_index: bool
    entries: list[_Entry]


class SitemapSource:
    """A sitemap; every new recent URL it lists becomes one item."""

    kind: ClassVar[str] = "sitemap"
    label: ClassVar[str] = "网站地图"
    Config: ClassVar[type[KindConfig]] = SitemapConfig

    def __init__(self, config: SitemapConfig) -> None:
        self.config = config

    async def collect(self, ctx: CollectContext) -> Collected:
        run = _Run(ctx, self.config)
        urls = await run.listed()
        fresh: list[_Entry] = []
        for entry in _newest_first(urls):  # one past the bound tells the run is cut short
            if len(fresh) > ctx.max_items:
                break
            if ctx.is_new(entry_key(entry.url)):
                fresh.append(entry)
        if len(fresh) > ctx.max_items:
            # The rest waits for the next run, which must then read the sitemaps again
            # instead of getting 304s.
            ctx.state.get("validators", {}).clear()
            fresh = fresh[: ctx.max_items]
        hints = {e.url: Hint(title=e.title, published=e.published) for e in fresh}
        run.result.extend(await fetch_articles(ctx, list(hints), hints=hints))
        return run.result


class _Run:
    """Reading one source's sitemaps in one run.

    Every sitemap is fetched conditionally. An index that answers 304 still leads to its
    children (a news sitemap is often rewritten in place under an unchanged index), so the
    children of each index are kept in `ctx.state["indexes"]` for the next run.
    """

    def __init__(self, ctx: CollectContext, config: SitemapConfig) -> None:
        self.ctx = ctx
        self.config = config
        self.result = Collected()
        self.cutoff = ctx.now - timedelta(days=config.since_days) if config.since_days else None
        self.known: dict[str, list[list[str]]] = ctx.state.get("indexes", {})
        self.indexes: dict[str, list[list[str]]] = {}

    async def listed(self) -> list[_Entry]:
        """The recent URLs of the sitemap and the children it leads to, each once."""
        urls: dict[str, _Entry] = {}
        top = await self._document(self.config.url, first=True)
        level = [top] if top is not None else []
        budget = self.config.max_sitemaps
        depth = 1
        while level:
            children: list[_Entry] = []
            for document in level:
                if document.is_index:
                    children.extend(e for e in document.entries if self._recent(e))
                else:
                    for entry in document.entries:
                        if self._recent(entry):
                            urls.setdefault(entry.url, entry)
            if children and depth > MAX_INDEX_DEPTH:
                self._problem(
                    self.config.url,
                    f"网站地图索引嵌套超过 {MAX_INDEX_DEPTH} 层，更深的 {len(children)} "
                    "个子地图未读取",
                )
                break
            children = _newest_first(children)
            if len(children) > budget:
                self._problem(
                    self.config.url,
                    f"索引还列出 {len(children) - budget} 个较旧的子地图，超过每次 "
                    f"{self.config.max_sitemaps} 个的上限，未读取",
                )
                children = children[:budget]
            budget -= len(children)
            found = await asyncio.gather(
                *(self._document(child.url, first=False) for child in children)
            )
            level = [document for document in found if document is not None]
            depth += 1
        self.ctx.state["indexes"] = self.indexes
        return list(urls.values())

    async def _document(self, url: str, *, first: bool) -> _Document | None:
        """One sitemap, read; a fault fails the run for the one given, is noted for children."""
        try:
            page = await self.ctx.get(url, conditional=True)
            self.result.pages += 1
            if page.not_modified:
                self.result.not_modified += 1
                return self._remembered(url)
            document = _parse(page.body, page.final_url)
        except FetchError as exc:
            reason = f"网站地图无法抓取：{exc.reason}"
        except ValueError as exc:
            reason = f"不是有效的网站地图：{exc}"
        else:
            if document.is_index:
                self.indexes[url] = [
                    [e.url, e.when.isoformat() if e.when else ""] for e in document.entries
                ]
            return document
        if first:
            raise SourceError(f"{self.ctx.source.where(url)}：{reason}，请检查网站地图地址")
        self._problem(url, f"{reason}，已跳过")
        return None

    def _remembered(self, url: str) -> _Document | None:
        """An unchanged index as the last run read it; None for an unchanged urlset."""
        children = self.known.get(url)
        if children is None:
            return None
        self.indexes[url] = children
        return _Document(True, [_Entry(child, _when(when)) for child, when in children])

    def _recent(self, entry: _Entry) -> bool:
        """Whether an entry may hold new articles: undated ones may."""
        return self.cutoff is None or entry.when is None or entry.when >= self.cutoff

    def _problem(self, url: str, words: str) -> None:
        self.result.problems.append(f"{self.ctx.source.where(url)}：{words}")


def _parse(body: bytes, base: str) -> _Document:
    """A urlset or sitemapindex; ValueError in words when it is neither."""
    if body.startswith(_GZIP_MAGIC):
        body = _gunzip(body)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"XML 无法解析（{exc}）") from None
    if root is None:
        raise ValueError("内容为空或不是 XML")
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"根元素是 <{kind}>，应为 <urlset> 或 <sitemapindex>")
    tag = "{*}sitemap" if kind == "sitemapindex" else "{*}url"
    entries: list[_Entry] = []
    for node in root.iterfind(tag):
        loc = node.find("{*}loc")
        # A <loc> with anything but text in it (an unresolved entity) is no URL.
        url = _absolute(loc.text or "", base) if loc is not None and len(loc) == 0 else None
        if url is None:
            continue
        published = (node.findtext("{*}news/{*}publication_date") or "").strip() or None
        title = " ".join((node.findtext("{*}news/{*}title") or "").split())
        when = _when(published) or _when(node.findtext("{*}lastmod"))
        entries.append(_Entry(url, when, title, published if _when(published) else None))
    return _Document(kind == "sitemapindex", entries)


def _gunzip(body: bytes) -> bytes:
    """Decompress a gzipped sitemap, refusing one that grows past MAX_SITEMAP_BYTES."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise ValueError(f"gzip 数据损坏（{exc}）") from None
    if len(data) > MAX_SITEMAP_BYTES:
        raise ValueError(f"解压后超过 {MAX_SITEMAP_BYTES // (1024 * 1024)} MB 上限，已中止")
    if not inflater.eof:
        raise ValueError("gzip 数据不完整（文件被截断）")
    return data


def _absolute(loc: str, base: str) -> str | None:
    """A listed URL as an absolute http(s) URL (a relative one resolves against the
    sitemap, as browsers would); None when it is something else."""
    try:
        url = urljoin(base, loc.strip())
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if loc.strip() and parts.scheme in ("http", "https") and parts.hostname else None


def _when(text: str | None) -> datetime | None:
    """A W3C datetime ("2026-11-03", "2026-11-03T08:30:00+08:00") as aware UTC, else None.

    A date without a zone is read as UTC: for ordering and a cut-off in days, hours do not
    matter.
    """
    if not text or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _newest_first(entries: list[_Entry]) -> list[_Entry]:
    """Dated entries newest first, then the undated in the order listed."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(entries, key=lambda e: e.when or oldest, reverse=True)
