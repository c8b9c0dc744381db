"""Opening cases and applying workflow actions: the one function that moves a case.

`act()` checks the transition table (state, action, role, own or upper unit), validates
and applies the action's fields, enforces the measures the grade allows, stamps actor and
time, writes the timeline row and the audit row, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.cases.fields import FIELD_LABELS, coerce
from yuqing.cases.workflow import Action, Workflow, load_workflow
from yuqing.errors import AccessError, InputError, WorkflowError
from yuqing.settings import Settings
from yuqing.standard import Standard
from yuqing.store import audit
from yuqing.store import cases as case_store
from yuqing.store.attachments import check_upload, store_file
from yuqing.store.browse import get_item
from yuqing.store.tables import Case, CaseAction, CaseFile, Event, Item, Source, Unit


class CaseService:
    """Cases of one office: its standard, workflow and settings."""

    def __init__(self, standard: Standard, settings: Settings) -> None:
        self.standard = standard
        self.settings = settings
        self.workflow: Workflow = load_workflow(settings.standard_dir)
        self.tz = ZoneInfo(settings.timezone)

    # Opening ------------------------------------------------------------------------------

    def open(
        self,
        session: Session,
        actor: Actor,
        now: datetime,
        *,
        item_id: int | None = None,
        event_id: int | None = None,
    ) -> Case:
        """A draft report form for an item or an event (one event, one case)."""
        if not actor.can("cases.create"):
            raise AccessError("当前角色无权新建报告处理单")
        if actor.unit_id is None:
            raise WorkflowError("系统账号不属于任何单位，不能新建报告处理单；请以用户身份操作")
        item = self._item(session, actor, item_id) if item_id is not None else None
        if event_id is None and item is not None:
            event_id = item.event_id
        event = session.get(Event, event_id) if event_id is not None else None
        if event_id is not None and event is None:
            raise InputError("event_id", f"事件 {event_id} 不存在")
        if event is not None:
            if not actor.sees_unit(event.unit_id):
                raise InputError("event_id", f"事件 {event.id} 不存在")
            existing = case_store.case_for_event(session, event.id)
            if existing is not None:
                raise WorkflowError(
                    f"该事件已有报告处理单 {existing.number}（一事一报）：请在该单上续报"
                )
            if item is None and event.origin_item_id is not None:
                item = session.get(Item, event.origin_item_id)
        if item is None and event is None:
            raise InputError("item_id", "请给出信息编号或事件编号")
        unit = session.get(Unit, actor.unit_id)
        assert unit is not None
        local = now.astimezone(self.tz)
        grade = (item.human_grade or item.grade) if item is not None else None
        grade = grade or (event.grade if event is not None else None) or "general"
        case = Case(
            number=f"pending-{uuid.uuid4().hex}",
            unit_id=unit.id,
            year=local.year,
            seq=case_store.next_seq(session, unit.id, local.year),
            state="draft",
            item_id=item.id if item is not None else None,
            event_id=event.id if event is not None else None,
            grade=grade,
            category=(item.human_category or item.category) if item is not None else None,
            illegal_or_false=False,
            topic=_topic(item, event),
            source_name=_source_name(session, item),
            captured_by=actor.display_name,
            captured_at=item.discovered_at if item is not None else now,
            copies=1,
            url=item.url if item is not None else None,
            discovered_at=_discovered(item, event, now),
            measures=[],
            created_by=actor.label,
            created_at=now,
            updated_at=now,
        )
        if case.category is None and event is not None:
            case.category = event.category
        session.add(case)
        session.flush()
        case.number = self.settings.case_number_format.format(
            prefix=self.settings.case_number_prefix, unit=unit.code, year=case.year, seq=case.seq
        )
        self._timeline(session, case, actor, "create", None, "draft", None, {}, now)
        audit.record(
            session,
            actor=actor.label,
            action="case.create",
            target_type="case",
            target_id=case.id,
            detail={"number": case.number, "item_id": case.item_id, "event_id": case.event_id},
            at=now,
        )
        return case

    def _item(self, session: Session, actor: Actor, item_id: int) -> Item:
        units = None if actor.is_system else actor.unit_ids
        item = get_item(session, item_id, units)
        if item is None:
            raise InputError("item_id", f"信息 {item_id} 不存在")
        return item

    # Acting -------------------------------------------------------------------------------

    def allowed_actions(self, session: Session, actor: Actor, case: Case) -> list[Action]:
        own, upper = self._position(session, actor, case)
        return self.workflow.allowed(case.state, actor.role, own_unit=own, upper=upper)

    def act(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        action_code: str,
        inputs: Mapping[str, Any],
        now: datetime,
    ) -> Case:
        """Apply one action to a visible case, or refuse it with a WorkflowError in words."""
        action = self.workflow.action(action_code)
        own, upper = self._position(session, actor, case)
        self.workflow.check(case.state, action, actor.role, own_unit=own, upper=upper)
        unexpected = sorted(set(inputs) - set(action.fields) - {"note"})
        if unexpected:
            raise InputError(
                action.code, f"「{action.name}」不能填写这些字段：{'、'.join(unexpected)}"
            )
        values = {
            name: coerce(name, inputs[name], self) for name in action.fields if name in inputs
        }
        note = coerce("note", inputs.get("note"), self) if "note" in inputs else None
        before = {name: getattr(case, name) for name in values}
        for name, value in values.items():
            setattr(case, name, value)
        missing = [
            name
            for name in action.requires
            if (note if name == "note" else getattr(case, name)) in (None, "", [])
        ]
        if missing:
            labels = "、".join(FIELD_LABELS.get(m, m) for m in missing)
            raise InputError(action.code, f"「{action.name}」须填写：{labels}")
        removed = self._enforce_measures(case, explicit="measures" in values)
        previous = case.state
        case.state = self.workflow.target(action, case.state)
        self._stamp(session, case, action, actor, now, note)
        case.updated_at = now
        changed = {k: _brief(v) for k, v in values.items() if before.get(k) != v}
        detail: dict[str, Any] = {"changed": changed}
        if removed:
            detail["removed_measures"] = removed
        if action.code == "escalate":
            detail["escalated_to"] = case.escalated_to_id
        self._timeline(session, case, actor, action.code, previous, case.state, note, detail, now)
        audit.record(
            session,
            actor=actor.label,
            action=f"case.{action.code}",
            target_type="case",
            target_id=case.id,
            detail={"number": case.number, "from": previous, "to": case.state, **detail},
            at=now,
        )
        return case

    def add_file(
        self,
        session: Session,
        actor: Actor,
        case: Case,
        filename: str,
        data: bytes,
        now: datetime,
    ) -> CaseFile:
        """Attach a file (evidence, the signed paper form) through the `attach` action."""
        media_type = check_upload(filename, data)
        stored = store_file(self.settings.data_dir, data)
        self.act(session, actor, case, "attach", {}, now)
        row = CaseFile(
            case_id=case.id,
            sha256=stored.sha256,
            filename=filename[:255],
            media_type=media_type,
            size=len(data),
            added_by=actor.label,
            created_at=now,
        )
        session.add(row)
        session.flush()
        last = case.actions[-1]
        last.detail = {**last.detail, "file": row.filename, "sha256": row.sha256}
        return row

    # Helpers ------------------------------------------------------------------------------

    def _position(self, session: Session, actor: Actor, case: Case) -> tuple[bool, bool]:
        """(the actor's own unit's case, the actor's unit received it as an upper unit)."""
        own = actor.unit_id == case.unit_id
        upper = (
            not own
            and actor.unit_id is not None
            and case.escalated_to_id is not None
            and case.unit_id in actor.unit_ids
            and case.escalated_to_id in case_store.unit_path(session, actor.unit_id)
        )
        return own, upper

    def _enforce_measures(self, case: Case, *, explicit: bool) -> list[str]:
        """Measures the grade (and illegal/false content) allows; others refused or dropped.

        Chosen now: a measure the grade does not allow is refused. Chosen before, under another
        grade: it is dropped, and the timeline says so.
        """
        allowed = {m.code for m in self.standard.measures_for(case.grade, case.illegal_or_false)}
        bad = [code for code in case.measures if code not in allowed]
        if bad and explicit:
            names = "、".join(self.standard.measure(code).name for code in bad)
            grade = self.standard.grade_name(case.grade)
            needs_flag = not case.illegal_or_false and any(
                self.standard.measure(code).requires == "illegal_or_false"
                and case.grade in self.standard.measure(code).allowed_grades
                for code in bad
            )
            hint = "（须先在报告处理单上注明内容违法或虚假）" if needs_flag else ""
            raise WorkflowError(f"「{grade}」等级不能采取以下措施：{names}{hint}")
        if bad:
            case.measures = [code for code in case.measures if code in allowed]
        return bad

    def _stamp(
        self,
        session: Session,
        case: Case,
        action: Action,
        actor: Actor,
        now: datetime,
        note: str | None,
    ) -> None:
        for stamp in action.stamps:
            if stamp == "reported":
                case.reported_at = case.reported_at or now
            elif stamp == "instruction":
                case.instruction_by = actor.label
                case.instruction_at = now
            elif stamp == "phone_reported":
                case.phone_reported_at = case.phone_reported_at or now
                case.phone_reported_by = case.phone_reported_by or actor.label
            elif stamp == "escalated":
                path = case_store.unit_path(session, case.unit_id)
                current = path.index(case.escalated_to_id) if case.escalated_to_id in path else 0
                if current + 1 >= len(path):
                    raise WorkflowError("已上报到最上级单位，无法再向上报送")
                case.escalated_to_id = path[current + 1]
                case.escalated_at = now
            elif stamp == "closed":
                case.closed_at = now
            elif stamp == "withdrawn":
                case.withdraw_reason = note

    def _timeline(
        self,
        session: Session,
        case: Case,
        actor: Actor,
        action: str,
        from_state: str | None,
        to_state: str,
        note: str | None,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        case.actions.append(
            CaseAction(
                at=now,
                actor=actor.label,
                actor_unit_id=actor.unit_id,
                role=actor.role,
                action=action,
                from_state=from_state,
                to_state=to_state,
                note=note,
                detail=detail,
            )
        )
        session.flush()


def _topic(item: Item | None, event: Event | None) -> str:
    if event is not None and event.title:
        return event.title[:500]
    if item is not None:
        return (item.title or item.content[:60]).strip()[:500] or "（无标题）"
    return "（无标题）"


def _source_name(session: Session, item: Item | None) -> str | None:
    if item is None:
        return None
    source = session.get(Source, item.source_id) if item.source_id is not None else None
    name = source.name if source is not None else None
    return (name or item.host or item.platform)[:200]


def _discovered(item: Item | None, event: Event | None, now: datetime) -> datetime:
    times = [
        t
        for t in (item.discovered_at if item else None, event.first_seen_at if event else None)
        if t
    ]
    return min(times) if times else now


def _brief(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    if isinstance(value, datetime):
        return value.isoformat()
    return value
