"""Every source kind by name: the collectors, and the two kinds items reach by themselves.

`push` (external crawlers POST to `/api/ingest` with the source's token) and `manual` (a
monitor enters an offline sighting) have no collector; their rows still give the items they
bring a platform, tier, region and owner unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from yuqing.errors import ConfigError
from yuqing.sources.base import SourceKind
from yuqing.sources.folder import FolderSource
from yuqing.sources.json_api import JsonApiSource
from yuqing.sources.rss import RssSource
from yuqing.sources.sitemap import SitemapSource
from yuqing.sources.web import WebSource
from yuqing.validation import describe_errors

SOURCE_KINDS: dict[str, type[Any]] = {
    "rss": RssSource,
    "web": WebSource,
    "sitemap": SitemapSource,
    "json": JsonApiSource,
    "file": FolderSource,
}
"""Kinds Yuqing collects from on a schedule."""

PASSIVE_KINDS: dict[str, str] = {"push": "接口推送", "manual": "人工录入"}
"""Kinds whose items arrive by themselves: name → Chinese label."""

KIND_NAMES: tuple[str, ...] = (*SOURCE_KINDS, *PASSIVE_KINDS)


def kind_label(kind: str) -> str:
    """The Chinese name of a kind for lists and pages."""
    if kind in SOURCE_KINDS:
        return str(SOURCE_KINDS[kind].label)
    return PASSIVE_KINDS.get(kind, kind)


def check_kind(kind: str) -> None:
    if kind not in KIND_NAMES:
        raise ConfigError(f"未知的源类型 {kind!r}；可选：{'、'.join(KIND_NAMES)}")


def build_collector(kind: str, config: Mapping[str, Any]) -> SourceKind:
    """The collector of a kind from its stored configuration; a bad one is a ConfigError
    naming each wrong field ("url：…")."""
    check_kind(kind)
    cls = SOURCE_KINDS.get(kind)
    if cls is None:
        raise ConfigError(f"{kind_label(kind)}类型的源没有抓取程序：它的信息由外部推送或人工录入")
    try:
        parsed = cls.Config.model_validate(dict(config))
    except ValidationError as exc:
        raise ConfigError(f"源配置错误：{describe_errors(exc)}") from None
    collector: SourceKind = cls(parsed)
    return collector


def check_config(kind: str, config: Mapping[str, Any]) -> None:
    """Refuse a configuration its kind would not accept (passive kinds take none)."""
    if kind in PASSIVE_KINDS:
        check_kind(kind)
        if config:
            raise ConfigError(
                f"{kind_label(kind)}类型的源不需要配置项，却给了：{'、'.join(config)}"
            )
        return
    build_collector(kind, config)
