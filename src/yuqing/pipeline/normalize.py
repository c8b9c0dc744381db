"""The normalize stage: raw records become items with clean text, canonical URL and UTC times.

Every later stage (dedupe, match, grade, store) relies on what this stage guarantees: content
is non-empty plain text within the configured length, `match_*` fields are the folded forms
of `domain.text`, times are aware UTC, and a bad record is an `ItemError`, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import blake2b
from zoneinfo import ZoneInfo

from yuqing.domain import Item, Metrics, RawItem
from yuqing.domain.text import to_match_text
from yuqing.pipeline.base import Batch, ItemError
from yuqing.pipeline.dates import parse_published
from yuqing.pipeline.html import html_to_text, looks_like_html
from yuqing.pipeline.urls import canonicalize_url, url_host

MAX_TITLE_CHARS = 1000
MAX_AUTHOR_CHARS = 200
SHOWN_VALUE_CHARS = 80

# Zero-width characters and control characters other than \t and \n (C0, DEL, C1).
_INVISIBLE = re.compile("[\u200b-\u200d\ufeff\u2060\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Line breaks other than \n, including the Unicode line and paragraph separators.
_OTHER_NEWLINE = re.compile("\r\n?|[\u2028\u2029]")
# Horizontal whitespace: space, tab, VT, FF, NBSP, the Unicode spaces, ideographic space.
_SPACE_RUN = re.compile("[ \t\x0b\x0c\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_SPACE_AROUND_NEWLINE = re.compile(" ?\n ?")
_BLANK_LINES = re.compile("\n{3,}")
_LINE_SUFFIX = re.compile(r":(\d+)$")
_METRIC_LABELS = {"views": "阅读数", "reposts": "转发数", "comments": "评论数", "likes": "点赞数"}


def _utc_now() -> datetime:
    """The default clock; tests pass a fixed one."""
    return datetime.now(UTC)


class Normalize:
    """Turn `batch.raw` into `batch.items`; each rejected record becomes one `ItemError`.

    Why a stage of its own: all later stages may then assume clean, bounded, comparable
    fields instead of each re-checking the input.
    """

    name = "normalize"

    def __init__(
        self,
        tz: ZoneInfo,
        max_content_chars: int,
        now: Callable[[], datetime] = _utc_now,
        *,
        canonical_urls: bool = True,
    ) -> None:
        self.tz = tz
        self.max_content_chars = max_content_chars
        self.now = now
        # Canonical URLs and hosts serve dedupe and the store; `yuqing analyze`, which stores
        # nothing and never reads a URL, turns them off.
        self.canonical_urls = canonical_urls

    def process(self, batch: Batch) -> Batch:
        """Normalize every raw record of the batch; never raises for one bad record."""
        now = self.now().astimezone(UTC)  # one clock reading: a batch is discovered together
        for raw in batch.raw:
            try:
                batch.items.append(self._item(raw, now))
            except ValueError as exc:
                batch.errors.append(ItemError(raw.origin, str(exc), _line_of(raw.origin)))
            except TypeError as exc:
                # Records from loosely typed sources may carry a wrong type (a number as
                # content, a string as a count); one such record must not stop the batch.
                message = f"记录的字段类型错误：{exc}"
                batch.errors.append(ItemError(raw.origin, message, _line_of(raw.origin)))
        return batch

    def _item(self, raw: RawItem, now: datetime) -> Item:
        """One record to one item; raises ValueError with a message naming field and value."""
        content = self._text(raw.content, raw.is_html)
        if not content:
            raise ValueError("内容为空")
        if len(content) > self.max_content_chars:
            raise ValueError(f"内容过长：{len(content)} 个字符，上限 {self.max_content_chars}")
        title = _one_line(self._text(raw.title, raw.is_html))
        if len(title) > MAX_TITLE_CHARS:
            raise ValueError(
                f"标题过长：{len(title)} 个字符，上限 {MAX_TITLE_CHARS}：{_shown(title)}"
            )
        author = _one_line(normalize_whitespace(raw.author)) if raw.author else None
        if author and len(author) > MAX_AUTHOR_CHARS:
            raise ValueError(
                f"作者过长：{len(author)} 个字符，上限 {MAX_AUTHOR_CHARS}：{_shown(author)}"
            )
        _check_metrics(raw.metrics)
        url = raw.url.strip() if raw.url else None
        canonical = host = None
        if url and self.canonical_urls:
            canonical = canonicalize_url(url)  # its errors name the URL: "不支持的链接协议 …"
            host = url_host(canonical)
        discovered = self._aware(raw.discovered_at) if raw.discovered_at else now
        published = parse_published(raw.published, discovered, self.tz)
        match_title = to_match_text(title)
        match_content = to_match_text(content)
        return Item(
            raw=raw,
            title=title,
            content=content,
            url=url or None,
            canonical_url=canonical,
            host=host,
            author=author or None,
            platform=raw.platform,
            media_tier=raw.media_tier,
            region=(raw.region.strip() or None) if raw.region else None,
            published_at=published,
            discovered_at=discovered,
            metrics=raw.metrics,
            match_title=match_title,
            match_content=match_content,
            content_hash=content_hash(match_title, match_content),
        )

    def _text(self, value: str, is_html: bool) -> str:
        """Plain text of a field; the HTML parser runs only when there is markup to parse."""
        if is_html or looks_like_html(value):
            value = html_to_text(value)
        return normalize_whitespace(value)

    def _aware(self, moment: datetime) -> datetime:
        """A datetime in UTC; a naive one is read as local time in the configured zone."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        return moment.astimezone(UTC)


