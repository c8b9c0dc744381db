"""JSON APIs: platform APIs and complaint-platform (12345) exports, mapped field by field.

    {"url": "https://api.example.cn/v1/posts", "params": {"q": "农商行"},
     "items": "data.list",
     "fields": {"id": "id", "content": "text", "url": "link", "views": "stats.read"},
     "paging": {"type": "page", "param": "page", "start": 1, "max_pages": 5}}

`items` and every field are JMESPath expressions, compiled when the config is validated so a
typo is a config error rather than a failed run. Values go through `record_to_raw`, which
accepts counts like "1.2万" and dates as written; a bad entry becomes one ItemError and the run
goes on. The first page failing fails the run; a later page failing ends paging with a problem
noted, keeping what the earlier pages gave.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import Field, field_validator, model_validator

from yuqing.domain import RawItem
from yuqing.errors import InputError, SourceError
from yuqing.ingest.fields import record_to_raw
from yuqing.pipeline.base import ItemError
from yuqing.sources.base import CollectContext, Collected, HttpUrlText, KindConfig, Page

OUTPUT_FIELDS = frozenset(
    {"id", "title", "content", "url", "author", "published_at", "region", "platform"}
    | {"media_tier", "views", "reposts", "comments", "likes"}
)
MAX_FIELD_CHARS = 200_000
"""Longest content accepted per entry (the default of `Settings.max_content_chars`)."""

_JSON_TYPES = {dict: "对象", list: "数组", str: "字符串", int: "数字", float: "数字"}
_JSON_TYPES[bool] = "布尔值"
# Messages of the json module → words for users; the first match wins.
_JSON_REASONS = (
    ("',' delimiter", "缺少逗号"),
    ("':' delimiter", "缺少冒号"),
    ("property name", "键名应为双引号字符串"),
    ("Extra data", "JSON 结束后还有多余内容"),
    ("Invalid control character", "字符串中有未转义的控制字符"),
    ("Expecting value", "缺少值或值无效"),
)


def compile_expression(expression: str, what: str) -> ParsedResult:
    """Compile a JMESPath expression or raise ValueError naming `what` and the position."""
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        position = getattr(exc, "lex_position", None)
        at = f"第 {position + 1} 个字符附近" if isinstance(position, int) else "表达式为空或不完整"
        hint = '；中文等非 ASCII 键名须加双引号，如 "标题"' if not expression.isascii() else ""
        raise ValueError(
            f"{what} 的 JMESPath 表达式 {expression!r} 有语法错误（{at}）{hint}"
        ) from None


class PagePaging(KindConfig):
    """Numbered pages: `param` = start, start + 1, … until an empty page or `max_pages`."""

    type: Literal["page"]
    param: str = "page"
    start: int = 1
    max_pages: int = Field(default=5, ge=1, le=1000)


class CursorPaging(KindConfig):
    """Cursor pages: `next` (JMESPath on the response) gives the cursor for the next request."""

    type: Literal["cursor"]
    param: str = "cursor"
    next: str
    max_pages: int = Field(default=5, ge=1, le=1000)

    @field_validator("next")
    @classmethod
    def _compiles(cls, value: str) -> str:
        compile_expression(value, "paging.next")
        return value


class JsonApiConfig(KindConfig):
    """Where the API is, how to find its entries and how each entry maps to an item."""

    url: HttpUrlText
    params: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    items: str
    fields: dict[str, str]
    paging: PagePaging | CursorPaging | None = Field(default=None, discriminator="type")
    url_template: str | None = None

    @field_validator("items")
    @classmethod
    def _items_compiles(cls, value: str) -> str:
        compile_expression(value, "items")
        return value

    @field_validator("fields")
    @classmethod
    def _fields_valid(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - OUTPUT_FIELDS)
        if unknown:
            allowed = ", ".join(sorted(OUTPUT_FIELDS))
            raise ValueError(f"fields 中有未知字段 {', '.join(unknown)}，可用字段：{allowed}")
        if "content" not in value:
            raise ValueError("fields 必须映射 content（正文）字段")
        for name, expression in value.items():
            compile_expression(expression, f"fields.{name}")
        return value

    @model_validator(mode="after")
    def _template_names_fields(self) -> JsonApiConfig:
        if self.url_template is None:
            return self
        try:
            names = {n for _, n, _, _ in string.Formatter().parse(self.url_template) if n}
        except ValueError as exc:
            raise ValueError(f"url_template {self.url_template!r} 格式错误：{exc}") from None
        unmapped = sorted(names - set(self.fields))
        if unmapped:
            raise ValueError(
                f"url_template 用到的 {', '.join('{' + n + '}' for n in unmapped)} "
                "不在 fields 中，请先在 fields 里映射它"
            )
        return self


class JsonApiSource:
    """Entries of a JSON API, page by page; each is mapped by `fields` and read as a record."""

    kind: ClassVar[str] = "json"
    label: ClassVar[str] = "JSON 接口"
    Config: ClassVar[type[JsonApiConfig]] = JsonApiConfig

    def __init__(self, config: JsonApiConfig) -> None:
        self.config = config
        self._items = jmespath.compile(config.items)
        self._fields = {name: jmespath.compile(e) for name, e in config.fields.items()}
        paging = config.paging
        self._next = jmespath.compile(paging.next) if isinstance(paging, CursorPaging) else None

    async def collect(self, ctx: CollectContext) -> Collected:
        """New entries (not seen by earlier runs), at most `ctx.max_items` of them."""
        collected = Collected()
        count = 0
        conditional = self.config.paging is None  # only a single document has one validator
        entries = self._entries(ctx, collected, conditional=conditional)
        async with aclosing(entries):
            async for url, number, entry in entries:
                record = self._record(ctx, url, number, entry)
                if not isinstance(record, RawItem):
                    collected.records.append(record)
                    continue
                key = record.external_id or record.url or _content_key(record.content)
                if not ctx.is_new(key):
                    continue
                ctx.remember(key)
                collected.records.append(record)
                count += 1
                if count >= ctx.max_items:
                    if conditional:  # entries past the limit are still to come: fetch again
                        ctx.state.get("validators", {}).pop(self._url({}), None)
                    break
        return collected

    async def revisit(self, ctx: CollectContext, urls: Sequence[str]) -> Collected:
        """Walk the listing again and keep the entries whose url is in `urls`: fresh metrics."""
        collected = Collected()
        wanted = set(urls)
        entries = self._entries(ctx, collected, conditional=False)
        async with aclosing(entries):
            async for url, number, entry in entries:
                record = self._record(ctx, url, number, entry)
                if isinstance(record, RawItem) and record.url in wanted:
                    wanted.discard(record.url)
                    collected.records.append(record)
                    if not wanted:
                        break
        return collected

    async def _entries(
        self, ctx: CollectContext, collected: Collected, *, conditional: bool
    ) -> AsyncGenerator[tuple[str, int, object], None]:
        """(page URL, 1-based position on the page, entry) for every entry of every page."""
        paging = self.config.paging
        max_pages = 1 if paging is None else paging.max_pages
        cursor: str | None = None
        cursors: set[str] = set()
        for index in range(max_pages):
            extra: dict[str, str] = {}
            if isinstance(paging, PagePaging):
                extra[paging.param] = str(paging.start + index)
            elif isinstance(paging, CursorPaging) and cursor is not None:
                extra[paging.param] = cursor
            url = self._url(extra)
            try:
                page = await self._get(ctx, url, conditional=conditional)
                collected.pages += 1
                if page.not_modified:
                    collected.not_modified += 1
                    return
                data = self._decode(ctx, page)
                entries = self._list(ctx, url, data, first=index == 0)
            except SourceError as exc:
                if index == 0:
                    raise
                collected.problems.append(f"{exc}；已停止翻页，保留前 {index} 页的结果")
                return
            if not entries:
                return
            for number, entry in enumerate(entries, 1):
                yield page.final_url, number, entry
            if isinstance(paging, CursorPaging):
                cursor = self._cursor(ctx, url, data, cursors, collected)
                if cursor is None:
                    return
                cursors.add(cursor)

    async def _get(self, ctx: CollectContext, url: str, *, conditional: bool) -> Page:
        return await ctx.get(url, conditional=conditional, headers=self.config.headers)

    def _url(self, extra: dict[str, str]) -> str:
        """The configured URL with its own query, then `params`, then the paging parameter."""
        parts = urlsplit(self.config.url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        query |= self.config.params | extra
        return urlunsplit(parts._replace(query=urlencode(query)))

    def _decode(self, ctx: CollectContext, page: Page) -> Any:
        text = page.text().removeprefix("\ufeff")  # a BOM is not JSON but common enough
        where = ctx.source.where(page.url)
        if not text.strip():
            raise SourceError(f"{where}：响应为空，不是 JSON")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if text.lstrip().startswith("<"):
                reason = "响应是 HTML 而不是 JSON（接口地址有误，或需要登录/密钥）"
            elif not text[exc.pos :].strip():
                reason = "内容在此处结束，不完整（响应可能被截断）"
            else:
                reason = next((zh for en, zh in _JSON_REASONS if en in exc.msg), "语法错误")
            raise SourceError(
                f"{where}：响应不是有效的 JSON：{reason}（第 {exc.lineno} 行第 {exc.colno} 列；"
                f"{exc.msg}）"
            ) from None
        except RecursionError:
            raise SourceError(f"{where}：响应的 JSON 嵌套过深，无法读取") from None

    def _list(self, ctx: CollectContext, url: str, data: Any, *, first: bool) -> list[object]:
        expression = self.config.items
        try:
            found = self._items.search(data)
        except JMESPathError as exc:
            raise SourceError(
                ctx.source.where(f"{url}：items 表达式 {expression!r} 无法求值：{exc}")
            ) from None
        if found is None and not first:
            return []  # many APIs answer `"data": null` past the last page
        if not isinstance(found, list):
            raise SourceError(
                ctx.source.where(
                    f"{url}：items 表达式 {expression!r} 应得到数组，实际得到"
                    f"{_describe(found)}；请检查 items 配置"
                )
            )
        return found

    def _cursor(
        self, ctx: CollectContext, url: str, data: Any, seen: set[str], collected: Collected
    ) -> str | None:
        """The next cursor, or None at the end (missing, empty or repeated: a loop guard)."""
        assert self._next is not None
        try:
            value = self._next.search(data)
        except JMESPathError:
            value = None
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            return None
        cursor = str(value)
        if cursor in seen:
            collected.problems.append(
                ctx.source.where(f"{url}：游标 {cursor[:40]!r} 重复出现，已停止翻页以免死循环")
            )
            return None
        return cursor

    def _record(
        self, ctx: CollectContext, url: str, number: int, entry: object
    ) -> RawItem | ItemError:
        """One entry as an adopted RawItem, or an ItemError naming the page and position."""
        detail = f"{url} 第 {number} 条"
        if not isinstance(entry, dict):
            return ctx.source.error(detail, f"条目应为 JSON 对象，实际为{_describe(entry)}")
        record: dict[str, object] = {}
        try:
            for name, expression in self._fields.items():
                record[name] = expression.search(entry)
        except JMESPathError as exc:
            return ctx.source.error(detail, f"字段 {name} 的表达式无法求值：{exc}")
        if isinstance(record.get("id"), str | int) and record["id"] != "":
            detail += f"（id {str(record['id'])[:40]}）"
        try:
            raw = record_to_raw(record, detail, max_field_chars=MAX_FIELD_CHARS)
        except InputError as exc:
            return ctx.source.error(detail, exc.reason)
        if raw.url is not None:
            raw.url = urljoin(url, raw.url)
        elif self.config.url_template is not None:
            raw.url = self._templated(record, url)
        return ctx.source.adopt(raw)

    def _templated(self, record: dict[str, object], url: str) -> str | None:
        """`url_template` filled from the entry's fields (quoted), or None if one is missing."""
        assert self.config.url_template is not None
        values: dict[str, str] = {}
        for name, value in record.items():
            if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                values[name] = quote(str(value), safe="")
        try:
            return urljoin(url, self.config.url_template.format_map(values))
        except (KeyError, IndexError, ValueError):
            return None


def _content_key(content: str) -> str:
    """The key of an entry with neither id nor url: its content."""
    return "sha256:" + hashlib.sha256(content.encode("utf-8")).hexdigest()


def _describe(value: object) -> str:
    if value is None:
        return " null（路径不存在或值为空）"
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    shown = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"{kind} {shown[:60]}{'…' if len(shown) > 60 else ''}"
