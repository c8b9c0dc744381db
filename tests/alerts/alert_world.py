"""A small organization for the alert tests, and items fed through the real pipeline.

Units: 云岭省联社 (province) → 陆良县联社 (county) and 曲靖市 (city) → 麒麟区 (county).
Subjects: 云岭农商银行 (province), 陆良支行 (county), 麒麟支行 (麒麟区).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from yuqing.accounts.actor import SYSTEM
from yuqing.alerts.manage import ChannelInput, RuleInput, add_channel, add_rule
from yuqing.domain import MediaTier, Metrics, Platform, RawItem
from yuqing.ingest.importer import make_pipeline
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database
from yuqing.store.subjects import upsert_subject
from yuqing.store.tables import Item
from yuqing.store.units import upsert_unit

COMPLAINT = "云岭农商银行柜员态度冷淡，办卡流程繁琐，不太满意。"
RUN = "听说云岭农商银行要倒闭了，储户连夜排队取钱，挤兑传言在微信群里疯传，大家快去取钱。"
LULIANG = "陆良支行柜员态度冷淡，办卡流程繁琐，排队一个小时，不太满意。"
QILIN = "麒麟支行柜员态度冷淡，办卡流程繁琐，排队两个小时，非常不满意。"
WEATHER = "今日陆良县天气晴，气温十五度，适合出行。"
BRANCH_RUN = (
    "听说云岭农商银行陆良支行行长被带走了，银行要倒闭，储户连夜排队取钱，"
    "陆良县城营业部门口排起长队，挤兑传言在微信群里疯传。记者当天下午赶到现场，看到营业部内外"
    "有数十人排队等候，工作人员正在逐一解释，并发放矿泉水和宣传单，现场有民警维持秩序。"
)
BRANCH_RUN_FOLLOW = (
    "陆良支行门口排队取钱的储户越来越多，云岭农商银行称行长被带走系谣言，"
    "倒闭传言不实，营业部延长营业时间。"
)


@dataclass(frozen=True)
class World:
    province: int
    county: int
    city: int
    district: int
    bank: int
    luliang: int
    qilin: int


def build_world(db: Database) -> World:
    with db.session() as session:
        province = upsert_unit(session, code="YN", name="云岭省联社", level="province", parent=None)
        county = upsert_unit(session, code="LL", name="陆良县联社", level="county", parent=province)
        city = upsert_unit(session, code="QJ", name="曲靖市", level="city", parent=province)
        district = upsert_unit(session, code="QL", name="麒麟区", level="county", parent=city)
        bank, _ = upsert_subject(
            session,
            name="云岭农商银行",
            unit_id=province.id,
            kind="organization",
            aliases=["云岭农商行"],
            exclude=[],
            rule=None,
        )
        luliang, _ = upsert_subject(
            session,
            name="陆良支行",
            unit_id=county.id,
            kind="organization",
            aliases=[],
            exclude=[],
            rule=None,
        )
        qilin, _ = upsert_subject(
            session,
            name="麒麟支行",
            unit_id=district.id,
            kind="organization",
            aliases=[],
            exclude=[],
            rule=None,
        )
        return World(province.id, county.id, city.id, district.id, bank.id, luliang.id, qilin.id)


def raw(
    content: str,
    url: str,
    *,
    title: str = "",
    views: int | None = None,
    platform: Platform = Platform.FORUM,
    tier: MediaTier = MediaTier.LOCAL,
) -> RawItem:
    return RawItem(
        content=content,
        title=title,
        url=url,
        platform=platform,
        media_tier=tier,
        published=datetime.now(UTC),
        metrics=Metrics(views=views),
    )


def feed(db: Database, settings: Settings, *records: RawItem) -> dict[str, Item]:
    """Run records through the whole pipeline; the stored items by URL."""
    report = make_pipeline(db, settings).run(list(records))
    assert not report.errors, report.errors
    with db.session() as session:
        urls = [r.url for r in records]
        return {i.url or "": i for i in session.scalars(select(Item).where(Item.url.in_(urls)))}


def channel(db: Database, name: str, kind: str, config: dict[str, Any], **extra: Any) -> int:
    with db.session() as session:
        row = add_channel(
            session,
            SYSTEM,
            ChannelInput(name=name, kind=kind, config=config, **extra),
            datetime.now(UTC),
        )
        return row.id


def rule(db: Database, settings: Settings, name: str, channels: list[str], **extra: Any) -> int:
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    with db.session() as session:
        row = add_rule(
            session,
            standard,
            SYSTEM,
            RuleInput(name=name, channels=channels, **extra),
            datetime.now(UTC),
        )
        return row.id