def normalize_whitespace(text: str) -> str:
    """Remove invisible characters, one space per run, no blank-line runs, no edge blanks.

    Why: copies of one post differ in zero-width characters, NBSPs, CRLF and indentation;
    after this they read and compare alike. Vertical tab and form feed count as spaces.
    """
    if _is_tidy(text):
        return text.strip()
    if "\r" in text or "\u2028" in text or "\u2029" in text:
        text = _OTHER_NEWLINE.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _SPACE_RUN.sub(" ", text)
    if "\n" in text:
        text = _SPACE_AROUND_NEWLINE.sub("\n", text)
        if "\n\n\n" in text:
            text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _is_tidy(text: str) -> bool:
    """Whether only the ends could change; most posts are, and this is 3× cheaper than a regex.

    `str.isprintable` is False for every control, format (zero-width) and non-ASCII space
    character, exactly the ones the slow path removes or folds (plus a few it keeps as is).
    """
    if "\n" in text:
        if " \n" in text or "\n " in text or "\n\n\n" in text:
            return False
        text = text.replace("\n", "")
    return "  " not in text and text.isprintable()


def content_hash(match_title: str, match_content: str) -> str:
    """128-bit BLAKE2b hex of title and content with all whitespace removed.

    Why: exact repeats (reposts, re-crawls) must hash equal even when one copy was re-wrapped
    or re-indented. Whitespace is removed per part so the \\x1f separator (itself counted as
    whitespace by Python) survives and ("ab", "c") never collides with ("a", "bc").
    """
    title = "".join(match_title.split())
    content = "".join(match_content.split())
    digest = blake2b(f"{title}\x1f{content}".encode(), digest_size=16)
    return digest.hexdigest()


def _check_metrics(metrics: Metrics) -> None:
    """Spread counters are counts: a negative one is a source bug, not a fact to store."""
    for key, value in metrics.as_dict().items():
        if value is not None and value < 0:
            raise ValueError(f"{_METRIC_LABELS[key]}不能为负数：{value}")


def _one_line(text: str) -> str:
    """Normalized text on one line, for titles and names that a list shows in a row."""
    return " ".join(line for line in text.split("\n") if line) if "\n" in text else text


def _line_of(origin: str) -> int | None:
    """The line number in an origin such as "feed.jsonl:17", for the error report."""
    match = _LINE_SUFFIX.search(origin)
    return int(match.group(1)) if match else None


def _shown(value: str) -> str:
    """The value as it appears in a message, cut so one bad record cannot flood the log."""
    if len(value) > SHOWN_VALUE_CHARS:
        value = value[:SHOWN_VALUE_CHARS] + "…"
    return repr(value)
