"""Articles from fetched pages, shared by the rss, sitemap and web kinds.

`extract_article` reads one page: trafilatura finds the main text, title and author (scripts,
styles, comments and page chrome never reach the text) and, through htmldate with extensive
search off, the publish day the page's markup declares. Chinese pages mostly show the publish
time only as text ("2026年11月03日 08:30"), so a visible stamp on that day adds the time, or
gives the day when the markup has none. CSS selectors configured on a source override each
field. `fetch_articles` fetches many article pages of one run concurrently and turns each into
a RawItem, or an ItemError when that one page cannot be fetched or read.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import trafilatura
from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from yuqing.domain import Metrics, RawItem
from yuqing.errors import FetchError
from yuqing.ingest.fields import parse_count
from yuqing.pipeline.base import ItemError
from yuqing.pipeline.html import html_to_text
from yuqing.pipeline.normalize import normalize_whitespace
from yuqing.pipeline.urls import canonicalize_url
from yuqing.sources.base import CollectContext, Collected, Page

METRIC_NAMES = ("views", "reposts", "comments", "likes")
HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml", "text/plain"})
_HIDDEN_TAGS = ["script", "style", "noscript", "template", "iframe", "svg"]
_NUMBER = r"[0-9０-９]"
# A counter inside a label: "阅读 1.2万" → "1.2万", "查看: 3,521" → "3,521", "10w+".
_COUNT_IN_TEXT = re.compile(
    rf"{_NUMBER}(?:[0-9０-９,，]|[.．](?={_NUMBER}))*\s*[万亿千wWkKｗＷｋＫ]?\+?"
)
# A publish stamp: "2026年11月03日 08:30", "2026-11-03 08:30:15", "2026/11/3 8:30".
_STAMP = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?:\s*日)?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2})(?:\s*[:：]\s*(?P<S>\d{2}))?"
    r"(?P<Z>Z|[+-]\d{2}:?\d{2}\b)?)?",
    re.ASCII,
)


def check_selector(selector: str | None) -> str | None:
    """A CSS selector that selectolax can run (pydantic validator)."""
    if selector is None:
        return None
    try:
        LexborHTMLParser("<p></p>").css(selector)
    except SelectolaxError as exc:
        raise ValueError(f"CSS 选择器无法解析：{selector!r}") from exc
    return selector


class EmptyArticleError(ValueError):
    """The page has no main text: a login wall, a page drawn by scripts, a picture gallery."""


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors a source configures to override extraction; None means automatic."""

    title: str | None = None
    content: str | None = None
    date: str | None = None
    author: str | None = None
    metrics: Mapping[str, str] = field(default_factory=dict)  # views/reposts/… → selector


AUTOMATIC = Selectors()


@dataclass(slots=True)
class Article:
    """What one page says about itself; `published` is text for the normalize stage."""

    title: str
    text: str
    author: str | None
    published: str | None
    metrics: Metrics


def extract_article(
    html: str, url: str, *, selectors: Selectors = AUTOMATIC, now: datetime | None = None
) -> Article:
    """Read one article page; raises EmptyArticleError when it has no main text.

    `now` bounds the publish dates htmldate accepts (later ones are parse accidents).
    """
    tree = LexborHTMLParser(html)
    tree.strip_tags(_HIDDEN_TAGS)
    latest = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    document: Any = None
    if None in (selectors.content, selectors.title, selectors.author, selectors.date):
        document = trafilatura.bare_extraction(
            html,
            url=url,
            with_metadata=True,
            include_comments=False,
            # trafilatura drops scripts and styles itself, but keeps <noscript> fallbacks
            # ("请启用 JavaScript") and <template> content.
            prune_xpath=["//noscript", "//template"],
            date_extraction_params={
                "extensive_search": False,
                "original_date": True,
                "max_date": latest,
            },
        )
    if selectors.content is not None:
        text = "\n\n".join(html_to_text(node.html or "") for node in tree.css(selectors.content))
    else:
        text = str(document.text or "") if document is not None else ""
    text = normalize_whitespace(text)
    if not text:
        raise EmptyArticleError("正文为空：页面上没有找到文章正文")
    title = _selected(tree, selectors.title)
    if title is None:
        title = str(document.title or "") if document is not None else ""
    author = _selected(tree, selectors.author)
    if author is None and document is not None:
        author = document.author or None
    return Article(
        title=title.strip(),
        text=text,
        author=author,
        published=_published(tree, selectors.date, document, latest),
        metrics=_metrics(tree, selectors.metrics),
    )


def _selected(tree: LexborHTMLParser, selector: str | None) -> str | None:
    """Text of the first element a selector matches; None when not configured or no match."""
    if selector is None:
        return None
    node = tree.css_first(selector)
    text = _text_of(node) if node is not None else ""
    return text or None


