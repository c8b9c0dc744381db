"""/api/alerts: channels and rules (list, add, show, edit, remove), a test message through a
channel, and the delivery log.

Reading needs "alerts.read"; every change and the test message need "alerts.manage" and are
audited. A user sees the channels and rules of its unit subtree and those of no unit; any
other answers 404 as if it did not exist. Secrets (passwords, signing secrets, robot keys)
are never answered; give the masked value back on edit to keep the stored one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.alerts.log import MAX_LOG, delivery_log, send_test
from yuqing.alerts.manage import (
    ChannelInput,
    RuleInput,
    add_channel,
    add_rule,
    describe_channel,
    describe_rule,
    edit_channel,
    edit_rule,
    remove_channel,
    remove_rule,
)
from yuqing.store import alerts as store
from yuqing.store.db import Database
from yuqing.store.tables import AlertChannel, AlertRule
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep, SettingsDep, StandardDep, get_db

Reader = Annotated[Actor, Require("alerts.read")]
Manager = Annotated[Actor, Require("alerts.manage")]
DatabaseDep = Annotated[Database, Depends(get_db)]

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class ChannelBody(BaseModel):
    """A new channel; `config` is checked by its kind (see the README for each kind's keys)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, description="通道名称，如「值班群」")
    kind: str = Field(description="email、wecom、dingtalk、feishu、webhook 或 sms")
    config: dict[str, Any] = Field(default_factory=dict, description="该类型的配置项")
    unit: str | int | None = Field(None, description="所属单位代码或编号")
    enabled: bool = Field(True, description="是否启用")


class ChannelPatch(BaseModel):
    """Fields to change; `config` is merged key by key (null removes a key, a masked value
    keeps the stored secret)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=100)
    config: dict[str, Any] | None = None
    unit: str | int | None = None
    enabled: bool | None = None


class RuleBody(BaseModel):
    """A new rule: which items alert, and through which channels. Empty lists mean any."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=100, description="规则名称")
    channels: list[str | int] = Field(description="通道名称或编号，至少一个")
    unit: str | int | None = Field(None, description="单位代码或编号；不填为全部单位")
    include_subtree: bool = Field(True, description="是否包含下级单位")
    grades: list[str] = Field(default_factory=list, description="attention、harmful、dangerous")
    categories: list[str] = Field(default_factory=list, description="分类代码或其开头，如 300")
    subjects: list[str | int] = Field(default_factory=list, description="监测主题名称或编号")
    platforms: list[str] = Field(default_factory=list, description="平台代码，如 weibo")
    quiet_start: str | None = Field(None, description="免打扰开始，如 22:00（本地时间）")
    quiet_end: str | None = Field(None, description="免打扰结束，如 07:00")
    remind_deadlines: bool = Field(True, description="是否发送报告时限提醒")
    enabled: bool = Field(True, description="是否启用")

    def as_input(self) -> RuleInput:
        data = self.model_dump()
        data["channels"] = [str(c) for c in self.channels]
        data["subjects"] = [str(s) for s in self.subjects]
        data["unit"] = None if self.unit is None else str(self.unit)
        return RuleInput(**data)


class RulePatch(BaseModel):
    """Fields of a rule to change; the whole rule is checked again."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=100)
    channels: list[str | int] | None = None
    unit: str | int | None = None
    include_subtree: bool | None = None
    grades: list[str] | None = None
    categories: list[str] | None = None
    subjects: list[str | int] | None = None
    platforms: list[str] | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    remind_deadlines: bool | None = None
    enabled: bool | None = None

    def changes(self) -> dict[str, Any]:
        data = self.model_dump(exclude_unset=True)
        for key in ("channels", "subjects"):
            if data.get(key) is not None:
                data[key] = [str(v) for v in data[key]]
        if data.get("unit") is not None:
            data["unit"] = str(data["unit"])
        return data


def _channel(session: Session, actor: Actor, channel_id: int) -> AlertChannel:
    row = session.get(AlertChannel, channel_id)
    if row is None or not actor.sees_unit(row.unit_id):
        raise HTTPException(404, f"预警通道 {channel_id} 不存在，请刷新通道列表")
    return row


def _rule(session: Session, actor: Actor, rule_id: int) -> AlertRule:
    row = session.get(AlertRule, rule_id)
    if row is None or not actor.sees_unit(row.unit_id):
        raise HTTPException(404, f"预警规则 {rule_id} 不存在，请刷新规则列表")
    return row


@router.get("/channels")
def list_channels(actor: Reader, session: SessionDep) -> dict[str, Any]:
    """Every channel the user may see, with its configuration (secrets masked)."""
    rows = [
        describe_channel(session, row)
        for row in store.list_channels(session)
        if actor.sees_unit(row.unit_id)
    ]
    return {"total": len(rows), "channels": rows}


@router.post("/channels", status_code=201)
def create_channel(body: ChannelBody, actor: Manager, session: SessionDep) -> dict[str, Any]:
    """Add a channel, checked whole first. Audited."""
    data = ChannelInput(
        name=body.name,
        kind=body.kind,
        config=dict(body.config),
        unit=None if body.unit is None else str(body.unit),
        enabled=body.enabled,
    )
    row = add_channel(session, actor, data, datetime.now(UTC))
    return describe_channel(session, row)


@router.get("/channels/{channel_id}")
def get_channel(channel_id: int, actor: Reader, session: SessionDep) -> dict[str, Any]:
    return describe_channel(session, _channel(session, actor, channel_id))


@router.patch("/channels/{channel_id}")
def update_channel(
    channel_id: int, body: ChannelPatch, actor: Manager, session: SessionDep
) -> dict[str, Any]:
    """Change a channel's name, configuration, unit or enabled flag. Audited."""
    _channel(session, actor, channel_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("unit") is not None:
        changes["unit"] = str(changes["unit"])
    row = edit_channel(session, actor, channel_id, changes, datetime.now(UTC))
    return describe_channel(session, row)


@router.delete("/channels/{channel_id}")
def delete_channel(channel_id: int, actor: Manager, session: SessionDep) -> dict[str, Any]:
    """Remove a channel with its delivery log; rules using it lose it. Audited."""
    _channel(session, actor, channel_id)
    return remove_channel(session, actor, channel_id, datetime.now(UTC))


@router.post("/channels/{channel_id}/test")
async def test_channel(
    channel_id: int, actor: Manager, db: DatabaseDep, settings: SettingsDep
) -> dict[str, Any]:
    """Send a test message through the channel now; answers whether it went and, if not,
    why in words (`ok`, `status_code`, `error`, `parts`). Works on a disabled channel too."""
    with db.session() as session:  # closed before sending: no transaction waits on the network
        row = _channel(session, actor, channel_id)
    result = await send_test(row, settings)
    return {"channel": row.name, **result.as_dict()}


@router.get("/rules")
def list_rules(actor: Reader, session: SessionDep, standard: StandardDep) -> dict[str, Any]:
    rows = [
        describe_rule(session, standard, row)
        for row in store.list_rules(session)
        if actor.sees_unit(row.unit_id)
    ]
    return {"total": len(rows), "rules": rows}


@router.post("/rules", status_code=201)
def create_rule(
    body: RuleBody, actor: Manager, session: SessionDep, standard: StandardDep
) -> dict[str, Any]:
    """Add a rule; every filter is checked against the standard and the database. Audited."""
    row = add_rule(session, standard, actor, body.as_input(), datetime.now(UTC))
    return describe_rule(session, standard, row)


@router.get("/rules/{rule_id}")
def get_rule(
    rule_id: int, actor: Reader, session: SessionDep, standard: StandardDep
) -> dict[str, Any]:
    return describe_rule(session, standard, _rule(session, actor, rule_id))


@router.patch("/rules/{rule_id}")
def update_rule(
    rule_id: int, body: RulePatch, actor: Manager, session: SessionDep, standard: StandardDep
) -> dict[str, Any]:
    """Change fields of a rule. Audited."""
    _rule(session, actor, rule_id)
    row = edit_rule(session, standard, actor, rule_id, body.changes(), datetime.now(UTC))
    return describe_rule(session, standard, row)


@router.delete("/rules/{rule_id}")
def delete_rule(rule_id: int, actor: Manager, session: SessionDep) -> dict[str, Any]:
    """Remove a rule with the alerts it raised and their delivery log. Audited."""
    _rule(session, actor, rule_id)
    return remove_rule(session, actor, rule_id, datetime.now(UTC))


@router.get("/deliveries")
def list_deliveries(
    actor: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG)] = 50,
    status: Annotated[
        str | None, Query(description="pending、deferred、sending、sent、failed")
    ] = None,
    alert_id: int | None = None,
) -> dict[str, Any]:
    """The delivery log, newest first: each delivery's status and every attempt (time, ok,
    status code, error in words, parts, seconds). Rules of units the user does not see are
    left out."""
    units = None if actor.is_system else actor.unit_ids
    rows = delivery_log(session, limit=limit, status=status, alert_id=alert_id, unit_ids=units)
    return {"total": len(rows), "deliveries": rows}
