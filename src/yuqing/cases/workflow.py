"""The case workflow as data: states, results and the transition table of case_workflow.yaml.

`Workflow.check(case_state, action, role, upper)` is the one place that decides whether an
action may happen; the service applies what it allows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yuqing.accounts.roles import role_name, roles
from yuqing.errors import WorkflowError
from yuqing.standard.loader import _read, _resolve

FILE = "case_workflow.yaml"
SAME = "same"
Field_ = Literal[
    "topic",
    "source_name",
    "captured_by",
    "captured_at",
    "copies",
    "url",
    "illegal_or_false",
    "category",
    "grade",
    "reporting_opinion",
    "instruction",
    "handling_opinion",
    "implementation",
    "measures",
    "result",
    "result_note",
    "note",
]
Stamp = Literal["reported", "instruction", "phone_reported", "escalated", "closed", "withdrawn"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class State(_Model):
    code: str = Field(pattern=r"^[a-z_]+$")
    name: str
    final: bool = False


class Result(_Model):
    code: str = Field(pattern=r"^[a-z_]+$")
    name: str


class Action(_Model):
    code: str = Field(pattern=r"^[a-z_]+$")
    name: str
    from_states: tuple[str, ...] = Field(alias="from", min_length=1)
    to: str
    roles: tuple[str, ...] = Field(min_length=1)
    upper: bool = False
    fields: tuple[Field_, ...] = ()
    requires: tuple[Field_, ...] = ()
    stamps: tuple[Stamp, ...] = ()


class Workflow(_Model):
    states: tuple[State, ...] = Field(min_length=2)
    results: tuple[Result, ...] = Field(min_length=1)
    actions: tuple[Action, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
        states = {s.code for s in self.states}
        known_roles = set(roles())
        seen: set[str] = set()
        for action in self.actions:
            if action.code in seen:
                raise ValueError(f"动作 {action.code} 重复")
            seen.add(action.code)
            unknown = [s for s in (*action.from_states, action.to) if s not in states | {SAME}]
            if unknown:
                raise ValueError(f"动作 {action.code} 用到了未定义的状态：{unknown}")
            bad_roles = [r for r in action.roles if r not in known_roles]
            if bad_roles:
                raise ValueError(f"动作 {action.code} 用到了未定义的角色：{bad_roles}")
            if any(self.state(s).final for s in action.from_states):
                raise ValueError(f"动作 {action.code} 不能从已结束的状态出发")
        if "draft" not in states:
            raise ValueError("须有 draft（草稿）状态：新建的报告处理单从它开始")
        return self

    def state(self, code: str) -> State:
        for state in self.states:
            if state.code == code:
                return state
        raise WorkflowError(f"未知的状态：{code[:40]!r}")

    def state_name(self, code: str) -> str:
        return self.state(code).name

    def result_name(self, code: str | None) -> str:
        for result in self.results:
            if result.code == code:
                return result.name
        return code or ""

    def action(self, code: str) -> Action:
        for action in self.actions:
            if action.code == code:
                return action
        names = "、".join(a.code for a in self.actions)
        raise WorkflowError(f"未知的动作：{code[:40]!r}，可选：{names}")

    def target(self, action: Action, state: str) -> str:
        return state if action.to == SAME else action.to

    def check(self, state: str, action: Action, role: str, *, own_unit: bool, upper: bool) -> None:
        """Refuse, in words, an action the table does not allow here for this role."""
        current = self.state(state)
        if state not in action.from_states:
            allowed = "、".join(self.state_name(s) for s in action.from_states)
            raise WorkflowError(
                f"报告处理单处于「{current.name}」状态，不能「{action.name}」"
                f"（只能在{allowed}状态下进行）"
            )
        if role not in action.roles:
            who = "、".join(role_name(r) for r in action.roles)
            raise WorkflowError(f"「{action.name}」须由{who}进行，当前角色是{role_name(role)}")
        if not own_unit and not (upper and action.upper):
            raise WorkflowError(
                f"「{action.name}」只能由本单位进行"
                + ("，或由已收到上报的上级单位进行" if action.upper else "")
            )

    def allowed(self, state: str, role: str, *, own_unit: bool, upper: bool) -> list[Action]:
        """The actions this role may take now, in table order (for the case page)."""
        out = []
        for action in self.actions:
            try:
                self.check(state, action, role, own_unit=own_unit, upper=upper)
            except WorkflowError:
                continue
            out.append(action)
        return out


@cache
def _load(path: Path) -> Workflow:
    return _read(path, Workflow)


def load_workflow(override_dir: Path | None = None) -> Workflow:
    """The workflow table: the office's edited copy in `override_dir` if there is one."""
    return _load(_resolve(FILE, override_dir))
