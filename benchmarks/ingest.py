"""Ingest throughput benchmark: normalize → dedupe → match → store into SQLite with FTS.

Builds N items of real Chinese text (50–500 characters) from the labelled corpora in
`../shared/data`, with planted exact re-sightings and near-copies, and 10,000 subject terms
sliced from the same texts; then times `yuqing.pipeline.run.Pipeline` end to end into a fresh
SQLite database, next to two references measured in the same process: a bare `executemany`
INSERT of the same rows (the storage floor) and stdlib `json.loads` of the serialized items.

    .venv/bin/python benchmarks/ingest.py                  # 100,000 items, 10,000 terms
    .venv/bin/python benchmarks/ingest.py --n 20000        # a quick run

Everything random uses `random.Random(42)`; the data set lives in memory and in a temporary
directory only, never in the repository. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import platform
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ahocorasick_rs
import psutil
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select, text

from yuqing.domain import Metrics, Platform, RawItem, SubjectSpec
from yuqing.domain.enums import MediaTier
from yuqing.pipeline.match import SubjectMatcher
from yuqing.pipeline.run import INGEST_STAGES, Pipeline
from yuqing.settings import Settings
from yuqing.store.db import Database, open_database
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import ItemSubject, MetricSnapshot, Story, Subject

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "ingest.json"
SEED = 42
TARGET_DOCS_PER_SECOND = 2000.0
MIN_CHARS, MAX_CHARS = 50, 500
RESIGHTING_SHARE = 0.05  # same URL and text as an earlier item: an exact duplicate
NEAR_COPY_SHARE = 0.10  # a repost prefix or an edited sentence: a near-duplicate story member
RULE_SUBJECTS = 50
TERMS_PER_RULE = 5  # a name, highlighted only, and (A | B) & C & !D
NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_SENTENCE = re.compile(r"[^。！？!?；;…\n]+[。！？!?；;…\n]*")
_HOSTS = {
    Platform.NEWS: "news.example.com.cn",
    Platform.FORUM: "bbs.example.cn",
    Platform.TIEBA: "tieba.baidu.com",
    Platform.BLOG: "blog.example.cn",
    Platform.WEIBO: "weibo.com",
    Platform.WECHAT: "mp.weixin.qq.com",
    Platform.VIDEO: "www.douyin.com",
    Platform.COMPLAINT: "tousu.example.cn",
    Platform.PRINT: "epaper.example.cn",
    Platform.BROADCAST: "tv.example.cn",
    Platform.OTHER: "www.example.org",
}
_TITLED = {
    Platform.NEWS,
    Platform.FORUM,
    Platform.TIEBA,
    Platform.BLOG,
    Platform.WECHAT,
    Platform.COMPLAINT,
    Platform.PRINT,
    Platform.BROADCAST,
}


# --------------------------------------------------------------------------- data set


def load_texts(data_dir: Path) -> dict[str, list[str]]:
    """Every usable text of the corpora by source, stripped and de-duplicated, in file order."""
    sentiment, rumor, offensive = data_dir / "sentiment", data_dir / "rumor", data_dir / "offensive"
    sources: dict[str, list[str]] = {"weibo": [], "rumor": [], "cold": [], "reviews": []}
    for path in sorted(sentiment.glob("smp2020_*.json")):
        rows = json.loads(path.read_text(encoding="utf-8"))
        sources["weibo"].extend(row["content"] for row in rows)
    with (rumor / "weibo_rumor_train.jsonl").open(encoding="utf-8") as f:
        sources["rumor"].extend(json.loads(line)["text"] for line in f if line.strip())
    for path in sorted(offensive.glob("cold_*.csv")):
        sources["cold"].extend(_csv_column(path, "TEXT"))
    for path in sorted(sentiment.glob("*.csv")):
        sources["reviews"].extend(_csv_column(path, "review"))
    seen: set[str] = set()
    out: dict[str, list[str]] = {name: [] for name in sources}
    for name, texts in sources.items():
        for raw in texts:
            t = " ".join(raw.split()) if isinstance(raw, str) else ""
            if t and t not in seen:
                seen.add(t)
                out[name].append(t)
    return out


def _csv_column(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [row[column] for row in csv.DictReader(f) if row.get(column)]


class TextStream:
    """Neighbouring texts of one source at a time, concatenated to a wanted length.

    The pool (121k texts, 6.5 M characters) is smaller than 100,000 items need, so it is
    walked several times; before each pass every source is reshuffled (sources stay apart,
    so an item is Weibo posts or reviews, not a mix). A text thus recurs in a few items,
    each time among other neighbours, as a quoted post does in real feeds.
    """

    def __init__(self, sources: dict[str, list[str]], rng: random.Random) -> None:
        self._sources = [list(texts) for texts in sources.values()]
        self._rng = rng
        self._pool: list[str] = []
        self._cursor = 0

    def next_text(self) -> str:
        if self._cursor == len(self._pool):
            for texts in self._sources:
                self._rng.shuffle(texts)
            self._pool = [t for texts in self._sources for t in texts]
            self._cursor = 0
        text = self._pool[self._cursor]
        self._cursor += 1
        return text

    def take(self, length: int) -> str:
        parts: list[str] = []
        total = 0
        while total < length:
            part = self.next_text()
            parts.append(part)
            total += len(part) + 1
        return " ".join(parts)[:length].rstrip()


@dataclass(slots=True)
class Dataset:
    """The items, and which of them were planted as duplicates of which earlier item."""

    items: list[RawItem]
    resightings: list[tuple[int, int]] = field(default_factory=list)  # (copy, original)
    near_copies: list[tuple[int, int, str]] = field(default_factory=list)  # (+ kind)


def build_items(sources: dict[str, list[str]], n: int, rng: random.Random) -> Dataset:
    """N items: ~85 % fresh, ~5 % exact re-sightings, ~10 % near-copies of earlier items."""
    stream = TextStream(sources, rng)
    platforms = list(Platform)
    tiers = list(MediaTier)
    data = Dataset(items=[])
    originals: list[int] = []  # indexes of fresh items, the ones copies are made from
    for i in range(n):
        roll = rng.random()
        if originals and roll < RESIGHTING_SHARE:
            source = rng.choice(originals)
            data.items.append(_resighting(data.items[source], i, rng))
            data.resightings.append((i, source))
            continue
        plat = platforms[i % len(platforms)]
        if originals and roll < RESIGHTING_SHARE + NEAR_COPY_SHARE:
            source = rng.choice(originals)
            content, kind = _near_copy(data.items[source].content, stream, rng)
            title = data.items[source].title if plat in _TITLED else ""
            data.near_copies.append((i, source, kind))
        else:
            content = stream.take(rng.randint(MIN_CHARS, MAX_CHARS))
            title = _title(content) if plat in _TITLED else ""
            originals.append(i)
        data.items.append(
            RawItem(
                content=content,
                title=title,
                url=f"https://{_HOSTS[plat]}/{plat.value}/{i:08d}.html",
                author=f"用户{rng.randrange(20_000)}",
                platform=plat,
                media_tier=tiers[i % len(tiers)],
                published=_published(rng),
                metrics=_metrics(rng),
                external_id=f"bench-{i}",
                origin=f"bench:{i + 1}",
            )
        )
    return data


def _title(content: str) -> str:
    first = _SENTENCE.match(content)
    return (first.group(0) if first else content)[:30].strip()


def _published(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.3:
        return f"{rng.randint(1, 23)}小时前"
    moment = NOW - timedelta(minutes=rng.randrange(7 * 24 * 60))
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _metrics(rng: random.Random) -> Metrics:
    if rng.random() < 0.5:
        return Metrics()
    return Metrics(
        views=rng.randrange(100_000),
        reposts=rng.randrange(1000),
        comments=rng.randrange(1000),
        likes=rng.randrange(5000),
    )


def _resighting(original: RawItem, i: int, rng: random.Random) -> RawItem:
    """The same page crawled again: same URL and text, counters grown when it had any."""
    m = original.metrics
    grown = (
        m
        if m.is_empty()
        else Metrics(
            views=(m.views or 0) + rng.randrange(1, 1000),
            reposts=m.reposts,
            comments=(m.comments or 0) + rng.randrange(0, 10),
            likes=m.likes,
        )
    )
    return replace(original, metrics=grown, origin=f"bench:{i + 1}")


def _near_copy(content: str, stream: TextStream, rng: random.Random) -> tuple[str, str]:
    """A repost of `content` ("转发微博 //@用户N:" prefix) or a copy with one sentence changed."""
    if rng.random() < 0.5:
        return f"转发微博 //@用户{rng.randrange(100_000)}:{content}"[:MAX_CHARS], "repost"
    sentences = _SENTENCE.findall(content)
    if len(sentences) >= 4:
        at = rng.randrange(1, len(sentences))
        sentences[at] = stream.take(max(5, min(40, len(sentences[at])))) + "。"
        return "".join(sentences)[:MAX_CHARS], "sentence"
    # Too few sentences to swap one: change a short phrase inside the text instead.
    at = rng.randrange(0, max(1, len(content) - 4))
    return content[:at] + stream.take(4) + content[at + 4 :], "phrase"


def build_subjects(texts: Sequence[str], terms: int, rng: random.Random) -> list[SubjectSpec]:
    """Subjects with `terms` distinct terms in all: name + 2 aliases each, plus rule subjects.

    Plain terms are CJK runs of 2–6 characters sliced at random from the texts, kept only when
    they occur in at most 0.01 % of a sample of 20,000 texts: a monitored name is rarely a
    common phrase. About 70 % of items then match a subject, ~1.5 matches per item, like a
    feed already filtered by the crawler's keywords. Rule subjects are
    `(A | B) & C & !D` with A, B, C bigrams in 0.2–2 % of the sample texts, so rules are
    evaluated often but hold seldom, and D a rare term.
    """
    sample = rng.sample(list(texts), min(20_000, len(texts)))
    runs = [run for t in sample for run in _CJK_RUN.findall(t)]
    bigram_df: Counter[str] = Counter()
    for t in sample:
        bigram_df.update(
            {run[i : i + 2] for run in _CJK_RUN.findall(t) for i in range(len(run) - 1)}
        )
    frequent = sorted(
        w for w, c in bigram_df.items() if 0.002 * len(sample) <= c <= 0.02 * len(sample)
    )
    rare_limit = max(1.0, 0.0001 * len(sample))

    wanted_plain = max(0, terms - RULE_SUBJECTS * TERMS_PER_RULE)
    wanted_rare = wanted_plain + 2 * RULE_SUBJECTS  # plus a name and a `!D` term per rule
    rare: list[str] = []
    seen: set[str] = set(frequent)
    while len(rare) < wanted_rare:
        candidates: list[str] = []
        while len(candidates) < 2 * (wanted_rare - len(rare)):
            run = rng.choice(runs)
            size = min(len(run), rng.choices((2, 3, 4, 5, 6), weights=(25, 30, 30, 10, 5))[0])
            start = rng.randrange(0, len(run) - size + 1)
            word = run[start : start + size]
            if word not in seen:
                seen.add(word)
                candidates.append(word)
        df = _document_frequency(candidates, sample)
        rare.extend(w for w in candidates if df.get(w, 0) <= rare_limit)
    plain, extra = rare[:wanted_plain], iter(rare[wanted_plain:])

    subjects: list[SubjectSpec] = []
    for k in range(0, len(plain) - 2, 3):
        name, a1, a2 = plain[k : k + 3]
        subjects.append(SubjectSpec(id=len(subjects) + 1, name=name, aliases=(a1, a2)))
    for _ in range(RULE_SUBJECTS):
        a, b, c = rng.sample(frequent, 3)
        name, d = next(extra), next(extra)
        rule = f"({a} | {b}) & {c} & !{d}"
        subjects.append(SubjectSpec(id=len(subjects) + 1, name=name, rule=rule))
    return subjects


def _document_frequency(words: Sequence[str], texts: Iterable[str]) -> Counter[str]:
    automaton = ahocorasick_rs.AhoCorasick(list(words))
    df: Counter[str] = Counter()
    for t in texts:
        df.update({words[p] for p, _, _ in automaton.find_matches_as_indexes(t, overlapping=True)})
    return df


# --------------------------------------------------------------------------- references


def time_storage_floor(items: Sequence[RawItem], batch_size: int, directory: Path) -> float:
    """Seconds to executemany (title, content) into a bare WAL table, one txn per batch."""
    path = directory / f"floor-{time.monotonic_ns()}.db"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, content TEXT)")
        rows = [(item.title, item.content) for item in items]
        started = time.perf_counter()
        for start in range(0, len(rows), batch_size):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO docs (title, content) VALUES (?, ?)", rows[start : start + batch_size]
            )
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def serialize(items: Sequence[RawItem]) -> list[str]:
    """Items as the JSON lines an importer would read."""
    return [
        json.dumps(
            {
                "id": item.external_id,
                "title": item.title,
                "content": item.content,
                "url": item.url,
                "author": item.author,
                "platform": item.platform.value,
                "media_tier": item.media_tier.value,
                "published_at": item.published,
                "metrics": item.metrics.as_dict(),
            },
            ensure_ascii=False,
        )
        for item in items
    ]


def time_json_decode(lines: Sequence[str]) -> float:
    started = time.perf_counter()
    for line in lines:
        json.loads(line)
    return time.perf_counter() - started


def time_references(
    items: Sequence[RawItem], runs: int, batch_size: int, directory: Path
) -> tuple[list[float], list[float]]:
    """Seconds of `runs` storage-floor runs and `runs` json.loads passes over the items."""
    lines = serialize(items)
    gc.collect()
    floor = [time_storage_floor(items, batch_size, directory) for _ in range(runs)]
    decode = [time_json_decode(lines) for _ in range(runs)]
    return floor, decode


# --------------------------------------------------------------------------- pipeline run


def store_subjects(db: Database, subjects: Sequence[SubjectSpec]) -> None:
    """Subject rows, so item_subjects' foreign keys hold (the matcher gets the specs)."""
    with db.session() as session:
        session.execute(
            insert(Subject),
            [
                {
                    "id": s.id,
                    "name": s.name,
                    "kind": "organization",
                    "aliases": list(s.aliases),
                    "exclude": list(s.exclude),
                    "rule": s.rule,
                    "enabled": True,
                }
                for s in subjects
            ],
        )


