"""Alert latency benchmark: items pushed to /api/ingest, timed until their alert arrives at
a local webhook receiver.

The app runs in-process under uvicorn (`create_app(settings, schedule=True)`: the collection
scheduler and the alert worker, which the push endpoint wakes). One push source, one webhook
channel, one rule for every negative grade. N harmful-looking items (a negative complaint
about one of N monitored subjects, with 52,000 views, padded with different demo texts so no
two are near-duplicates, and each its own event) are POSTed by `--senders` crawlers in
batches of 1–20. For each item: from its request being sent, and from its accepted response,
to its signed webhook arriving. Baseline in the same run: the bare push round trip of as many
items into a fresh database with the alert worker off.

    .venv/bin/python benchmarks/alert_latency.py                  # 1,000 items
    .venv/bin/python benchmarks/alert_latency.py --n 200          # a quick run

Everything random uses `random.Random(42)`; data lives in a temporary directory only.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import queue
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, git_commit, machine_info
from yuqing.accounts.actor import SYSTEM
from yuqing.alerts.manage import ChannelInput, RuleInput, add_channel, add_rule
from yuqing.collect.manage import SourceInput, add_source
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.db import Database, open_database
from yuqing.store.subjects import upsert_subject
from yuqing.store.tables import Item
from yuqing.store.units import upsert_unit
from yuqing.web.app import create_app

DEFAULT_OUT = REPO / "benchmarks" / "results" / "alert_latency.json"
DEMO_ITEMS = REPO / "src" / "yuqing" / "demo" / "items.jsonl"
SEED = 42
TARGET_P95_SECONDS = 5.0
NEGATIVE = frozenset({"attention", "harmful", "dangerous"})
SECRET = "bench-secret"
COMPLAINTS = (
    "{s}柜员态度恶劣，储户排队三个小时办不了业务，投诉无门，非常气愤。",
    "{s}乱收费，存款被莫名扣费，客服推诿不处理，服务太差，非常气愤，大家千万别去办卡。",
    "{s}理财产品亏损严重，销售时隐瞒风险，多名储户要求退款未果，太坑人了，十分愤怒。",
    "{s}网点无故冻结账户，老人取不出养老钱，工作人员态度恶劣，太让人失望了。",
)


# ------------------------------------------------------------------------ the receiver


class Arrivals:
    """The webhook receiver's record: item id → perf_counter() of its first alert."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.bad_signatures = 0
        self.lock = threading.Lock()


@contextmanager
def receiver() -> Iterator[tuple[str, Arrivals]]:
    arrivals = Arrivals()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            now = time.perf_counter()
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            stamp = self.headers.get("X-Yuqing-Timestamp", "")
            expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
            ok = self.headers.get("X-Yuqing-Signature") == "sha256=" + expected.hexdigest()
            item_id = json.loads(raw).get("item_id") if ok else None
            with arrivals.lock:
                if not ok:
                    arrivals.bad_signatures += 1
                elif isinstance(item_id, int):
                    arrivals.at.setdefault(item_id, now)
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # the dispatcher sends up to 32 at once; 5 drops connections

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", arrivals
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------------------ the organization


def demo_sentences() -> list[str]:
    """Sentences of the demo texts labelled attention or harmful: negative, without the crisis
    terms that make the dangerous ones."""
    rows = [json.loads(line) for line in DEMO_ITEMS.read_text(encoding="utf-8").splitlines()]
    sentences: set[str] = set()
    for row in rows:
        if row["labels"]["grade"] in ("attention", "harmful"):
            sentences.update(s + "。" for s in row.get("content", "").split("。") if len(s) >= 12)
    return sorted(sentences)


def subject_name(i: int) -> str:
    return f"滇{i:04d}号信用社"


