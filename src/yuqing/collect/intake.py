"""Items that arrive by themselves: pushes from external crawlers and manual sightings.

Both go through the app's one pipeline (`Collector.ingest`) and answer per item, in input
order: imported, duplicate (with the stored item's id) or error (with the reason in words).
One bad object never loses the rest. Each call is recorded as a run of its source, so the
source's health shows pushes and manual entries like scheduled runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuqing.collect.manage import SourceInput, add_source
from yuqing.collect.runner import Collector, source_info
from yuqing.domain import Platform, RawItem
from yuqing.errors import InputError, StorageError
from yuqing.ingest.fields import PLATFORM_NAMES, record_to_raw
from yuqing.sources.registry import PASSIVE_KINDS, kind_label
from yuqing.standard import Standard
from yuqing.store import attachments as attachment_store
from yuqing.store import sources as source_store
from yuqing.store.tables import Source as SourceRow

MAX_PUSH_ITEMS = 1000
"""Objects one push may carry; more is refused whole, so the sender splits them."""

_TYPE_NAMES = {str: "字符串", int: "数字", float: "数字", bool: "布尔值", list: "数组"}


@dataclass(slots=True)
class ItemResult:
    """What became of one pushed object; `id` is the id the sender gave, if any."""

    index: int
    id: str | None
    status: str  # imported | duplicate | error
    item_id: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(slots=True)
class IntakeReport:
    """Per-object results in input order, and their counts (the `/api/ingest` answer)."""

    results: list[ItemResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "results": [r.as_dict() for r in self.results],
            "imported": self.count("imported"),
            "duplicates": self.count("duplicate"),
            "errors": self.count("error"),
        }


def passive_source(session: Session, source: SourceRow | int | str) -> SourceRow:
    """The push or manual source by row, id or name; InputError when it is another kind."""
    row = source if isinstance(source, SourceRow) else source_store.find_source(session, source)
    if row.kind not in PASSIVE_KINDS:
        raise InputError(
            "source",
            f"源「{row.name}」是{kind_label(row.kind)}类型，"
            f"只有{'或'.join(PASSIVE_KINDS.values())}类型的源能直接接收条目",
        )
    return row


async def ingest_records(
    collector: Collector,
    source: SourceRow | int | str,
    objects: Sequence[object],
    *,
    trigger: str = "push",
) -> IntakeReport:
    """Validate each object, run the valid ones through the pipeline, answer per object.

    `collector` carries the database and settings and serializes pipeline runs across the
    app. Raises InputError for a source that is not push or manual, StorageError when the
    database refuses the batch (the run is recorded as failed).
    """
    db, settings = collector.db, collector.settings
    with db.session() as session:
        row = passive_source(session, source if isinstance(source, int | str) else source.id)
        info, source_id = source_info(row), row.id
    started = datetime.now(UTC)
    results: list[ItemResult] = []
    raws: list[RawItem] = []
    for index, obj in enumerate(objects):
        result = ItemResult(index, _given_id(obj), "error")
        results.append(result)
        if not isinstance(obj, Mapping):
            kind = _TYPE_NAMES.get(type(obj), "空值" if obj is None else type(obj).__name__)
            result.error = f"第 {index + 1} 条应为 JSON 对象，实际为{kind}"
            continue
        try:
            raw = record_to_raw(
                obj, f"第 {index + 1} 条", max_field_chars=settings.max_content_chars
            )
        except InputError as exc:
            result.error = exc.reason
            continue
        raws.append(info.adopt(raw))
    valid = _valid(results, raws)
    origins = {raw.origin: index for index, raw in valid}
    try:
        report = await collector.ingest(raws, outcomes=True)
    except StorageError as exc:
        _record(collector, source_id, trigger, started, results, error=str(exc))
        raise
    for problem in report.errors:
        position = origins.get(problem.where)
        if position is not None:
            results[position].error = problem.error
    for index, raw in valid:
        result = results[index]
        if result.error is not None:
            continue
        outcome = report.outcomes.get(raw.origin)
        if outcome is None:  # every stored record has one; say so rather than guess
            result.error = "条目已处理，但未得到入库结果：请按链接或标题检索确认"
            continue
        result.status, result.item_id = outcome
    _record(collector, source_id, trigger, started, results, error=None)
    return IntakeReport(results)


def _given_id(obj: object) -> str | None:
    """The sender's own id of an object, as text, for matching results to what was sent."""
    if not isinstance(obj, Mapping):
        return None
    for name in ("id", "external_id"):
        value = obj.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return str(value)[:200]
    return None


def _valid(results: list[ItemResult], raws: list[RawItem]) -> list[tuple[int, RawItem]]:
    """(index, raw) of the objects that became records, in order."""
    indexes = [r.index for r in results if r.error is None]
    return list(zip(indexes, raws, strict=True))


