"""Collection benchmark: a web source reads a listing and N article pages at several per-host
concurrencies, through the real polite fetcher and article extraction.

An in-process HTTP server (ThreadingHTTPServer, on 127.0.0.1) serves N article pages built in
memory from the bundled demo items (real-looking Chinese news and posts, several joined per
article, with navigation, scripts and a footer around them) and one listing page linking to
all of them, optionally answering each request after a simulated network latency. For each
latency and each host concurrency, `yuqing.sources.web.WebSource.collect` runs from an empty
state with a fresh `Fetcher` (host interval 0, robots.txt off), timed by wall clock and CPU.
Extraction alone (`extract_article` over the same pages, one thread) is timed as the CPU
floor of the work.

    .venv/bin/python benchmarks/collect.py                      # 300 pages, ~2 min
    .venv/bin/python benchmarks/collect.py --n 100 --runs 1     # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, git_commit, machine_info
from yuqing.domain import RawItem
from yuqing.settings import Settings
from yuqing.sources.base import CollectContext, SourceInfo
from yuqing.sources.extract import extract_article
from yuqing.sources.fetch import Fetcher
from yuqing.sources.web import WebConfig, WebSource

DEFAULT_OUT = REPO / "benchmarks" / "results" / "collect.json"
DEMO_ITEMS = REPO / "src" / "yuqing" / "demo" / "items.jsonl"
SEED = 42


# --------------------------------------------------------------------------- the site


def build_site(n: int, rng: random.Random) -> dict[str, bytes]:
    """Path → page: the listing at /list.html and articles /a/1.html … /a/N.html."""
    demo = [json.loads(line) for line in DEMO_ITEMS.read_text(encoding="utf-8").splitlines()]
    texts = [row["content"] for row in demo if row.get("content")]
    titles = [row["title"] for row in demo if row.get("title")]
    pages: dict[str, bytes] = {}
    links = []
    for i in range(1, n + 1):
        title = rng.choice(titles)
        paragraphs = rng.sample(texts, rng.randint(3, 6))
        views = (
            f"{rng.randint(1, 99)}.{rng.randint(0, 9)}万" if i % 3 else str(rng.randint(0, 9999))
        )
        day, hour, minute = rng.randint(1, 20), rng.randint(0, 23), rng.randint(0, 59)
        stamp = f"2026年11月{day:02d}日 {hour:02d}:{minute:02d}"
        pages[f"/a/{i}.html"] = _article(title, paragraphs, stamp, views).encode("utf-8")
        links.append(f'<li><a href="/a/{i}.html">{html.escape(title)}</a></li>')
    listing = _PAGE.format(
        title="本地新闻",
        body=f'<ul class="list">\n{chr(10).join(links)}\n</ul>',
    )
    pages["/list.html"] = listing.encode("utf-8")
    return pages


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}_滨江日报网</title>
<link rel="stylesheet" href="/static/main.css">
<script>var _hmt = _hmt || []; (function () {{ var s = document.createElement("script");
s.src = "https://hm.example.cn/hm.js"; document.head.appendChild(s); }})();</script>
</head><body>
<div class="nav"><a href="/">首页</a> <a href="/local/">本地</a> <a href="/finance/">财经</a>
<a href="/society/">社会</a> <a href="/sports/">体育</a></div>
<div class="main">{body}</div>
<div class="footer"><p><a href="/about.html">关于我们</a> | <a href="/ads.html">广告服务</a></p>
<p>滨江日报社主办 版权所有 未经授权禁止转载 滨ICP备00000000号</p></div>
<script src="/static/jquery.min.js"></script>
</body></html>
"""


def _article(title: str, paragraphs: Sequence[str], stamp: str, views: str) -> str:
    body = "\n".join(f"<p>　　{html.escape(p)}</p>" for p in paragraphs)
    return _PAGE.format(
        title=html.escape(title),
        body=f"""<div class="crumbs">当前位置：<a href="/">首页</a> &gt; 正文</div>
<h1>{html.escape(title)}</h1>
<div class="info"><span class="date">{stamp}</span> <span class="source">来源：滨江日报</span>
<span class="views">阅读 {views}</span></div>
<div class="content">{body}</div>
<div class="editor">（责任编辑：王芳）</div>""",
    )