def items(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """N pushed objects: four demo sentences drawn at random (two items share little, so no
    two are near-duplicates joining one story and one event), then a complaint about
    subject i."""
    sentences = demo_sentences()
    out = []
    for i in range(n):
        complaint = rng.choice(COMPLAINTS).format(s=subject_name(i))
        padding = "".join(rng.sample(sentences, 4))
        out.append(
            {
                "id": f"bench-{i}",
                "title": f"网友曝光{subject_name(i)}",
                "content": padding + complaint,
                "url": f"https://bbs.bench.example/t/{i}",
                "platform": "forum",
                "metrics": {"views": 52_000},
            }
        )
    return out


def prepare(db: Database, n: int, hook: str | None) -> str:
    """Subjects, a push source (its token returned) and, with `hook`, a channel and rule."""
    now = datetime.now(UTC)
    standard = load_standard()
    with db.session() as session:
        unit = upsert_unit(session, code="YN", name="云岭省联社", level="province", parent=None)
        for i in range(n):
            upsert_subject(
                session,
                name=subject_name(i),
                unit_id=unit.id,
                kind="organization",
                aliases=[],
                exclude=[],
                rule=None,
            )
        _, token = add_source(
            session, standard, SourceInput(name="爬虫推送", kind="push", platform="forum"), now
        )
        if hook is not None:
            add_channel(
                session,
                SYSTEM,
                ChannelInput("基准接收端", "webhook", {"url": hook, "secret": SECRET}),
                now,
            )
            add_rule(session, standard, SYSTEM, RuleInput("全部负面", channels=["基准接收端"]), now)
    assert token is not None
    return token


# ------------------------------------------------------------------------ the app and senders


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(settings: Settings, db: Database, schedule: bool) -> Iterator[str]:
    """The app under uvicorn on a free port, in a thread of this process."""
    app = create_app(settings, db, schedule=schedule)
    extra: threading.Thread | None = None
    if schedule and not hasattr(app.state, "alerts"):
        from yuqing.alerts.dispatcher import AlertDispatcher  # an app without the worker

        dispatcher = AlertDispatcher(db, settings)
        extra = threading.Thread(target=lambda: asyncio.run(dispatcher.run_forever()), daemon=True)
        extra.start()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@dataclass(slots=True)
class Pushed:
    """What the senders saw: per item id, when its request was sent and answered."""

    sent: dict[int, float] = field(default_factory=dict)
    accepted: dict[int, float] = field(default_factory=dict)
    requests: int = 0
    refused: int = 0
    seconds: float = 0.0


def push_all(
    base: str, token: str, objects: list[dict[str, Any]], senders: int, rng: random.Random
) -> Pushed:
    """`senders` threads POST the objects in batches of 1–20, each batch as soon as the
    previous answer came back."""
    batches: queue.Queue[list[dict[str, Any]]] = queue.Queue()
    i = 0
    while i < len(objects):
        size = rng.randint(1, 20)
        batches.put(objects[i : i + size])
        i += size
    pushed = Pushed()
    lock = threading.Lock()

    def sender() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
            while True:
                try:
                    batch = batches.get_nowait()
                except queue.Empty:
                    return
                sent = time.perf_counter()
                response = client.post(f"{base}/api/ingest", json=batch)
                accepted = time.perf_counter()
                with lock:
                    pushed.requests += 1
                    if response.status_code != 200:
                        pushed.refused += len(batch)
                        continue
                    for result in response.json()["results"]:
                        if result["status"] == "imported" and result["item_id"] is not None:
                            pushed.sent[result["item_id"]] = sent
                            pushed.accepted[result["item_id"]] = accepted
                        else:
                            pushed.refused += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pushed.seconds = time.perf_counter() - started
    return pushed


# ------------------------------------------------------------------------ figures


def quantiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(SEED)
    objects = items(args.n, rng)
    result: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="yuqing-alert-bench-") as tmp:
        # Baseline: the bare push round trip, alert worker off.
        settings = Settings(data_dir=Path(tmp) / "baseline", alert_poll_seconds=args.poll)
        db = open_database(settings.resolved_database_url)
        token = prepare(db, args.n, None)
        with served(settings, db, schedule=False) as base:
            baseline = push_all(base, token, objects, args.senders, random.Random(SEED))
        db.dispose()
        trips = [baseline.accepted[i] - baseline.sent[i] for i in baseline.sent]
        result["baseline"] = {
            "items": len(baseline.sent),
            "requests": baseline.requests,
            "seconds": baseline.seconds,
            "round_trip": quantiles(trips),
        }
        # With alerts: the same items into a fresh database, the worker on.
        settings = Settings(
            data_dir=Path(tmp) / "alerts",
            alert_poll_seconds=args.poll,
        )
        db = open_database(settings.resolved_database_url)
        with receiver() as (hook, arrivals):
            token = prepare(db, args.n, hook)
            with served(settings, db, schedule=True) as base:
                pushed = push_all(base, token, objects, args.senders, random.Random(SEED))
                # Every accepted item is graded by now: wait for the alerts of the negative ones.
                with db.session() as session:
                    grades = dict(session.execute(select(Item.id, Item.grade)).all())
                expected = {i for i in pushed.accepted if grades.get(i) in NEGATIVE}
                deadline = time.perf_counter() + args.wait
                while time.perf_counter() < deadline:
                    with arrivals.lock:
                        if expected <= arrivals.at.keys():
                            break
                    time.sleep(0.05)
        db.dispose()
    with arrivals.lock:
        got = dict(arrivals.at)
    from_accepted = [got[i] - pushed.accepted[i] for i in expected if i in got]
    from_sent = [got[i] - pushed.sent[i] for i in expected if i in got]
    last = max(got.values(), default=0.0)
    first = min(pushed.sent.values(), default=0.0)
    result["alerts"] = {
        "items": len(pushed.accepted),
        "not_negative": len(pushed.accepted) - len(expected),
        "alerted": len(from_accepted),
        "missing": len(expected) - len(from_accepted),
        "refused": pushed.refused,
        "bad_signatures": arrivals.bad_signatures,
        "requests": pushed.requests,
        "push_seconds": pushed.seconds,
        "throughput_items_per_s": len(from_accepted) / (last - first) if last > first else None,
        "from_accepted": quantiles(from_accepted),
        "from_sent": quantiles(from_sent),
        "early": sum(1 for x in from_accepted if x < 0),
    }
    result["target_p95_seconds"] = TARGET_P95_SECONDS
    p95 = result["alerts"]["from_accepted"]["p95"]
    result["meets_target"] = p95 is not None and p95 <= TARGET_P95_SECONDS
    return result


