"""The ingest slice end to end on a real database: normalize → dedupe → match → store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from sqlalchemy import func, select

from yuqing.domain import SubjectSpec
from yuqing.ingest.files import read_records
from yuqing.ingest.importer import as_pipeline_records, import_file
from yuqing.pipeline.run import Pipeline
from yuqing.settings import Settings
from yuqing.store.db import Database
from yuqing.store.grades import history
from yuqing.store.subjects import upsert_subject
from yuqing.store.tables import Item, ItemSubject, MetricSnapshot, Story

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
ARTICLE = (
    "今天上午，云岭农商银行城关支行门口排起长队，多名储户反映取不出钱。银行工作人员解释称，"
    "系统升级导致部分业务暂停，存款安全不受影响，预计下午恢复。"
)


def _write(path: Path, rows: list[dict[str, object] | str]) -> Path:
    lines = [r if isinstance(r, str) else orjson.dumps(r).decode() for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _count(db: Database, model: type[object]) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


def _rows(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "items.jsonl",
        [
            {
                "id": "a",
                "title": "城关支行排长队",
                "content": ARTICLE,
                "url": "https://news.example/2026/11/21/a.html?utm_source=weibo&spm=1.2",
                "platform": "news",
                "media_tier": "local",
                "published_at": "2026-11-21 09:00",
                "metrics": {"views": 1200, "comments": 30},
            },
            {
                "id": "b",
                "title": "【转载】城关支行排长队",
                "content": "转自本地新闻：" + ARTICLE + "网友纷纷评论。",
                "url": "https://forum.example/t/99",
                "platform": "forum",
                "published_at": "2026-11-21 10:30",
            },
            '{"id": "broken", "content": ',
            {"id": "empty", "content": "   "},
            {
                "id": "html",
                "content": "<p>云岭农商行<script>document.write('x')</script>发布公告</p>",
                "platform": "weibo",
            },
            {"id": "other", "content": "今日天气晴，气温十五度，适合出行。", "platform": "weibo"},
        ],
    )


def _pipeline(db: Database, settings: Settings) -> Pipeline:
    with db.session() as session:
        row, _ = upsert_subject(
            session,
            name="云岭农商银行",
            unit_id=None,
            kind="organization",
            aliases=["云岭农商行"],
            exclude=["招聘"],
            rule=None,
        )
        subjects = [SubjectSpec(id=row.id, name=row.name, aliases=("云岭农商行",))]
    return Pipeline(db, settings, subjects, now=lambda: NOW)


def test_import_keeps_good_rows_and_reports_bad_ones(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = _rows(tmp_path)
    report = _pipeline(db, settings).run(as_pipeline_records(read_records(path)))
    assert report.counts.imported == 4
    assert report.counts.duplicates == 0
    assert [(e.line, Path(e.where).name) for e in report.errors] == [
        (3, "items.jsonl:3"),
        (4, "items.jsonl:4"),
    ]
    assert "JSON" in report.errors[0].error
    assert "content" in report.errors[1].error
    assert _count(db, Item) == 4
    with db.session() as session:
        html = session.scalars(select(Item).where(Item.external_id == "html")).one()
        assert "document.write" not in html.content
        assert "云岭农商行" in html.content
        first = session.scalars(select(Item).where(Item.external_id == "a")).one()
        assert first.canonical_url == "https://news.example/2026/11/21/a.html"
        assert first.published_at == datetime(2026, 11, 21, 1, 0, tzinfo=UTC)
        matched = {s.item_id: s.spans for s in session.scalars(select(ItemSubject))}
        assert set(matched) == {
            i for (i,) in session.execute(select(Item.id).where(Item.external_id != "other"))
        }
        spans = matched[first.id]
        span = next(s for s in spans if s["field"] == "content")
        assert first.content[span["start"] : span["end"]] == "云岭农商银行"


def test_outcomes_say_per_record_whether_it_was_new_and_which_item_it_is(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = _rows(tmp_path)
    pipeline = _pipeline(db, settings)
    first = pipeline.run(as_pipeline_records(read_records(path)), outcomes=True)
    assert len(first.outcomes) == 4
    assert {status for status, _ in first.outcomes.values()} == {"imported"}
    with db.session() as session:
        ids = {i for (i,) in session.execute(select(Item.id))}
    assert {item_id for _, item_id in first.outcomes.values()} == ids
    again = pipeline.run(as_pipeline_records(read_records(path)), outcomes=True)
    assert again.outcomes == {o: ("duplicate", i) for o, (_, i) in first.outcomes.items()}
    assert pipeline.run(as_pipeline_records(read_records(path))).outcomes == {}


def test_reposts_form_a_story_with_the_earliest_as_origin(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    _pipeline(db, settings).run(as_pipeline_records(read_records(_rows(tmp_path))))
    with db.session() as session:
        story = session.scalars(select(Story)).one()
        members = session.scalars(select(Item).where(Item.story_id == story.id)).all()
        assert {m.external_id for m in members} == {"a", "b"}
        origin = next(m for m in members if m.external_id == "a")
        assert story.origin_item_id == origin.id
        assert story.item_count == 2
        assert story.site_count == 2


def test_rerun_creates_no_duplicates_and_growth_adds_a_snapshot(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = _rows(tmp_path)
    assert import_file(db, settings, path).counts.imported == 4
    snapshots = _count(db, MetricSnapshot)
    again = import_file(db, settings, path)
    assert (again.counts.imported, again.counts.duplicates) == (0, 4)
    assert _count(db, Item) == 4
    assert _count(db, MetricSnapshot) == snapshots  # same numbers: nothing new to record

    later = _write(
        tmp_path / "later.jsonl",
        [
            {
                "id": "a",
                "title": "城关支行排长队",
                "content": ARTICLE,
                "url": "https://news.example/2026/11/21/a.html?utm_medium=share",
                "platform": "news",
                "metrics": {"views": 56000, "comments": 20},
            }
        ],
    )
    report = import_file(db, settings, later)
    assert (report.counts.imported, report.counts.duplicates, report.counts.snapshots) == (0, 1, 1)
    with db.session() as session:
        item = session.scalars(select(Item).where(Item.external_id == "a")).one()
        assert item.views == 56000
        assert item.comments == 30  # a smaller count is an older observation
        assert item.sightings == 3
        history = session.scalars(
            select(MetricSnapshot.views)
            .where(MetricSnapshot.item_id == item.id)
            .order_by(MetricSnapshot.id)
        ).all()
        assert history == [1200, 56000]


def test_same_text_without_url_is_one_item_but_another_site_is_a_copy(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    text = "云岭农商银行宣布推出助农贷款新产品，利率优惠，覆盖全市所有乡镇网点。"
    path = _write(
        tmp_path / "same.jsonl",
        [
            {"content": text, "author": "甲"},
            {"content": text + " ", "author": "甲"},  # whitespace only: the same item
            {"content": text, "url": "https://a.example/1"},
            {"content": text, "url": "https://b.example/2"},
        ],
    )
    report = import_file(db, settings, path)
    assert (report.counts.imported, report.counts.duplicates) == (3, 1)
    with db.session() as session:
        story = session.scalars(select(Story)).one()
        assert story.item_count == 3
        assert story.site_count == 3


def test_stories_join_items_from_earlier_runs(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    first = _write(
        tmp_path / "1.jsonl",
        [{"content": ARTICLE, "url": "https://x.example/1", "published_at": "2026-11-20 08:00"}],
    )
    import_file(db, settings, first)
    second = _write(
        tmp_path / "2.jsonl",
        [
            {
                "content": "【转】" + ARTICLE,
                "url": "https://y.example/2",
                "published_at": "2026-11-19 08:00",
            }
        ],
    )
    import_file(db, settings, second)  # a new pipeline: the index is loaded from the database
    with db.session() as session:
        story = session.scalars(select(Story)).one()
        origin = session.get(Item, story.origin_item_id)
        assert origin is not None and origin.url == "https://y.example/2"  # published earlier
        assert story.first_published_at == datetime(2026, 11, 19, 0, 0, tzinfo=UTC)


def test_times_outside_the_window_do_not_join(db: Database, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=str(db.engine.url.render_as_string(False)),
        story_window_days=1,
    )
    old = NOW - timedelta(days=10)
    path = _write(tmp_path / "old.jsonl", [{"content": ARTICLE, "discovered_at": old.isoformat()}])
    import_file(db, settings, path)
    path = _write(tmp_path / "new.jsonl", [{"content": "转：" + ARTICLE}])
    import_file(db, settings, path)
    assert _count(db, Story) == 0


def test_items_are_stored_graded_and_escalate_when_views_grow(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    complaint = {
        "id": "c",
        "content": "云岭农商银行柜员态度冷淡，办卡流程繁琐，不太满意。",
        "url": "https://bbs.example/t/1",
        "platform": "forum",
        "metrics": {"views": 300},
    }
    pipeline = _pipeline(db, settings)
    pipeline.run(as_pipeline_records(read_records(_write(tmp_path / "1.jsonl", [complaint]))))
    with db.session() as session:
        item = session.scalars(select(Item).where(Item.external_id == "c")).one()
        assert item.sentiment == "negative" and item.grade == "attention"
        assert item.grade_reasons[0]["rule"] == "negative_about_subject"
        assert [(h.cause, h.grade) for h in history(session, item.id)] == [("ingest", "attention")]
    viral = {**complaint, "metrics": {"views": 52_000}}
    pipeline.run(as_pipeline_records(read_records(_write(tmp_path / "2.jsonl", [viral]))))
    with db.session() as session:
        item = session.scalars(select(Item).where(Item.external_id == "c")).one()
        assert item.grade == "harmful"
        last = history(session, item.id)[-1]
        assert (last.cause, last.previous, last.grade, last.escalated) == (
            "metrics",
            "attention",
            "harmful",
            True,
        )
        assert any(r["rule"] == "negative_many_views" for r in item.grade_reasons)