@contextmanager
def serve(pages: dict[str, bytes], latency: float) -> Iterator[str]:
    """The site on 127.0.0.1 for the duration; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without TCP_NODELAY each response's second write waits for the client's delayed
        # ACK (40 ms on Linux), and the benchmark would measure that instead of Yuqing.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if latency:
                time.sleep(latency)
            body = pages.get(self.path.split("?")[0])
            status = 200 if body is not None else 404
            body = body if body is not None else b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- timing


def collect_once(base: str, concurrency: int, data_dir: Path) -> dict[str, Any]:
    """One run of the web source from an empty state; wall and CPU seconds, what it got."""
    settings = Settings(
        data_dir=data_dir,
        collect_allow_private_addresses=True,
        collect_host_interval_seconds=0,
        collect_timeout_seconds=30,
    )
    source = WebSource(
        WebConfig(
            url=f"{base}/list.html", link_selector="ul.list a", metrics={"views": "span.views"}
        )
    )

    async def go() -> tuple[Any, Any]:
        async with Fetcher(settings, host_concurrency=concurrency, host_interval=0) as fetcher:
            ctx = CollectContext(
                SourceInfo(name="基准测试", kind="web"),
                fetcher,
                datetime.now(UTC),
                max_items=1_000_000,
                robots=False,
            )
            collected = await source.collect(ctx)
            return collected, fetcher.stats

    wall, cpu = time.perf_counter(), time.process_time()
    collected, stats = asyncio.run(go())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    items = [r for r in collected.records if isinstance(r, RawItem)]
    return {
        "seconds": wall,
        "cpu_seconds": cpu,
        "pages": collected.pages,
        "items": len(items),
        "errors": len(collected.records) - len(items),
        "problems": len(collected.problems),
        "with_views": sum(1 for i in items if i.metrics.views is not None),
        "requests": stats.requests,
        "bytes": stats.bytes,
    }


def time_extraction(pages: dict[str, bytes]) -> float:
    """extract_article over every article page, one thread: the CPU floor of the work."""
    articles = [(p, b.decode("utf-8")) for p, b in pages.items() if p.startswith("/a/")]
    began = time.perf_counter()
    for path, text in articles:
        extract_article(text, f"http://127.0.0.1{path}")
    return time.perf_counter() - began


def summarize(runs: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """Per latency and concurrency: median seconds, pages/s, ratio to concurrency 1."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        seconds = statistics.median(r["seconds"] for r in run["runs"])
        last = run["runs"][-1]
        rows.append(
            {
                "latency_ms": run["latency_ms"],
                "concurrency": run["concurrency"],
                "seconds": round(seconds, 3),
                "runs_seconds": [round(r["seconds"], 3) for r in run["runs"]],
                "cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in run["runs"]), 3),
                "pages": last["pages"],
                "items": last["items"],
                "errors": last["errors"],
                "with_views": last["with_views"],
                "requests": last["requests"],
                "pages_per_second": round(last["pages"] / seconds, 1),
                "complete": all(r["items"] == n for r in run["runs"]),
            }
        )
    for row in rows:
        base = next(
            (r for r in rows if r["latency_ms"] == row["latency_ms"] and r["concurrency"] == 1),
            None,
        )
        row["ratio_to_concurrency_1"] = (
            round(row["pages_per_second"] / base["pages_per_second"], 2) if base else None
        )
    return rows


def print_report(console: Console, result: dict[str, Any]) -> None:
    table = Table(
        title=f"Collection, web source, {result['n']:,} articles + 1 listing, "
        f"median of {result['runs']} run(s)"
    )
    for name in ("latency", "concurrency", "pages", "seconds", "pages/s", "× conc. 1", "CPU s"):
        table.add_column(name, justify="right")
    for row in result["results"]:
        ratio = row["ratio_to_concurrency_1"]
        table.add_row(
            f"{row['latency_ms']:g} ms",
            str(row["concurrency"]),
            f"{row['pages']:,}" + ("" if row["complete"] else " !"),
            f"{row['seconds']:.2f}",
            f"{row['pages_per_second']:,.1f}",
            f"{ratio:.2f}" if ratio is not None else "—",
            f"{row['cpu_seconds']:.2f}",
        )
    console.print(table)
    floor = result["extraction_only_seconds"]
    console.print(
        f"extraction alone (one thread): {floor:.2f} s, "
        f"{result['n'] / floor:,.0f} pages/s; mean article {result['mean_article_chars']:,.0f} "
        f"characters of text, {result['mean_page_bytes']:,.0f} bytes of HTML"
    )
    if not all(row["complete"] for row in result["results"]):
        console.print("[red]! some runs did not collect every article (see the JSON)[/red]")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="article pages (300)")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 8, 32],
        help="requests in flight to the host (1 8 32)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        nargs="+",
        default=[0.0, 50.0],
        help="simulated server latency per request, in ms (0 50)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each setting; median (3)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args(argv)
    if min(args.n, args.runs, *args.concurrency) < 1 or min(args.latency_ms) < 0:
        parser.error("--n, --runs and --concurrency must be ≥ 1, --latency-ms ≥ 0")
    if any(c > 64 for c in args.concurrency):
        parser.error("--concurrency is at most 64 (the fetcher's setting bound)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=100)
    err = Console(stderr=True)
    pages = build_site(args.n, random.Random(SEED))
    articles = [b for p, b in pages.items() if p.startswith("/a/")]
    extraction = time_extraction(pages)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="yuqing-bench-") as tmp:
        for latency in args.latency_ms:
            with serve(pages, latency / 1000) as base:
                for concurrency in args.concurrency:
                    setting = {"latency_ms": latency, "concurrency": concurrency, "runs": []}
                    for _ in range(args.runs):
                        setting["runs"].append(collect_once(base, concurrency, Path(tmp)))
                    seconds = statistics.median(r["seconds"] for r in setting["runs"])
                    err.print(f"latency {latency:g} ms, concurrency {concurrency}: {seconds:.2f} s")
                    runs.append(setting)
    texts = [extract_article(b.decode("utf-8"), "http://127.0.0.1/").text for b in articles[:50]]
    result: dict[str, Any] = {
        "benchmark": "collect",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": machine_info(),
        "n": args.n,
        "runs": args.runs,
        "seed": SEED,
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "mean_page_bytes": round(statistics.fmean(len(b) for b in articles), 1),
        "mean_article_chars": round(statistics.fmean(len(t) for t in texts), 1),
        "extraction_only_seconds": round(extraction, 3),
        "extraction_only_pages_per_second": round(args.n / extraction, 1),
        "results": summarize(runs, args.n),
        "raw_runs": runs,
    }
    print_report(console, result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    err.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