def db_counts(db: Database, data: Dataset) -> dict[str, Any]:
    """What the run left in the database, and how many planted copies dedupe found."""
    with db.session() as session:

        def count(model: Any) -> int:
            return session.scalar(select(func.count()).select_from(model)) or 0

        story_of = dict(session.execute(select(ItemRow.external_id, ItemRow.story_id)).all())
        counts: dict[str, Any] = {
            "items": count(ItemRow),
            "fts_rows": session.scalar(text("SELECT count(*) FROM items_fts")) or 0,
            "stories": count(Story),
            "items_in_stories": session.scalar(
                select(func.count()).where(ItemRow.story_id.is_not(None))
            ),
            "subject_matches": count(ItemSubject),
            "items_with_subject": session.scalar(
                select(func.count(func.distinct(ItemSubject.item_id)))
            ),
            "metric_snapshots": count(MetricSnapshot),
        }
    found: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    for copy, source, kind in data.near_copies:
        planted[kind] += 1
        story = story_of.get(data.items[copy].external_id)
        if story is not None and story == story_of.get(data.items[source].external_id):
            found[kind] += 1
    counts["near_copy_recall"] = {
        kind: round(found[kind] / planted[kind], 3) for kind in sorted(planted)
    } | {"all": round(sum(found.values()) / max(1, sum(planted.values())), 3)}
    return counts