def show(result: dict[str, Any]) -> None:
    console = Console()
    alerts, baseline = result["alerts"], result["baseline"]
    table = Table(title=f"Alert latency, {alerts['items']} items pushed")
    for column in ("measure", "items", "p50 s", "p95 s", "p99 s", "max s"):
        table.add_column(column, justify="right" if column != "measure" else "left")

    def row(name: str, items: int, q: dict[str, float | None]) -> None:
        cells = [f"{q[k]:.3f}" if q[k] is not None else "—" for k in ("p50", "p95", "p99", "max")]
        table.add_row(name, str(items), *cells)

    row("push round trip, no alerts (baseline)", baseline["items"], baseline["round_trip"])
    row("request sent → webhook received", alerts["alerted"], alerts["from_sent"])
    row("push accepted → webhook received", alerts["alerted"], alerts["from_accepted"])
    console.print(table)
    throughput = alerts["throughput_items_per_s"]
    console.print(
        f"alerted {alerts['alerted']}/{alerts['items']} ({alerts['not_negative']} graded "
        f"positive or general; missing {alerts['missing']}, refused "
        f"{alerts['refused']}, bad signatures {alerts['bad_signatures']}); "
        f"{alerts['requests']} requests in {alerts['push_seconds']:.1f} s; "
        f"throughput {throughput:.1f} alerts/s"
        if throughput
        else "throughput —"
    )
    verdict = "meets" if result["meets_target"] else "MISSES"
    console.print(f"p95 from accepted {verdict} the target of {result['target_p95_seconds']:g} s")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="items (default 1,000)")
    parser.add_argument("--senders", type=int, default=2, help="crawlers pushing at once")
    parser.add_argument("--poll", type=float, default=1.0, help="alert_poll_seconds")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for stragglers")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    result["machine"] = machine_info()
    result["commit"] = git_commit()
    result["seed"] = SEED
    show(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    Console().print(f"written to {args.out}")
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
