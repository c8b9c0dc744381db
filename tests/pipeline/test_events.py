"""Event formation and recount on a real database (SQLite and PostgreSQL): the pipeline stores
items, then the events stage and its functions work on what it stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from yuqing.domain import MediaTier, Metrics, Platform, RawItem, SubjectSpec
from yuqing.pipeline.base import Batch, Stage
from yuqing.pipeline.events import Events, KeyTerms, assign_events, load_idf, name_parts
from yuqing.pipeline.match import Match, SubjectMatcher
from yuqing.pipeline.normalize import Normalize
from yuqing.pipeline.run import STAGE_ORDER, Pipeline
from yuqing.pipeline.store import Store
from yuqing.settings import Settings
from yuqing.store.db import Database
from yuqing.store.events import refresh_events
from yuqing.store.subjects import upsert_subject
from yuqing.store.tables import Event, Item

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
RUN = (
    "听说云岭农商银行陆良支行行长被带走了，银行要倒闭，储户连夜排队取钱，"
    "陆良县城营业部门口排起长队，挤兑传言在微信群里疯传。记者当天下午赶到现场，看到营业部内外"
    "有数十人排队等候，工作人员正在逐一解释，并发放矿泉水和宣传单，现场有民警维持秩序。"
)
RUN_FOLLOW = (
    "陆良支行门口排队取钱的储户越来越多，云岭农商银行称行长被带走系谣言，"
    "倒闭传言不实，营业部延长营业时间。"
)
PRODUCT = (
    "云岭农商银行推出助农贷款新产品，面向蔬菜种植户，利率优惠，额度最高三十万元，"
    "覆盖全市乡镇网点，农户可通过手机银行申请。"
)
WEATHER = "今日陆良县天气晴，气温十五度，适合出行，县城集市人流如常。"


class _Session:
    """The session holder a stage reads its session from."""

    def __init__(self, session: Session) -> None:
        self.session = session


def _subjects(db: Database) -> list[SubjectSpec]:
    with db.session() as session:
        bank, _ = upsert_subject(
            session,
            name="云岭农商银行",
            unit_id=None,
            kind="organization",
            aliases=["云岭农商行"],
            exclude=[],
            rule=None,
        )
        branch, _ = upsert_subject(
            session,
            name="云岭农商银行陆良支行",
            unit_id=None,
            kind="organization",
            aliases=["陆良支行"],
            exclude=[],
            rule=None,
        )
        return [
            SubjectSpec(id=bank.id, name=bank.name, aliases=("云岭农商行",)),
            SubjectSpec(id=branch.id, name=branch.name, aliases=("陆良支行",)),
        ]


def _raw(
    content: str,
    url: str,
    hours: float,
    *,
    title: str = "",
    platform: Platform = Platform.NEWS,
    metrics: Metrics | None = None,
) -> RawItem:
    published = NOW - timedelta(days=3) + timedelta(hours=hours)
    return RawItem(
        content=content,
        title=title,
        url=url,
        platform=platform,
        media_tier=MediaTier.LOCAL,
        published=published,
        discovered_at=published + timedelta(minutes=10),
        metrics=metrics or Metrics(),
    )


def _stages(holder: _Session, subjects: list[SubjectSpec], settings: Settings) -> list[Stage]:
    """normalize → match → store → events, without dedupe (the test decides what repeats)."""
    return [
        Normalize(ZoneInfo(settings.timezone), settings.max_content_chars, now=lambda: NOW),
        Match(SubjectMatcher(subjects)),
        Store(holder),
        Events(holder, settings),
    ]


def _store(db: Database, settings: Settings, records: Sequence[RawItem]) -> dict[str, int]:
    """Run the pipeline (normalize → … → store) and return url → stored item id."""
    # Every stage but events: the tests form events themselves to see what each call does.
    stages = [name for name in STAGE_ORDER if name != "events"]
    Pipeline(db, settings, _subjects(db), now=lambda: NOW, stages=stages).run(list(records))
    with db.session() as session:
        return {url: i for i, url in session.execute(select(Item.id, Item.url)) if url}


def _assign(db: Database, settings: Settings, ids: Sequence[int]) -> set[int]:
    with db.session() as session:
        touched = assign_events(session, ids, settings)
        refresh_events(session, touched)
        return touched


def _event_of(db: Database, item_id: int) -> int | None:
    with db.session() as session:
        return session.scalar(select(Item.event_id).where(Item.id == item_id))


def test_story_members_and_related_reports_join_one_event(db: Database, settings: Settings) -> None:
    ids = _store(
        db,
        settings,
        [
            _raw(RUN, "https://a.example/1", 0, title="陆良支行挤兑传言"),
            # A repost that dropped the bank's name: it matches no subject, only the story.
            _raw(
                RUN.replace("云岭农商银行陆良支行", ""),
                "https://b.example/2",
                1,
                platform=Platform.WEIBO,
            ),
            _raw(RUN_FOLLOW, "https://c.example/3", 5, title="陆良支行排队取钱"),
            _raw(PRODUCT, "https://d.example/4", 6, title="助农贷款新产品"),
            _raw(WEATHER, "https://e.example/5", 7),
        ],
    )
    with db.session() as session:
        repost = session.get(Item, ids["https://b.example/2"])
        assert repost is not None and repost.subjects == [] and repost.story_id is not None
    touched = _assign(db, settings, sorted(ids.values()))
    run = _event_of(db, ids["https://a.example/1"])
    assert run is not None
    assert _event_of(db, ids["https://b.example/2"]) == run  # the repost: same story
    assert _event_of(db, ids["https://c.example/3"]) == run  # shared subject and key terms
    product = _event_of(db, ids["https://d.example/4"])
    assert product is not None and product != run  # another matter of the same subject
    assert _event_of(db, ids["https://e.example/5"]) is None  # no subject: no event
    assert touched == {run, product}
    with db.session() as session:
        event = session.get(Event, run)
        assert event is not None
        assert event.origin_item_id == ids["https://a.example/1"]
        assert event.item_count == 3
        assert event.site_count == 3
        assert event.platform_count == 2
        assert event.title == "陆良支行挤兑传言"
        assert "挤兑" in event.key_terms or "倒闭" in event.key_terms
        assert not {"云岭农商银行", "云岭", "农商"} & set(event.key_terms)
        assert event.subject_id is not None


def test_outside_the_window_starts_a_new_event(db: Database, settings: Settings) -> None:
    ids = _store(
        db,
        settings,
        [
            _raw(RUN, "https://a.example/1", 0, title="陆良支行挤兑传言"),
            _raw(RUN_FOLLOW, "https://c.example/3", settings.event_window_hours + 30),
        ],
    )
    _assign(db, settings, sorted(ids.values()))
    first = _event_of(db, ids["https://a.example/1"])
    later = _event_of(db, ids["https://c.example/3"])
    assert first is not None and later is not None and first != later


def test_items_of_later_batches_join_and_assignment_is_idempotent(
    db: Database, settings: Settings
) -> None:
    ids = _store(
        db,
        settings,
        [
            _raw(RUN, "https://a.example/1", 0, title="陆良支行挤兑传言"),
            _raw(RUN_FOLLOW, "https://c.example/3", 30, title="陆良支行排队取钱"),
        ],
    )
    first, second = ids["https://a.example/1"], ids["https://c.example/3"]
    _assign(db, settings, [first])
    event = _event_of(db, first)
    assert _assign(db, settings, [second]) == {event}
    assert _event_of(db, second) == event
    assert _assign(db, settings, [first, second]) == set()  # already placed: left alone
    with db.session() as session:
        assert session.scalar(select(Event.item_count).where(Event.id == event)) == 2


def test_a_shared_crisis_term_is_enough(db: Database, settings: Settings) -> None:
    ids = _store(
        db,
        settings,
        [
            _raw(RUN, "https://a.example/1", 0, title="陆良支行挤兑传言"),
            _raw("陆良支行今日发生挤兑，现场秩序良好。", "https://f.example/6", 2),
        ],
    )
    strict = settings.model_copy(update={"event_min_shared_terms": 50})
    with db.session() as session:
        for item_id in ids.values():
            session.execute(
                update(Item).where(Item.id == item_id).values(signals={"crisis": ["挤兑"]})
            )
    _assign(db, strict, sorted(ids.values()))
    assert _event_of(db, ids["https://a.example/1"]) == _event_of(db, ids["https://f.example/6"])


def test_refresh_takes_the_highest_effective_grade_and_sums_metrics(
    db: Database, settings: Settings
) -> None:
    ids = _store(
        db,
        settings,
        [
            _raw(RUN, "https://a.example/1", 0, title="陆良支行挤兑传言", metrics=Metrics(100)),
            _raw("转发：" + RUN, "https://b.example/2", 1, metrics=Metrics(50, 7, 3, 1)),
        ],
    )
    a, b = ids["https://a.example/1"], ids["https://b.example/2"]
    with db.session() as session:
        session.execute(update(Item).where(Item.id == a).values(grade="attention", category="300"))
        session.execute(update(Item).where(Item.id == b).values(grade="general", category="800"))
    (event_id,) = _assign(db, settings, [a, b])
    with db.session() as session:
        event = session.get(Event, event_id)
        assert event is not None
        assert (event.grade, event.category) == ("attention", "300")
        assert (event.views, event.reposts, event.comments, event.likes) == (150, 7, 3, 1)
        # A monitor's override counts over the machine grade.
        session.execute(
            update(Item).where(Item.id == b).values(human_grade="dangerous", human_category="301")
        )
        refresh_events(session, [event_id])
        session.refresh(event)
        assert (event.grade, event.category) == ("dangerous", "301")
        assert event.first_seen_at < event.last_seen_at


def test_stage_sets_event_ids_and_refreshes_on_new_metrics(
    db: Database, settings: Settings
) -> None:
    subjects = _subjects(db)
    first = [_raw(RUN, "https://a.example/1", 0, title="陆良支行挤兑传言", metrics=Metrics(10))]
    with db.session() as session:
        holder = _Session(session)
        batch = Batch(raw=first)
        for stage in _stages(holder, subjects, settings):
            batch = stage.process(batch)
    (item,) = batch.items
    assert item.id is not None and item.event_id is not None
    assert item.event_id == _event_of(db, item.id)
    # The same item seen again with more views: dedupe marks it a duplicate of the stored row.
    again = [_raw(RUN, "https://a.example/1", 0, metrics=Metrics(990))]
    with db.session() as session:
        holder = _Session(session)
        batch = Batch(raw=again)
        stages = _stages(holder, subjects, settings)
        batch = stages[0].process(batch)
        batch.items[0].duplicate_of = item.id
        for stage in stages[1:]:
            batch = stage.process(batch)
    assert batch.items[0].event_id is None  # not a new item: it was not placed again
    with db.session() as session:
        assert session.scalar(select(Event.views).where(Event.id == item.event_id)) == 990
        assert session.scalar(select(Event.item_count).where(Event.id == item.event_id)) == 1


def test_key_terms_drop_function_words_and_subject_names() -> None:
    keys = KeyTerms(load_idf(), 8)
    stop = name_parts([("云岭农商银行陆良支行",), ("云岭农商银行宣威支行",)])
    assert {"云岭", "农商", "支行"} <= stop and "陆良" not in stop
    terms = keys.of(
        "我们已经知道云岭农商银行陆良支行发生挤兑，储户排队取钱，但是因为谣言。",
        ["云岭农商银行陆良支行"],
        ["挤兑"],
        stop,
    )
    assert terms[0] == "挤兑"  # an alarm term comes first
    assert "谣言" in terms and "储户" in terms
    assert not {"我们", "已经", "知道", "但是", "因为", "云岭", "银行"} & set(terms)


@pytest.mark.parametrize("hours", [0, 200])
def test_no_subject_items_form_no_event(db: Database, settings: Settings, hours: int) -> None:
    ids = _store(db, settings, [_raw(WEATHER, "https://e.example/5", hours)])
    assert _assign(db, settings, list(ids.values())) == set()
    with db.session() as session:
        assert session.scalar(select(Event.id).limit(1)) is None
