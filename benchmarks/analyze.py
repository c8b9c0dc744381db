"""Benchmark the whole analysis: normalize → match → analyze → grade, as `yuqing analyze` runs it.

N items of 50–500 characters of real Chinese text (built like the ingest benchmark, from
`../shared/data`) go through `yuqing.pipeline.contract.ContractAnalyzer` in one process, one
thread, with monitored subjects. Printed and written to JSON: docs/s per stage and end to end,
and, measured in the same run, the reference the issue names — a hashed character 1–3-gram
logistic regression (scikit-learn `HashingVectorizer` + `predict_proba`) — as a speed
baseline; the dev-split scores from the shipped model cards next to the reference's; and how
the grades, categories and harm types agree with the labels of the bundled demo items.
Target: ≥ 5,000 docs/s end to end on one core.

    .venv/bin/python benchmarks/analyze.py                # 20,000 items
    .venv/bin/python benchmarks/analyze.py --n 50000 --out benchmarks/results/analyze.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import (
    DEFAULT_DATA,
    REPO,
    SEED,
    build_items,
    build_subjects,
    git_commit,
    load_texts,
    machine_info,
)
from yuqing.ingest.files import read_records
from yuqing.pipeline.analyze.analyzer import Analyzer
from yuqing.pipeline.contract import ContractAnalyzer
from yuqing.settings import Settings
from yuqing.standard import load_standard

DEFAULT_OUT = REPO / "benchmarks" / "results" / "analyze.json"
DEMO_ITEMS = REPO / "src" / "yuqing" / "demo" / "items.jsonl"
TARGET_DOCS_PER_SECOND = 5000.0


class Timed:
    """A stage wrapper adding its seconds to a shared table."""

    def __init__(self, stage: Any, seconds: dict[str, float]) -> None:
        self.stage = stage
        self.name = stage.name
        self.seconds = seconds
        seconds.setdefault(self.name, 0.0)

    def process(self, batch: Any) -> Any:
        began = time.perf_counter()
        try:
            return self.stage.process(batch)
        finally:
            self.seconds[self.name] += time.perf_counter() - began


def run_contract(
    contract: ContractAnalyzer, items: Sequence[Any]
) -> tuple[float, dict[str, float], int]:
    seconds: dict[str, float] = {}
    contract.stages = [Timed(s, seconds) for s in contract.stages]
    began = time.perf_counter()
    produced = sum(len(batch) for batch in contract.run(items))
    return time.perf_counter() - began, seconds, produced


def time_reference(texts: list[str], labels: list[int], batch_size: int) -> float:
    """Seconds the issue's reference takes to score `texts` (model fitted beforehand)."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = HashingVectorizer(
        analyzer="char", ngram_range=(1, 3), n_features=2**20, alternate_sign=False
    )
    model = LogisticRegression(max_iter=200).fit(vectorizer.transform(texts[:5000]), labels[:5000])
    began = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        model.predict_proba(vectorizer.transform(texts[start : start + batch_size]))
    return time.perf_counter() - began


