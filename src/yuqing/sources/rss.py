"""The rss source kind: RSS 0.9x, 1.0 (RDF), 2.0 and Atom 1.0 feeds, read with feedparser.

The feed is fetched conditionally, so an unchanged feed costs one 304 and yields nothing.
Each new entry becomes one item from the feed's own text, or, with `fetch_articles`, from
the full text of the page it links to (the feed's text stays the fallback when that page
cannot be read). A feed with markup errors keeps the entries feedparser recovered and notes
the error; a document that is not a feed at all fails the run.
"""

from __future__ import annotations

import calendar
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any, ClassVar
from urllib.parse import urlsplit

import feedparser

from yuqing.domain import RawItem
from yuqing.errors import FetchError, SourceError
from yuqing.pipeline.base import ItemError
from yuqing.pipeline.html import html_to_text
from yuqing.sources.base import CollectContext, Collected, HttpUrlText, KindConfig, Page
from yuqing.sources.extract import Hint, entry_key, fetch_articles

# Markup types feedparser reports for an entry's text; anything else is plain text.
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# feedparser flags these as "bozo" though the entries are read correctly: a text/xml feed
# without a charset in its header (RFC 3023 says us-ascii, every server means UTF-8), or a
# feed served as text/html or text/plain.
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


class RssConfig(KindConfig):
    """An RSS or Atom feed's address; `fetch_articles` replaces each entry's summary with the
    full text of the page it links to (one more request per new entry)."""

    url: HttpUrlText
    fetch_articles: bool = False


@dataclass(frozen=True, slots=True)
class _Entry:
    """One feed entry, read and checked; `key` is what later runs remember it by."""

    key: str
    url: str | None
    title: str
    title_is_html: bool
    text: str
    is_html: bool
    author: str | None
    published: str | datetime | None
    external_id: str | None


class RssSource:
    """A feed; every new entry becomes one item."""

    kind: ClassVar[str] = "rss"
    label: ClassVar[str] = "RSS/Atom 订阅"
    Config: ClassVar[type[KindConfig]] = RssConfig

    def __init__(self, config: RssConfig) -> None:
        self.config = config

    async def collect(self, ctx: CollectContext) -> Collected:
        url = self.config.url
        try:
            page = await ctx.get(url, conditional=True)
        except FetchError as exc:
            raise SourceError(f"{ctx.source.where(url)}：订阅无法抓取：{exc.reason}") from exc
        result = Collected(pages=1)
        if page.not_modified:
            result.not_modified = 1
            return result
        feed = _parse(page)
        entries: list[Any] = feed.entries
        error = dict.get(feed, "bozo_exception")
        if not entries and (feed.bozo or not feed.version):
            reason = _shown(error) if error is not None else "没有找到任何条目"
            raise SourceError(
                f"{ctx.source.where(url)}：不是有效的 RSS/Atom 订阅：{reason}"
                f"（内容类型为 {page.content_type or '未知'}），请检查订阅地址"
            )
        if feed.bozo and not isinstance(error, _HARMLESS):
            result.problems.append(
                f"{ctx.source.where(url)}：订阅格式有错误（{_shown(error)}），"
                f"已读取能识别的 {len(entries)} 个条目"
            )
        fresh: dict[str, _Entry] = {}
        for position, raw in enumerate(entries, 1):
            entry = _read(raw)
            if isinstance(entry, str):
                result.records.append(ctx.source.error(f"{url} 第 {position} 个条目", entry))
            elif entry.key not in fresh and ctx.is_new(entry.key):
                fresh[entry.key] = entry
        chosen = list(fresh.values())
        if len(chosen) > ctx.max_items:
            # The rest waits for the next run, which must then not get a 304.
            ctx.state.get("validators", {}).pop(url, None)
            chosen = chosen[: ctx.max_items]
        result.extend(await self._items(ctx, chosen))
        return result

    async def _items(self, ctx: CollectContext, entries: list[_Entry]) -> Collected:
        """Items from the entries, with the linked pages' full text when configured."""
        result = Collected()
        full: Mapping[str, RawItem | ItemError] = {}
        if self.config.fetch_articles:
            hints = {e.url: _hint(e) for e in entries if e.url}
            fetched = await fetch_articles(ctx, list(hints), hints=hints)
            full = dict(zip(hints, fetched.records, strict=True))
            result.pages += fetched.pages
        for entry in entries:
            article = full.get(entry.url or "")
            if isinstance(article, RawItem):
                ctx.remember(entry.key)
                result.records.append(article)
                continue
            if isinstance(article, ItemError):
                if not entry.text:
                    result.records.append(article)
                    continue
                result.problems.append(f"{article.where}：{article.error}，已改用订阅中的摘要")
            if not entry.text and not entry.title:
                result.records.append(
                    ctx.source.error(entry.url or entry.key, "条目没有标题和正文")
                )
                continue
            ctx.remember(entry.key)
            result.records.append(_item(ctx, entry))
        return result