def run_pipeline(
    data: Dataset, subjects: Sequence[SubjectSpec], batch_size: int, directory: Path
) -> dict[str, Any]:
    settings = Settings(
        data_dir=directory,
        database_url=f"sqlite:///{directory / 'yuqing.db'}",
        batch_size=batch_size,
    )
    db = open_database(settings.resolved_database_url)
    try:
        store_subjects(db, subjects)
        began = time.perf_counter()
        pipeline = Pipeline(db, settings, subjects, now=lambda: NOW, stages=INGEST_STAGES)
        setup = time.perf_counter() - began
        done = 0
        batch_seconds: list[float] = []
        last = time.perf_counter()

        def progress(k: int) -> None:
            nonlocal done, last
            now = time.perf_counter()
            batch_seconds.append(now - last)
            last = now
            done += k
            if done % (batch_size * 10) < k or done == len(data.items):
                print(f"  … {done:,} / {len(data.items):,}", file=sys.stderr, flush=True)

        rss_before = psutil.Process().memory_info().rss
        cpu_began = time.process_time()
        began = last = time.perf_counter()
        report = pipeline.run(data.items, progress)
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
        rss_after = psutil.Process().memory_info().rss
        counts = db_counts(db, data)
    finally:
        db.dispose()
    files = list(directory.glob("yuqing.db*"))
    return {
        "setup_seconds": setup,
        "seconds": wall,
        "cpu_seconds": cpu,
        "report_seconds": report.seconds,
        "batch_seconds": [round(x, 4) for x in batch_seconds],
        "stage_seconds": dict(report.stage_seconds),
        "read": report.read,
        "imported": report.counts.imported,
        "duplicates": report.counts.duplicates,
        "story_links": report.counts.story_links,
        "snapshots": report.counts.snapshots,
        "errors": len(report.errors),
        "first_errors": [e.as_dict() for e in report.errors[:5]],
        "rss_before_mb": rss_before / 2**20,
        "rss_after_mb": rss_after / 2**20,
        "database_mb": sum(p.stat().st_size for p in files) / 2**20,
        "db": counts,
    }


