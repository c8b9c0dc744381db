"""Managing channels and rules: checked before stored, audited, secrets kept back, and users
limited to their own units."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from alert_world import World, build_world
from sqlalchemy import select

from yuqing.accounts.actor import SYSTEM, Actor
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
from yuqing.alerts.rules import QuietHours, parse_hhmm
from yuqing.errors import AccessError, InputError
from yuqing.standard import load_standard
from yuqing.store import audit
from yuqing.store.db import Database
from yuqing.store.tables import AlertChannel, AlertRule

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
STANDARD = load_standard()
WECOM = {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"}
DINGTALK = {"url": "https://oapi.dingtalk.com/robot/send?access_token=t0k", "secret": "SECkeep"}


def _actor(world: World, unit_id: int) -> Actor:
    subtree = {
        world.province: {world.province, world.county, world.city, world.district},
        world.city: {world.city, world.district},
        world.county: {world.county},
    }[unit_id]
    return Actor(7, "wang", "王五", "admin", unit_id, frozenset(subtree))


def test_channels_are_checked_audited_and_their_secrets_kept_back(db: Database) -> None:
    with db.session() as session:
        row = add_channel(session, SYSTEM, ChannelInput("钉钉群", "dingtalk", dict(DINGTALK)), NOW)
        with pytest.raises(InputError, match="已有名为「钉钉群」的预警通道"):
            add_channel(session, SYSTEM, ChannelInput("钉钉群", "wecom", dict(WECOM)), NOW)
        with pytest.raises(InputError, match="通道类型 'pager' 不存在"):
            add_channel(session, SYSTEM, ChannelInput("寻呼", "pager", {}), NOW)
        shown = describe_channel(session, row)
        assert shown["config"]["secret"] == "******"
        # Shown masked and given back: the stored secret stays; a new URL replaces the old.
        edit_channel(
            session,
            SYSTEM,
            "钉钉群",
            {
                "config": {
                    **shown["config"],
                    "url": "https://oapi.dingtalk.com/robot/send?access_token=new",
                }
            },
            NOW,
        )
        assert row.config == {
            "url": "https://oapi.dingtalk.com/robot/send?access_token=new",
            "secret": "SECkeep",
        }
        with pytest.raises(InputError, match="url：地址必须是以 http"):
            edit_channel(session, SYSTEM, row.id, {"config": {"url": "file:///etc/passwd"}}, NOW)
        edit_channel(session, SYSTEM, row.id, {"config": {"secret": None}, "enabled": False}, NOW)
        assert row.config == {"url": "https://oapi.dingtalk.com/robot/send?access_token=new"}
        assert row.enabled is False
        entries = audit.recent(session)
        assert [e.action for e in entries] == [
            "alerts.channel.edit",
            "alerts.channel.edit",
            "alerts.channel.add",
        ]
        # The audit log keeps no secret either.
        assert all("SECkeep" not in str(e.detail) and "t0k" not in str(e.detail) for e in entries)
        assert audit.verify(session).ok


def test_removing_a_channel_takes_it_out_of_rules(db: Database) -> None:
    build_world(db)
    with db.session() as session:
        add_channel(session, SYSTEM, ChannelInput("甲", "wecom", dict(WECOM)), NOW)
        add_channel(session, SYSTEM, ChannelInput("乙", "dingtalk", dict(DINGTALK)), NOW)
        rule = add_rule(session, STANDARD, SYSTEM, RuleInput("规则", channels=["甲", "乙"]), NOW)
        removed = remove_channel(session, SYSTEM, "甲", NOW)
        assert (removed["rules"], removed["deliveries"]) == (["规则"], 0)
        assert describe_rule(session, STANDARD, rule)["channel_names"] == ["乙"]
        assert session.scalars(select(AlertChannel.name)).all() == ["乙"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"channels": []}, "规则至少要有一个预警通道"),
        ({"channels": ["不存在的群"]}, "没有名为或编号为 '不存在的群' 的预警通道"),
        ({"grades": ["positive"]}, "等级「正面」不是负面等级"),
        ({"grades": ["severe"]}, "severe"),
        ({"categories": ["9x"]}, "分类 '9x' 不是分类代码"),
        ({"platforms": ["myspace"]}, "myspace"),
        ({"subjects": ["没有这个主题"]}, "监测主题 '没有这个主题' 不存在"),
        ({"unit": "NOPE"}, "单位 'NOPE' 不存在"),
        ({"quiet_start": "22:00"}, "免打扰时段要同时给出开始和结束时间"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "时间 '25:00' 无效"),
        ({"quiet_start": "07:00", "quiet_end": "7:00"}, "开始和结束不能相同"),
        ({"name": " "}, "规则名称不能为空"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(
    db: Database, changes: dict[str, object], words: str
) -> None:
    build_world(db)
    with db.session() as session:
        add_channel(session, SYSTEM, ChannelInput("群", "wecom", dict(WECOM)), NOW)
        data = RuleInput("规则", channels=["群"])
        for key, value in changes.items():
            setattr(data, key, value)
        with pytest.raises(InputError, match=words):
            add_rule(session, STANDARD, SYSTEM, data, NOW)


def test_rules_are_edited_whole_and_removed_with_audit(db: Database) -> None:
    world = build_world(db)
    with db.session() as session:
        add_channel(session, SYSTEM, ChannelInput("群", "wecom", dict(WECOM)), NOW)
        rule = add_rule(
            session,
            STANDARD,
            SYSTEM,
            RuleInput("陆良", channels=["群"], unit="LL", subjects=["陆良支行"], categories=["3"]),
            NOW,
        )
        assert (rule.unit_id, rule.subject_ids, rule.grades) == (world.county, [world.luliang], [])
        edit_rule(
            session,
            STANDARD,
            SYSTEM,
            "陆良",
            {"grades": ["harmful"], "quiet_start": "22:00", "quiet_end": "6:30"},
            NOW,
        )
        assert (rule.grades, rule.quiet_start, rule.quiet_end) == (["harmful"], "22:00", "06:30")
        assert rule.subject_ids == [world.luliang]  # untouched fields stay
        with pytest.raises(InputError, match="不能修改的字段：channel_ids"):
            edit_rule(session, STANDARD, SYSTEM, "陆良", {"channel_ids": [1]}, NOW)
        remove_rule(session, SYSTEM, "陆良", NOW)
        assert session.scalars(select(AlertRule)).all() == []
        assert [e.action for e in audit.recent(session)][:3] == [
            "alerts.rule.remove",
            "alerts.rule.edit",
            "alerts.rule.add",
        ]


def test_users_manage_only_rules_and_channels_of_their_units(db: Database) -> None:
    world = build_world(db)
    city_admin = _actor(world, world.city)
    top_admin = _actor(world, world.province)
    with db.session() as session:
        add_channel(
            session, city_admin, ChannelInput("曲靖群", "wecom", dict(WECOM), unit="QL"), NOW
        )
        with pytest.raises(AccessError, match="不限单位"):
            add_channel(session, city_admin, ChannelInput("全省群", "wecom", dict(WECOM)), NOW)
        with pytest.raises(AccessError, match="之外的单位"):
            add_rule(
                session,
                STANDARD,
                city_admin,
                RuleInput("陆良", channels=["曲靖群"], unit="LL"),
                NOW,
            )
        add_rule(
            session, STANDARD, city_admin, RuleInput("麒麟", channels=["曲靖群"], unit="QL"), NOW
        )
        with pytest.raises(AccessError):
            edit_rule(session, STANDARD, city_admin, "麒麟", {"unit": None}, NOW)
        add_channel(session, top_admin, ChannelInput("全省群", "wecom", dict(WECOM)), NOW)
        county_admin = _actor(world, world.county)
        with pytest.raises(AccessError):
            remove_channel(session, county_admin, "全省群", NOW)
        assert audit.recent(session)[0].actor == "王五（wang）"


def test_quiet_hours_cross_midnight_and_end_at_the_next_local_end() -> None:
    night = QuietHours(parse_hhmm("22:00"), parse_hhmm("07:00"))
    assert (
        night.contains(time(23, 59)) and night.contains(time(0, 0)) and night.contains(time(6, 59))
    )
    assert not night.contains(time(7, 0)) and not night.contains(time(21, 59))
    # 23:30 Shanghai → 07:00 Shanghai next day = 23:00 UTC the same day.
    assert night.defer_until(
        datetime(2026, 11, 21, 15, 30, tzinfo=UTC), "Asia/Shanghai"
    ) == datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    # 01:00 Shanghai → 07:00 the same local day.
    assert night.defer_until(
        datetime(2026, 11, 21, 17, 0, tzinfo=UTC), "Asia/Shanghai"
    ) == datetime(2026, 11, 21, 23, 0, tzinfo=UTC)
    assert night.defer_until(datetime(2026, 11, 21, 4, 0, tzinfo=UTC), "Asia/Shanghai") is None
    lunch = QuietHours(parse_hhmm("12:00"), parse_hhmm("13:30"))
    assert lunch.contains(time(12, 0)) and not lunch.contains(time(13, 30))
    with pytest.raises(ValueError, match="应为 24 小时制"):
        parse_hhmm("7点")
