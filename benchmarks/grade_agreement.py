"""How the grades the whole pipeline stores agree with the labels written for the demo items.

`yuqing demo`'s organization, subjects and 345 items go through the full pipeline (with the
unit tree, so institutions and regions are counted as the office would see them) into a fresh
SQLite database; each stored grade is compared with the item's `labels.grade`. Baseline in the
same run: always answering the most common label (一般). Printed: exact agreement, negative or
not, how many of each grade were given and labelled, and the confusions; written to JSON.

    .venv/bin/python benchmarks/grade_agreement.py
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, git_commit, machine_info
from yuqing.demo import install_demo
from yuqing.settings import Settings
from yuqing.store.db import open_database
from yuqing.store.tables import Item

DEMO_ITEMS = REPO / "src" / "yuqing" / "demo" / "items.jsonl"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "grade_agreement.json"
GRADES = ("positive", "general", "attention", "harmful", "dangerous")
NEGATIVE = {"attention", "harmful", "dangerous"}


def stored_grades() -> dict[str, str]:
    """External id → the grade the pipeline stored, over a fresh demo database."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), database_url=f"sqlite:///{folder}/y.db")
        db = open_database(settings.resolved_database_url)
        install_demo(db, settings, datetime.now(UTC))
        with db.session() as session:
            rows = session.execute(select(Item.external_id, Item.grade)).all()
        db.dispose()
    return {external: grade for external, grade in rows if external and grade}


def agreement(got: dict[str, str], labels: dict[str, str]) -> dict[str, Any]:
    keys = [k for k in got if k in labels]
    n = len(keys)
    majority = Counter(labels[k] for k in keys).most_common(1)[0][0]
    confusion = Counter((labels[k], got[k]) for k in keys if labels[k] != got[k])
    return {
        "items": n,
        "grade_exact": sum(got[k] == labels[k] for k in keys) / n,
        "negative_or_not": sum((got[k] in NEGATIVE) == (labels[k] in NEGATIVE) for k in keys) / n,
        "baseline_majority": majority,
        "baseline_grade_exact": sum(labels[k] == majority for k in keys) / n,
        "baseline_negative_or_not": sum(
            (majority in NEGATIVE) == (labels[k] in NEGATIVE) for k in keys
        )
        / n,
        "given": {g: sum(got[k] == g for k in keys) for g in GRADES},
        "labelled": {g: sum(labels[k] == g for k in keys) for g in GRADES},
        "confusion": {f"{a}->{b}": c for (a, b), c in sorted(confusion.items())},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DEMO_ITEMS.read_text("utf-8").splitlines() if line]
    labels = {row["id"]: row["labels"]["grade"] for row in rows}
    result = agreement(stored_grades(), labels)
    console = Console()
    table = Table("measure", "pipeline", f"always {result['baseline_majority']}", "ratio")
    for name in ("grade_exact", "negative_or_not"):
        ours, base = result[name], result[f"baseline_{name}"]
        table.add_row(name, f"{ours:.3f}", f"{base:.3f}", f"{ours / base:.2f}×")
    console.print(table)
    counts = Table("grade", "given", "labelled")
    for grade in GRADES:
        counts.add_row(grade, str(result["given"][grade]), str(result["labelled"][grade]))
    console.print(counts)
    console.print("confusions (label->given):", result["confusion"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine_info(), "commit": git_commit(), "result": result}
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=2), "utf-8")
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