def _text_of(node: LexborNode) -> str:
    return " ".join(node.text(deep=True, separator=" ").split())


def _published(
    tree: LexborHTMLParser, selector: str | None, document: Any, latest: str
) -> str | None:
    """The publish time: a configured element, else the markup's day refined by a stamp."""
    if selector is not None:
        shown = _selected(tree, selector)
        if shown is None:
            return None
        found = _STAMP.search(shown)
        return (_stamp(found) if found else None) or shown[:40]
    day = str(document.date) if document is not None and document.date else None
    body = tree.body
    visible = _text_of(body) if body is not None else ""
    for found in _STAMP.finditer(visible):
        text = _stamp(found)
        # Only stamps with a time: a bare date in a page header is usually today's date.
        if text and found["H"] is not None and (day or text[:10]) == text[:10] <= latest:
            return text
    return day


def _stamp(found: re.Match[str]) -> str | None:
    """A matched stamp as "YYYY-MM-DD[ HH:MM[:SS][offset]]", or None if it is no real time.

    Without an offset the time is local: the normalize stage reads it in the organization's
    time zone.
    """
    numbers = [int(found[g]) for g in ("y", "mo", "d")]
    if found["H"] is not None:
        numbers += [int(found["H"]), int(found["M"]), int(found["S"] or 0)]
    try:
        moment = datetime(*numbers)  # type: ignore[arg-type]
    except ValueError:
        return None
    if found["H"] is None:
        return moment.strftime("%Y-%m-%d")
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if found["S"] else "%Y-%m-%d %H:%M")
    return text + (found["Z"] or "")


def _metrics(tree: LexborHTMLParser, selectors: Mapping[str, str]) -> Metrics:
    """Counters shown on the page; one that is missing or unreadable stays None."""
    values: dict[str, int] = {}
    for name, selector in selectors.items():
        shown = _selected(tree, selector)
        found = _COUNT_IN_TEXT.search(shown) if shown else None
        if found is None:
            continue
        try:
            values[name] = parse_count(found.group())
        except ValueError:
            continue
    return Metrics(**values)


@dataclass(frozen=True, slots=True)
class Hint:
    """What a feed or a sitemap already says about an article, used where the page is silent."""

    title: str = ""
    published: str | datetime | None = None
    external_id: str | None = None
    author: str | None = None


def entry_key(url: str) -> str:
    """The key an article URL is remembered under: its canonical form, so tracking codes and
    other spellings of one page are not collected twice."""
    try:
        return canonicalize_url(url)
    except ValueError:
        return url


async def fetch_articles(
    ctx: CollectContext,
    urls: Sequence[str],
    selectors: Selectors = AUTOMATIC,
    hints: Mapping[str, Hint] | None = None,
) -> Collected:
    """Fetch and read article pages concurrently (the fetcher paces each host); every URL
    becomes one RawItem or one ItemError, in the order given."""
    known = hints or {}
    found = await asyncio.gather(
        *(_article(ctx, url, selectors, known.get(url, Hint())) for url in urls)
    )
    result = Collected()
    for record, fetched in found:
        result.records.append(record)
        result.pages += fetched
    return result


async def _article(
    ctx: CollectContext, url: str, selectors: Selectors, hint: Hint
) -> tuple[RawItem | ItemError, int]:
    """One article page as a record, and how many responses it took (0 or 1)."""
    try:
        page = await ctx.get(url)
    except FetchError as exc:
        # Not remembered: a timeout or a 503 today may be gone on the next run.
        return ctx.source.error(url, f"文章页抓取失败：{exc.reason}"), 0
    ctx.remember(entry_key(url))
    if page.content_type not in HTML_TYPES:
        return ctx.source.error(url, f"文章页不是网页（内容类型为 {page.content_type}）"), 1
    try:
        article = await read_page(page, selectors, ctx.now)
    except EmptyArticleError as exc:
        return ctx.source.error(url, str(exc)), 1
    published = hint.published if hint.published is not None else article.published
    item = ctx.source.item(
        article.text,
        url=page.final_url,
        title=article.title or hint.title,
        author=article.author or hint.author,
        published=published,
        metrics=article.metrics,
        external_id=hint.external_id,
    )
    return item, 1


async def read_page(page: Page, selectors: Selectors, now: datetime) -> Article:
    """Extract in a worker thread: parsing takes milliseconds of CPU per page, and the event
    loop must keep serving the other fetches in flight meanwhile."""
    return await asyncio.to_thread(
        extract_article, page.text(), page.final_url, selectors=selectors, now=now
    )