# --------------------------------------------------------------------------- report


def machine_info() -> dict[str, Any]:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable: int | None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": cpu_model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "sqlite": sqlite3.sqlite_version,
    }


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def git_commit() -> str | None:
    try:
        head = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head


def summarize(args: argparse.Namespace, result: dict[str, Any]) -> dict[str, Any]:
    """Derived figures: docs/s per stage and end to end, ratios to the references."""
    n = args.n
    run = result["pipeline"]
    total = run["seconds"]
    stages = {}
    for name in INGEST_STAGES:
        seconds = run["stage_seconds"].get(name, 0.0)
        stages[name] = {
            "seconds": round(seconds, 3),
            "docs_per_second": round(n / seconds) if seconds else None,
            "share": round(seconds / total, 4),
        }
    other = total - sum(run["stage_seconds"].values())
    stages["commit + batching"] = {
        "seconds": round(other, 3),
        "docs_per_second": round(n / other) if other > 0 else None,
        "share": round(other / total, 4),
    }
    docs_s = n / total
    floor_s = n / result["storage_floor_seconds"]
    json_s = n / result["json_decode_seconds"]
    batches = run["batch_seconds"]
    tenth = max(1, len(batches) // 10)
    sizes = [min(result["batch_size"], n - start) for start in range(0, n, result["batch_size"])]
    return {
        "stages": stages,
        "end_to_end_docs_per_second": round(docs_s, 1),
        "cpu_docs_per_second": round(n / run["cpu_seconds"], 1),
        "cpu_share_of_wall": round(run["cpu_seconds"] / total, 3),
        # Does ingest slow down as the database grows? Items per second of the first and the
        # last tenth of the batches (a batch is `batch_size` records, duplicates included).
        "first_tenth_docs_per_second": round(sum(sizes[:tenth]) / sum(batches[:tenth])),
        "last_tenth_docs_per_second": round(sum(sizes[-tenth:]) / sum(batches[-tenth:])),
        "storage_floor_docs_per_second": round(floor_s),
        "json_loads_docs_per_second": round(json_s),
        "ratio_to_storage_floor": round(docs_s / floor_s, 5),
        "storage_floor_times_faster": round(floor_s / docs_s, 1),
        "ratio_to_json_loads": round(docs_s / json_s, 5),
        "target_docs_per_second": TARGET_DOCS_PER_SECOND,
        "meets_target": docs_s >= TARGET_DOCS_PER_SECOND,
    }


def print_report(console: Console, result: dict[str, Any]) -> None:
    s, run, db = result["summary"], result["pipeline"], result["pipeline"]["db"]
    n = result["n"]
    table = Table(
        title=f"Ingest, {n:,} items, {result['subject_terms']:,} terms, "
        f"batch {result['batch_size']}"
    )
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("docs/s", justify="right")
    table.add_column("share", justify="right")
    for name, row in s["stages"].items():
        rate = row["docs_per_second"]
        table.add_row(
            name,
            f"{row['seconds']:.2f}",
            f"{rate:,}" if rate is not None else "—",
            f"{row['share']:.1%}",
        )
    table.add_section()
    table.add_row(
        "end to end", f"{run['seconds']:.2f}", f"{s['end_to_end_docs_per_second']:,.0f}", "100%"
    )
    console.print(table)

    facts = Table(show_header=False, box=None, padding=(0, 2))
    facts.add_column()
    facts.add_column(justify="right")
    verdict = "meets" if s["meets_target"] else "BELOW"
    rows = [
        (
            "end to end",
            f"{s['end_to_end_docs_per_second']:,.0f} docs/s ({verdict} target "
            f"{s['target_docs_per_second']:,.0f})",
        ),
        (
            "end to end on CPU time (CPU / wall)",
            f"{s['cpu_docs_per_second']:,.0f} docs/s ({s['cpu_share_of_wall']:.0%})",
        ),
        (
            "first / last tenth of batches",
            f"{s['first_tenth_docs_per_second']:,} / {s['last_tenth_docs_per_second']:,} docs/s",
        ),
        ("storage floor (executemany)", f"{s['storage_floor_docs_per_second']:,} docs/s"),
        (
            "pipeline / storage floor",
            f"{s['ratio_to_storage_floor']:.4f}  "
            f"(floor {s['storage_floor_times_faster']:,}× faster)",
        ),
        ("json.loads reference", f"{s['json_loads_docs_per_second']:,} docs/s"),
        ("pipeline / json.loads", f"{s['ratio_to_json_loads']:.4f}"),
        ("pipeline setup", f"{run['setup_seconds']:.2f} s"),
        ("peak RSS (ru_maxrss)", f"{result['peak_rss_mb']:,.0f} MB"),
        (
            "RSS before / after run (psutil)",
            f"{run['rss_before_mb']:,.0f} / {run['rss_after_mb']:,.0f} MB",
        ),
        ("items read / stored / errors", f"{run['read']:,} / {db['items']:,} / {run['errors']:,}"),
        (
            "duplicates (planted re-sightings)",
            f"{run['duplicates']:,} ({result['planted']['resightings']:,})",
        ),
        (
            "story links (planted near-copies)",
            f"{run['story_links']:,} ({result['planted']['near_copies']:,})",
        ),
        ("near-copy recall", ", ".join(f"{k} {v:.0%}" for k, v in db["near_copy_recall"].items())),
        (
            "subject matches (items with ≥1)",
            f"{db['subject_matches']:,} ({db['items_with_subject']:,})",
        ),
        ("metric snapshots", f"{db['metric_snapshots']:,}"),
        ("database size", f"{run['database_mb']:,.0f} MB"),
    ]
    for label, value in rows:
        facts.add_row(label, value)
    console.print(facts)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="items to ingest (100,000)")
    parser.add_argument("--terms", type=int, default=10_000, help="subject terms (10,000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="items per batch (1000)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled data directory")
    parser.add_argument(
        "--reference-runs",
        type=int,
        default=3,
        help="runs of each reference before and after the pipeline; their median is used (3)",
    )
    args = parser.parse_args(argv)
    if (
        min(args.n, args.batch_size, args.reference_runs) < 1
        or args.terms < RULE_SUBJECTS * TERMS_PER_RULE
    ):
        parser.error(
            f"--n, --batch-size and --reference-runs must be ≥ 1, "
            f"--terms ≥ {RULE_SUBJECTS * TERMS_PER_RULE}"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data.resolve()
    if not (data_dir / "sentiment").is_dir():
        sys.exit(f"error: data directory not found or incomplete: {data_dir} (use --data DIR)")
    console = Console(width=100)
    err = Console(stderr=True)

    began = time.perf_counter()
    rng = random.Random(SEED)
    sources = load_texts(data_dir)
    texts = [t for source in sources.values() for t in source]
    data = build_items(sources, args.n, rng)
    subjects = build_subjects(texts, args.terms, rng)
    term_count = SubjectMatcher(subjects).term_count
    err.print(
        f"built {len(data.items):,} items from {len(texts):,} texts, {len(subjects):,} subjects "
        f"({term_count:,} terms) in {time.perf_counter() - began:.1f} s"
    )
    peak_rss_after_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
        directory = Path(tmp)
        # References before and after the pipeline run: the machine's speed drifts over
        # minutes, and the medians of both sides are what the run is compared with.
        floor, decode = time_references(data.items, args.reference_runs, args.batch_size, directory)
        err.print(
            f"references: floor {args.n / statistics.median(floor):,.0f} docs/s, "
            f"json {args.n / statistics.median(decode):,.0f} docs/s"
        )
        gc.collect()
        err.print("running the pipeline …")
        pipeline = run_pipeline(data, subjects, args.batch_size, directory)
        floor_after, decode_after = time_references(
            data.items, args.reference_runs, args.batch_size, directory
        )

    result: dict[str, Any] = {
        "benchmark": "ingest",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": machine_info(),
        "n": args.n,
        "terms_requested": args.terms,
        "subject_terms": term_count,
        "subjects": len(subjects),
        "rule_subjects": RULE_SUBJECTS,
        "batch_size": args.batch_size,
        "seed": SEED,
        "mean_chars": round(statistics.fmean(len(i.content) for i in data.items), 1),
        "planted": {
            "resightings": len(data.resightings),
            "near_copies": len(data.near_copies),
            "near_copy_kinds": dict(Counter(kind for _, _, kind in data.near_copies)),
        },
        "storage_floor_seconds": statistics.median(floor + floor_after),
        "json_decode_seconds": statistics.median(decode + decode_after),
        "reference_runs_seconds": {
            "storage_floor_before": floor,
            "storage_floor_after": floor_after,
            "json_loads_before": decode,
            "json_loads_after": decode_after,
        },
        "pipeline": pipeline,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_rss_mb_after_build": peak_rss_after_build,
    }
    result["summary"] = summarize(args, result)
    print_report(console, result)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    err.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