def _record(
    collector: Collector,
    source_id: int,
    trigger: str,
    started: datetime,
    results: list[ItemResult],
    *,
    error: str | None,
) -> None:
    """One run row on the source, so its health shows what was pushed or entered."""
    errors = [r for r in results if r.status == "error"]
    with collector.db.session() as session:
        row = session.get(SourceRow, source_id)
        if row is None:  # removed meanwhile
            return
        source_store.record_run(
            session,
            row,
            source_store.RunRecord(
                trigger=trigger,
                started_at=started,
                finished_at=datetime.now(UTC),
                ok=error is None,
                error=error,
                records=len(results) - len(errors),
                imported=sum(r.status == "imported" for r in results),
                duplicates=sum(r.status == "duplicate" for r in results),
                rejected=len(errors),
                problems=[f"第 {r.index + 1} 条：{r.error}" for r in errors],
            ),
            state=None,
            next_run_at=None,
            failure_limit=collector.settings.collect_failure_limit,
        )


MAX_SCREENSHOTS = 10
"""Screenshots one sighting may carry (each at most `MAX_IMAGE_BYTES`)."""


@dataclass(frozen=True, slots=True)
class Screenshot:
    """An uploaded file as received: the name it came with and its bytes."""

    filename: str
    data: bytes


@dataclass(slots=True)
class Sighting:
    """An offline sighting (print, broadcast, a QQ/WeChat group) as a monitor enters it."""

    title: str
    content: str
    platform: str = ""  # a code or Chinese name; empty: the source's platform
    url: str | None = None
    published: str | None = None
    by: str | None = None  # who saw it
    source: str | None = None  # a manual source's name or id; none: one per platform
    screenshots: list[Screenshot] = field(default_factory=list)


@dataclass(slots=True)
class SightingResult:
    """Where a sighting went: its source, the item (new or seen before), the files kept."""

    source_id: int
    source: str
    status: str  # imported | duplicate
    item_id: int
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


async def add_sighting(
    collector: Collector, standard: Standard, sighting: Sighting
) -> SightingResult:
    """Enter a sighting: check it and its screenshots whole, run it through the pipeline
    (analysed and graded), then keep the screenshots with the item it became.

    Without a source it goes to the manual source of its platform ("人工录入·报刊"), made
    on first use. A sighting seen before gets its new screenshots on the existing item.
    """
    title, content = sighting.title.strip(), sighting.content.strip()
    if not title:
        raise InputError("title", "标题不能为空：请填写所见信息的标题或摘要")
    if not content:
        raise InputError("content", "内容不能为空：请填写所见信息的正文或摘录")
    if len(sighting.screenshots) > MAX_SCREENSHOTS:
        raise InputError(
            "screenshots", f"截图最多 {MAX_SCREENSHOTS} 张，本次 {len(sighting.screenshots)} 张"
        )
    types = [attachment_store.check_image(s.filename, s.data) for s in sighting.screenshots]
    by = (sighting.by or "").strip()[:100] or None
    with collector.db.session() as session:
        row = _manual_source(session, standard, sighting)
        source_id, source_name, platform = row.id, row.name, row.platform
    if sighting.platform.strip():
        platform = _platform_code(sighting.platform)
    record = {
        "title": title,
        "content": content,
        "url": (sighting.url or "").strip() or None,
        "published_at": (sighting.published or "").strip() or None,
        "platform": platform,
    }
    report = await ingest_records(collector, source_id, [record], trigger="manual")
    [result] = report.results
    if result.item_id is None:
        raise InputError("", f"录入失败：{result.error}")
    now = datetime.now(UTC)
    data_dir = collector.settings.data_dir
    with collector.db.session() as session:
        rows = [
            attachment_store.add_attachment(
                session,
                result.item_id,
                attachment_store.store_file(data_dir, shot.data),
                filename=attachment_store.safe_filename(shot.filename, number, media_type),
                media_type=media_type,
                added_by=by,
                now=now,
            )
            for number, (shot, media_type) in enumerate(
                zip(sighting.screenshots, types, strict=True), 1
            )
        ]
        attachments = [attachment_store.attachment_summary(a) for a in rows]
    return SightingResult(source_id, source_name, result.status, result.item_id, attachments)


def _platform_code(value: str) -> str:
    found = PLATFORM_NAMES.get(value.strip()) or PLATFORM_NAMES.get(value.strip().lower())
    if found is None:
        choices = "、".join(p.value for p in Platform)
        raise InputError(
            "platform", f"平台「{value[:40]}」无效，可选：{choices}（或中文名称，如 报刊、广播）"
        )
    return found.value


def _manual_source(session: Session, standard: Standard, sighting: Sighting) -> SourceRow:
    """The named manual source, or the platform's own ("人工录入·报刊"), made on first use."""
    ref = (sighting.source or "").strip()
    if not ref:
        platform = _platform_code(sighting.platform or "other")
        ref = f"人工录入·{standard.platform_name(platform)}"
        if session.scalars(select(SourceRow.id).where(SourceRow.name == ref)).first() is None:
            source = SourceInput(name=ref, kind="manual", platform=platform)
            row, _token = add_source(session, standard, source, datetime.now(UTC))
            return row
    row = source_store.find_source(session, ref)
    if row.kind != "manual":
        raise InputError(
            "source",
            f"源「{row.name}」是{kind_label(row.kind)}类型，人工录入只能记入人工录入类型的源",
        )
    if not row.enabled:
        raise InputError("source", f"源「{row.name}」已停用：请先在源管理中启用，或选择其他源")
    return row
