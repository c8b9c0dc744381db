"""What every source kind shares: the source it serves, the page it fetched, what a run returns.

A source kind is a class with a pydantic `Config` (validated from the `sources.config` JSON,
unknown keys refused) and an async `collect(ctx)` that fetches through `ctx.fetch` and returns
`Collected`: records for the pipeline of #2 (RawItem, or ItemError for one bad entry, so the
rest of the run goes on). A kind that can fetch one item again for fresh metrics also has
`revisit(ctx, urls)`. A whole run that cannot go on (the feed is unreachable, the listing is
not HTML) raises `SourceError` with a sentence naming the source and the URL.

    class RssSource:
        kind = "rss"
        label = "RSS/Atom 订阅"
        Config = RssConfig

        def __init__(self, config: RssConfig) -> None: ...
        async def collect(self, ctx: CollectContext) -> Collected: ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar, Protocol
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict

from yuqing.domain import MediaTier, Metrics, Platform, RawItem
from yuqing.pipeline.base import ItemError

SEEN_LIMIT = 5000
"""Entries remembered per source so later runs skip them (revisits refresh them instead)."""


def check_http_url(url: str) -> str:
    """A source's configured URL: absolute http(s) with a host (pydantic validator)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"地址必须是以 http:// 或 https:// 开头的完整网址：{url!r}")
    return url.strip()


HttpUrlText = Annotated[str, AfterValidator(check_http_url)]
"""A configuration field holding such a URL."""


class KindConfig(BaseModel):
    """Base of every kind's configuration: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The source a run serves; every item it yields inherits platform, tier, region, unit."""

    name: str
    kind: str
    id: int | None = None
    platform: Platform = Platform.OTHER
    media_tier: MediaTier = MediaTier.OTHER
    region: str | None = None
    unit_id: int | None = None

    def item(
        self,
        content: str,
        *,
        url: str | None = None,
        title: str = "",
        author: str | None = None,
        published: str | datetime | None = None,
        metrics: Metrics | None = None,
        external_id: str | None = None,
        is_html: bool = False,
        discovered_at: datetime | None = None,
    ) -> RawItem:
        """A RawItem from this source; `origin` names the source and the URL for errors."""
        return RawItem(
            content=content,
            title=title,
            url=url,
            author=author,
            platform=self.platform,
            media_tier=self.media_tier,
            region=self.region,
            published=published,
            discovered_at=discovered_at,
            metrics=metrics if metrics is not None else Metrics(),
            external_id=external_id,
            source_id=self.id,
            origin=self.where(url or external_id or ""),
            is_html=is_html,
        )

    def adopt(self, raw: RawItem) -> RawItem:
        """A record read from this source's data (an API entry, an export row): it keeps the
        platform, tier and region it states, inherits the source's where it states none."""
        return dataclasses.replace(
            raw,
            platform=self.platform if raw.platform is Platform.OTHER else raw.platform,
            media_tier=self.media_tier if raw.media_tier is MediaTier.OTHER else raw.media_tier,
            region=raw.region or self.region,
            source_id=self.id,
            origin=self.where(raw.origin),
        )

    def where(self, detail: str = "") -> str:
        """How errors name a place in this source: 源「名称」 and the URL or entry."""
        return f"源「{self.name}」{' ' + detail if detail else ''}"

    def error(self, detail: str, reason: str) -> ItemError:
        """One entry of this source that could not be read; the rest of the run goes on."""
        return ItemError(where=self.where(detail), error=reason)


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched response, body already read (never more than the size cap).

    `status` 304 means not modified since the validators given: `body` is empty and
    `not_modified` is true. `encoding` is the charset the body decodes with (from the
    Content-Type header, the document's own declaration, or detection; GBK pages are common).
    """

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    encoding: str
    elapsed: float

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        """The body decoded with `encoding`; undecodable bytes become U+FFFD."""
        return self.body.decode(self.encoding, errors="replace")


class Fetch(Protocol):
    """What a kind fetches through: `yuqing.sources.fetch.Fetcher`, polite and bounded.

    Raises `FetchError` (a `SourceError`) with the reason in words when the URL cannot be
    fetched after the retries; robots.txt refusals, private addresses, oversize bodies,
    redirect loops and 4xx/5xx statuses are all FetchErrors.
    """

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        robots: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> Page: ...


@dataclass(slots=True)
class CollectContext:
    """One run of one source.

    `state` is the kind's memory between runs (validators per URL, a cursor, the newest
    entry seen) and is saved after a successful run; a kind reads and updates it in place.
    `max_items` bounds one run, so a first run of a large archive stays bounded.
    """

    source: SourceInfo
    fetch: Fetch
    now: datetime
    state: dict[str, Any] = field(default_factory=dict)
    max_items: int = 500
    robots: bool = True
    _seen_set: set[str] | None = field(default=None, init=False, repr=False)

    async def get(
        self, url: str, *, conditional: bool = False, headers: Mapping[str, str] | None = None
    ) -> Page:
        """Fetch `url` politely; `conditional` sends the validators the last run kept for it
        (ETag, Last-Modified) and keeps the new ones, so an unchanged feed answers 304."""
        validators: dict[str, dict[str, str]] = self.state.setdefault("validators", {})
        known = validators.get(url, {}) if conditional else {}
        page = await self.fetch.get(
            url,
            etag=known.get("etag"),
            last_modified=known.get("last_modified"),
            robots=self.robots,
            headers=headers,
        )
        if conditional and not page.not_modified:
            fresh = {"etag": page.etag, "last_modified": page.last_modified}
            validators[url] = {k: v for k, v in fresh.items() if v}
        return page

    def is_new(self, key: str) -> bool:
        """Whether an entry (an article URL, an API id) was not collected by an earlier run."""
        return key not in self._seen()

    def remember(self, key: str) -> None:
        """Note an entry as collected; the newest `SEEN_LIMIT` are kept between runs."""
        seen: list[str] = self.state.setdefault("seen", [])
        lookup = self._seen()
        if key not in lookup:
            seen.append(key)
            lookup.add(key)
            if len(seen) > SEEN_LIMIT:
                for old in seen[:-SEEN_LIMIT]:
                    lookup.discard(old)
                del seen[:-SEEN_LIMIT]

    def _seen(self) -> set[str]:
        """A set over `state["seen"]` (a list, to keep its order in JSON), built once."""
        if self._seen_set is None:
            self._seen_set = set(self.state.get("seen", ()))
        return self._seen_set


@dataclass(slots=True)
class Collected:
    """What one run produced: records for the pipeline and how the fetching went."""

    records: list[RawItem | ItemError] = field(default_factory=list)
    pages: int = 0  # responses fetched (including 304s)
    not_modified: int = 0
    problems: list[str] = field(default_factory=list)  # per-page errors in words; the run went on

    def extend(self, other: Collected) -> None:
        self.records.extend(other.records)
        self.pages += other.pages
        self.not_modified += other.not_modified
        self.problems.extend(other.problems)


class SourceKind(Protocol):
    """A source kind: `kind` is its registry name, `label` its Chinese name for the UI."""

    kind: ClassVar[str]
    label: ClassVar[str]
    Config: ClassVar[type[KindConfig]]

    async def collect(self, ctx: CollectContext) -> Collected: ...


class Revisitable(Protocol):
    """A kind that can fetch items again by URL, for fresh views, reposts, comments, likes."""

    async def revisit(self, ctx: CollectContext, urls: Sequence[str]) -> Collected: ...
