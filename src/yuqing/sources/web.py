"""The web source kind: a listing page (and its next pages) whose links lead to articles.

Links are picked by a CSS selector or by a regular expression on their absolute URLs; by
default only links on the listing's own host count. Each new article page is fetched (all
at once; the fetcher paces each host) and read by `extract_article`, with the source's
selectors overriding the automatic title, text, date and author, and selectors for the
counters a page shows (views, reposts, comments, likes). `revisit` fetches known articles
again for fresh counters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit

from pydantic import Field, field_validator, model_validator
from selectolax.lexbor import LexborHTMLParser, LexborNode

from yuqing.errors import FetchError, SourceError
from yuqing.sources.base import CollectContext, Collected, HttpUrlText, KindConfig, Page
from yuqing.sources.extract import (
    HTML_TYPES,
    METRIC_NAMES,
    Selectors,
    check_selector,
    entry_key,
    fetch_articles,
)

MAX_PAGES = 50


class WebConfig(KindConfig):
    """A listing page; exactly one of `link_selector` (CSS) and `link_pattern` (a regular
    expression searched in each link's absolute URL) picks the article links."""

    url: HttpUrlText
    link_selector: str | None = None
    link_pattern: str | None = None
    next_selector: str | None = None
    max_pages: int = Field(default=1, ge=1, le=MAX_PAGES)
    same_host: bool = True
    title_selector: str | None = None
    content_selector: str | None = None
    date_selector: str | None = None
    author_selector: str | None = None
    metrics: dict[str, str] = Field(default_factory=dict)

    @field_validator(
        "link_selector",
        "next_selector",
        "title_selector",
        "content_selector",
        "date_selector",
        "author_selector",
    )
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return check_selector(value)

    @field_validator("link_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"链接正则表达式无法解析：{value!r}（{exc}）") from exc
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(METRIC_NAMES))
        if unknown:
            raise ValueError(
                f"不认识的指标 {', '.join(unknown)}；可用的指标为 {', '.join(METRIC_NAMES)}"
            )
        for selector in value.values():
            check_selector(selector)
        return value

    @model_validator(mode="after")
    def _one_link_rule(self) -> WebConfig:
        if (self.link_selector is None) == (self.link_pattern is None):
            raise ValueError(
                "link_selector（CSS 选择器）和 link_pattern（正则表达式）须填写且只填写一个"
            )
        return self


class WebSource:
    """A listing page of a site; every new article it links to becomes one item."""

    kind: ClassVar[str] = "web"
    label: ClassVar[str] = "网页列表"
    Config: ClassVar[type[KindConfig]] = WebConfig

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.pattern = re.compile(config.link_pattern) if config.link_pattern else None
        self.selectors = Selectors(
            title=config.title_selector,
            content=config.content_selector,
            date=config.date_selector,
            author=config.author_selector,
            metrics=config.metrics,
        )

    async def collect(self, ctx: CollectContext) -> Collected:
        result = Collected()
        links = await self._links(ctx, result)
        fresh = [link for link in links if ctx.is_new(entry_key(link))][: ctx.max_items]
        result.extend(await fetch_articles(ctx, fresh, self.selectors))
        return result

    async def revisit(self, ctx: CollectContext, urls: Sequence[str]) -> Collected:
        """Fetch known articles again (collected before or not) for their current counters."""
        return await fetch_articles(ctx, list(urls), self.selectors)

    async def _links(self, ctx: CollectContext, result: Collected) -> list[str]:
        """Article links of the listing and its next pages, in page order, each once."""
        links: dict[str, None] = {}
        listing: str | None = self.config.url
        visited: set[str] = set()
        while listing is not None and len(visited) < self.config.max_pages:
            visited.add(listing)
            page = await self._listing(ctx, listing, first=len(visited) == 1, result=result)
            if page is None:
                break
            tree = LexborHTMLParser(page.text())
            base = _base_url(tree, page.final_url)
            for link in self._article_links(tree, base):
                if link not in visited:
                    links.setdefault(link)
            if not links and len(visited) == 1:
                rule = self.config.link_selector or self.config.link_pattern
                raise SourceError(
                    f"{ctx.source.where(listing)}：列表页上没有找到文章链接"
                    f"（规则「{rule}」没有匹配{'本站的' if self.config.same_host else ''}链接），"
                    "请检查列表页地址和链接规则"
                )
            new = sum(1 for link in links if ctx.is_new(entry_key(link)))
            listing = self._next_page(tree, base) if new < ctx.max_items else None
            if listing in visited:
                listing = None
        return list(links)

    async def _listing(
        self, ctx: CollectContext, url: str, *, first: bool, result: Collected
    ) -> Page | None:
        """One listing page; the first must be readable, a later one only ends the paging."""
        try:
            page = await ctx.get(url)
        except FetchError as exc:
            if first:
                raise SourceError(f"{ctx.source.where(url)}：列表页无法抓取：{exc.reason}") from exc
            result.problems.append(f"{ctx.source.where(url)}：翻页抓取失败：{exc.reason}")
            return None
        result.pages += 1
        if page.content_type in HTML_TYPES:
            return page
        problem = f"列表页不是网页（内容类型为 {page.content_type}）"
        if first:
            raise SourceError(f"{ctx.source.where(url)}：{problem}，请检查列表页地址")
        result.problems.append(f"{ctx.source.where(url)}：{problem}，已停止翻页")
        return None

    def _article_links(self, tree: LexborHTMLParser, base: str) -> list[str]:
        """Absolute http(s) links the rule picks, without fragments, on the host if required."""
        if self.config.link_selector is not None:
            hrefs = [_href(node) for node in tree.css(self.config.link_selector)]
        else:
            hrefs = [node.attributes.get("href") for node in tree.css("a[href]")]
        host = urlsplit(base).hostname
        found: list[str] = []
        for href in hrefs:
            link = _absolute(href, base)
            if link is None or (self.config.same_host and urlsplit(link).hostname != host):
                continue
            if self.pattern is None or self.pattern.search(link):
                found.append(link)
        return found

    def _next_page(self, tree: LexborHTMLParser, base: str) -> str | None:
        if self.config.next_selector is None:
            return None
        return _absolute(_href(tree.css_first(self.config.next_selector)), base)


def _href(node: LexborNode | None) -> str | None:
    """The link of a selected element: its own href, else the first link inside it."""
    if node is None:
        return None
    href = node.attributes.get("href")
    if href is None:
        inner = node.css_first("a[href]")
        href = inner.attributes.get("href") if inner is not None else None
    return href


def _absolute(href: str | None, base: str) -> str | None:
    """An href resolved against the page, fragment dropped; None unless it is http(s)."""
    if not href or not href.strip():
        return None
    try:
        link, _ = urldefrag(urljoin(base, href.strip()))
        parts = urlsplit(link)
    except ValueError:  # "http://[oops" and other hrefs urllib cannot split
        return None
    return link if parts.scheme in ("http", "https") and parts.hostname else None


def _base_url(tree: LexborHTMLParser, page_url: str) -> str:
    """Where relative links of the page resolve: its <base href>, else its own URL."""
    node = tree.css_first("base[href]")
    href = node.attributes.get("href") if node is not None else None
    return urljoin(page_url, href.strip()) if href and href.strip() else page_url
