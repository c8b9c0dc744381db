"""Deadline reminders for the alert worker: a message when a case's step is about to be due,
and another when it has passed unmet (SPEC 3.8 "deadline reminders")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from yuqing.alerts.dispatcher import ReminderSource
from yuqing.alerts.rules import Reminder
from yuqing.cases.present import final_states, steps_of
from yuqing.cases.service import CaseService
from yuqing.settings import Settings
from yuqing.standard import Standard
from yuqing.store import cases as case_store
from yuqing.store.tables import Case


def _reminder(
    service: CaseService, case: Case, code: str, name: str, due: datetime, overdue: bool
) -> Reminder:
    local = due.astimezone(service.tz).strftime("%Y-%m-%d %H:%M")
    grade = service.standard.grade_name(case.grade)
    state = service.workflow.state_name(case.state)
    if overdue:
        title = f"【已超时】{case.number}「{name}」已超过时限"
    else:
        title = f"【时限提醒】{case.number}「{name}」即将到期"
    link = f"{service.settings.public_url.rstrip('/')}/cases/{case.id}"
    body = "\n".join(
        [
            f"报告处理单：{case.number}（{state}，{grade}）",
            f"舆情主题：{case.topic}",
            f"时限：{name}，应于 {local} 前完成",
            f"查看：{link}",
        ]
    )
    key = f"case:{case.id}:{code}:{'overdue' if overdue else 'soon'}"
    return Reminder(key, case.unit_id, case.id, title, body, due, case.grade)


def deadline_reminders(standard: Standard, settings: Settings) -> ReminderSource:
    """The reminder source the dispatcher polls: open cases with steps due soon or overdue.

    Reminders are keyed per case, step and kind, so each goes out once per alert rule.
    With `deadline_reminder_minutes` at 0 there are none.
    """
    service = CaseService(standard, settings)
    finals = final_states(service.workflow)

    def due(session: Session, now: datetime) -> list[Reminder]:
        if settings.deadline_reminder_minutes <= 0:
            return []
        cases = case_store.open_cases(session, finals)
        steps = steps_of(session, service, cases, now)
        out: list[Reminder] = []
        for case in cases:
            for step in steps[case.id]:
                if step.due_at is None or step.state not in ("due_soon", "overdue"):
                    continue
                overdue = step.state == "overdue"
                out.append(_reminder(service, case, step.code, step.name, step.due_at, overdue))
        return out

    return due