def _parse(page: Page) -> Any:
    """feedparser on the body; the headers tell it the charset and the base of relative links.

    The body goes in as a stream: feedparser would read bytes that look like a path as a
    local file name.
    """
    headers = {
        "content-type": page.headers.get("content-type", "application/xml"),
        "content-location": page.final_url,
    }
    return feedparser.parse(
        io.BytesIO(page.body),
        response_headers=headers,
        sanitize_html=True,
        resolve_relative_uris=True,
    )


def _read(entry: Any) -> _Entry | str:
    """One entry's fields, or the reason it cannot become an item.

    Fields are read with dict.get: feedparser's own get() maps updated_parsed to
    published_parsed with a DeprecationWarning.
    """
    title = str(dict.get(entry, "title") or "").strip()
    link = str(dict.get(entry, "link") or "").strip()
    url = link if urlsplit(link).scheme in ("http", "https") else None
    contents = dict.get(entry, "content") or []
    detail = contents[0] if contents else dict.get(entry, "summary_detail") or {}
    text = str(detail.get("value") or "").strip()
    is_html = detail.get("type") in _HTML_TYPES
    if not url and not text:
        return "条目既没有链接也没有正文"
    entry_id = str(dict.get(entry, "id") or "").strip() or None
    key = entry_key(url) if url else entry_id or _digest(title, text)
    author = str(dict.get(entry, "author") or "").strip() or None
    title_is_html = (dict.get(entry, "title_detail") or {}).get("type") in _HTML_TYPES
    return _Entry(
        key, url, title, title_is_html, text, is_html, author, _published(entry), entry_id
    )


def _published(entry: Any) -> str | datetime | None:
    """The entry's time: what feedparser parsed (UTC struct_time) as an aware datetime, or
    the text as written for the normalize stage.

    Text with Chinese in it ("2026年11月2日 10:12") stays text: feedparser misreads such
    dates (that one as 1 November, midnight), the normalize stage reads them right.
    """
    for text_field, parsed_field in (
        ("published", "published_parsed"),
        ("updated", "updated_parsed"),
    ):
        raw = str(dict.get(entry, text_field) or "").strip()
        if not raw:
            continue
        parsed = dict.get(entry, parsed_field)
        if parsed is not None and raw.isascii():
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (TypeError, ValueError, OverflowError, OSError):
                pass
        return raw
    return None


def _item(ctx: CollectContext, entry: _Entry) -> RawItem:
    """The item from the feed's own text (the title when the entry has only a title)."""
    title = entry.title
    if entry.is_html and not entry.title_is_html:
        # The normalize stage reads the title as HTML too: keep a plain "<" or "&" as written.
        title = html.escape(title, quote=False)
    return ctx.source.item(
        entry.text or title,
        url=entry.url,
        title=title,
        author=entry.author,
        published=entry.published,
        external_id=entry.external_id,
        is_html=entry.is_html,
    )


def _hint(entry: _Entry) -> Hint:
    """What the feed says about a linked article, used where the page itself is silent."""
    title = html_to_text(entry.title) if entry.title_is_html else entry.title
    return Hint(title, entry.published, entry.external_id, entry.author)


def _digest(*parts: str) -> str:
    """A stable key for an entry with neither link nor id."""
    return "sha:" + blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def _shown(error: object) -> str:
    """An exception as a short phrase for a message."""
    text = str(error).strip() or type(error).__name__
    return text[:200]