def demo_agreement(contract: ContractAnalyzer) -> dict[str, Any]:
    """How the analysis of the demo items agrees with the labels written for them."""
    rows = [json.loads(line) for line in DEMO_ITEMS.read_text(encoding="utf-8").splitlines()]
    labels = {row["id"]: row["labels"] for row in rows}
    records = list(read_records(DEMO_ITEMS))
    out = [o for batch in contract.run(records) for o in batch if "error" not in o]
    grade = sum(o["grade"]["code"] == labels[o["id"]]["grade"] for o in out)
    negative = {"attention", "harmful", "dangerous"}
    polarity = sum(
        (o["grade"]["code"] in negative) == (labels[o["id"]]["grade"] in negative) for o in out
    )
    top = sum(o["category"]["code"][0] == labels[o["id"]]["category"][0] for o in out)
    exact = sum(o["category"]["code"] == labels[o["id"]]["category"] for o in out)
    confusion = Counter((labels[o["id"]]["grade"], o["grade"]["code"]) for o in out)
    harm_hits = sum(
        bool({h["type"] for h in o["harms"]} & set(labels[o["id"]]["harms"])) for o in out
    )
    harm_items = sum(bool(labels[o["id"]]["harms"]) for o in out)
    n = len(out)
    return {
        "items": n,
        "grade_exact": grade / n,
        "negative_or_not": polarity / n,
        "category_top_level": top / n,
        "category_exact": exact / n,
        "harm_items_found": harm_hits / harm_items if harm_items else None,
        "grade_confusion": {f"{a}->{b}": c for (a, b), c in sorted(confusion.items())},
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="items (default 20,000)")
    parser.add_argument("--terms", type=int, default=1_000, help="subject terms (default 1,000)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    if not args.data.is_dir():
        console.print(f"[red]找不到训练数据目录 {args.data}（--data 指定）[/red]")
        return 1
    rng = random.Random(SEED)
    console.print("building data …")
    sources = load_texts(args.data)
    data = build_items(sources, args.n, rng)
    texts = [t for texts in sources.values() for t in texts]
    subjects = build_subjects(texts[:20_000], args.terms, rng)
    settings = Settings(batch_size=args.batch_size)
    standard = load_standard()
    analyzer = Analyzer.load(standard)
    contract = ContractAnalyzer(settings, standard, analyzer, subjects)
    contract.run(data.items[:200]).__next__()  # warm caches and lazy imports before timing
    console.print("timing the analysis …")
    seconds, stage_seconds, produced = run_contract(contract, data.items)
    console.print("timing the reference …")
    ref_texts = [item.content for item in data.items]
    ref_labels = [rng.randrange(2) for _ in ref_texts]
    reference = time_reference(ref_texts, ref_labels, args.batch_size)
    agreement = demo_agreement(ContractAnalyzer(settings, standard, analyzer, ()))
    result = {
        "n": args.n,
        "terms": sum(1 + len(s.aliases) for s in subjects),
        "batch_size": args.batch_size,
        "seed": SEED,
        "seconds": seconds,
        "docs_per_second": produced / seconds,
        "stages": {
            name: {"seconds": s, "docs_per_second": args.n / s if s else None}
            for name, s in stage_seconds.items()
        },
        "reference_seconds": reference,
        "reference_docs_per_second": args.n / reference,
        "ratio_to_reference": (produced / seconds) / (args.n / reference),
        "target_docs_per_second": TARGET_DOCS_PER_SECOND,
        "dev_scores": {name: card.get("scores") for name, card in analyzer.models.cards.items()},
        "demo_agreement": agreement,
        "machine": machine_info(),
        "commit": git_commit(),
    }
    print_report(Console(), result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def print_report(console: Console, r: dict[str, Any]) -> None:
    table = Table(title=f"analysis of {r['n']:,} items, {r['terms']:,} subject terms")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    table.add_column("docs/s", justify="right")
    for name, s in r["stages"].items():
        table.add_row(name, f"{s['seconds']:.2f}", f"{s['docs_per_second']:,.0f}")
    table.add_row("[bold]end to end[/bold]", f"{r['seconds']:.2f}", f"{r['docs_per_second']:,.0f}")
    table.add_row(
        "reference (hashed char 1–3-gram LR, predict only)",
        f"{r['reference_seconds']:.2f}",
        f"{r['reference_docs_per_second']:,.0f}",
    )
    console.print(table)
    met = "met" if r["docs_per_second"] >= r["target_docs_per_second"] else "NOT met"
    console.print(
        f"whole analysis ÷ reference predict: {r['ratio_to_reference']:.2f}; "
        f"target {r['target_docs_per_second']:,.0f} docs/s {met}"
    )
    scores = Table(title="dev-split scores (model cards)")
    scores.add_column("model")
    scores.add_column("scores")
    for name, value in r["dev_scores"].items():
        scores.add_row(name, json.dumps(value, ensure_ascii=False))
    console.print(scores)
    agreement = {k: v for k, v in r["demo_agreement"].items() if k != "grade_confusion"}
    console.print("demo labels:", json.dumps(agreement, ensure_ascii=False))


if __name__ == "__main__":
    raise SystemExit(main())
