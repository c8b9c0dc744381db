"""The bundled demo data covers what the demo and the evaluation rely on."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import yaml

DEMO = Path(__file__).resolve().parents[1] / "src" / "yuqing" / "demo"

GRADES = {"positive": 0.15, "general": 0.40, "attention": 0.25, "harmful": 0.12, "dangerous": 0.08}
TOP_CATEGORIES = {"000", "100", "200", "300", "400", "500", "600", "700", "800", "900"}
SUBCATEGORIES = {"301", "302", "303", "304", "305", "306", "801", "802", "803", "804", "805", "806"}
PLATFORMS = {
    "news",
    "forum",
    "tieba",
    "blog",
    "weibo",
    "wechat",
    "video",
    "complaint",
    "print",
    "broadcast",
    "other",
}
TIERS = {
    "national",
    "foreign",
    "portal",
    "provincial",
    "local",
    "popular_forum",
    "self_media",
    "other",
}
HARMS = {
    "subversion",
    "state_reputation",
    "secession",
    "ethnic_hatred",
    "rumor",
    "superstition",
    "obscenity",
    "gambling",
    "violence",
    "terrorism",
    "crime_instigation",
    "insult_defamation",
    "org_reputation",
    "secrets",
    "other_illegal",
}
LEVELS = {"head", "province", "city", "county", "branch", "department"}
KINDS = {"organization", "leader", "subsidiary", "product", "topic"}
METRICS = ("views", "reposts", "comments", "likes")
CST = timezone(timedelta(hours=8))
FIRST = datetime(2026, 10, 20, tzinfo=CST)
LAST = datetime(2026, 11, 21, tzinfo=CST)
TRACKING = ("utm_", "spm", "share_from", "refer_flag", "display")
# Characters that only occur in Traditional script; enough to tell the foreign items apart.
TRADITIONAL = set("銀說們這與國會農擠貸兌報導縣雲嶺陸")


@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    lines = (DEMO / "items.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def org() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEMO / "organization.yaml").read_text("utf-8"))
    return data


def _units(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for node in nodes:
        found.append(node)
        found.extend(_units(node.get("children") or []))
    return found


def _canonical(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.startswith(TRACKING)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _grams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def _terms(subject: dict[str, Any]) -> list[str]:
    return [subject["name"], *subject["aliases"]] if subject["kind"] != "topic" else []


def test_item_count_and_unique_ids(items: list[dict[str, Any]]) -> None:
    assert len(items) >= 330
    ids = [item["id"] for item in items]
    assert len(set(ids)) == len(ids)


def test_fields_are_typed(items: list[dict[str, Any]]) -> None:
    for item in items:
        where = item["id"]
        assert isinstance(item["id"], str), where
        assert isinstance(item["title"], str), where
        assert isinstance(item["content"], str), where
        assert 50 <= len(item["content"]) <= 600, where
        assert isinstance(item["author"], str), where
        assert item["author"], where
        assert item["url"].startswith("https://"), where
        host = urlsplit(item["url"]).hostname or ""
        assert host.endswith(".example"), where
        assert item["platform"] in PLATFORMS, where
        assert item["media_tier"] in TIERS, where
        assert item["region"] is None or isinstance(item["region"], str), where
        assert item["published_at"].endswith("+08:00"), where
        published = datetime.fromisoformat(item["published_at"])
        assert FIRST <= published < LAST, where
        assert set(item["metrics"]) == set(METRICS), where
        for value in item["metrics"].values():
            assert value is None or (isinstance(value, int) and value >= 0), where
        labels = item["labels"]
        assert labels["grade"] in GRADES, where
        assert labels["category"] in TOP_CATEGORIES | SUBCATEGORIES, where
        assert isinstance(labels["harms"], list), where
        assert set(labels["harms"]) <= HARMS, where


def test_grades_are_spread_roughly_as_planned(items: list[dict[str, Any]]) -> None:
    counts = Counter(item["labels"]["grade"] for item in items)
    for grade, share in GRADES.items():
        assert abs(counts[grade] / len(items) - share) <= 0.05, (grade, counts[grade])


def test_every_top_level_category_is_well_represented(items: list[dict[str, Any]]) -> None:
    counts = Counter(item["labels"]["category"][0] + "00" for item in items)
    for code in TOP_CATEGORIES:
        assert counts[code] >= 8, (code, counts[code])


def test_every_platform_is_present(items: list[dict[str, Any]]) -> None:
    counts = Counter(item["platform"] for item in items)
    assert set(counts) == PLATFORMS
    assert counts["print"] >= 4
    assert counts["broadcast"] >= 4


def test_negative_grades_carry_the_expected_signals(items: list[dict[str, Any]]) -> None:
    dangerous = [item for item in items if item["labels"]["grade"] == "dangerous"]
    text = "".join(item["content"] for item in dangerous)
    for signal in ("挤兑", "破产", "聚集", "董事长"):
        assert signal in text, signal
    assert any("rumor" in item["labels"]["harms"] for item in dangerous)
    assert any("insult_defamation" in item["labels"]["harms"] for item in dangerous)
    harmful = [item for item in items if item["labels"]["grade"] == "harmful"]
    assert any(item["media_tier"] == "national" for item in harmful)
    assert any(item["media_tier"] == "portal" for item in harmful)


def test_urls_are_distinct_except_resightings(items: list[dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for item in items:
        if "duplicate_of" in item["labels"]:
            continue
        canonical = _canonical(item["url"])
        assert canonical not in seen, (item["id"], seen.get(canonical))
        seen[canonical] = item["id"]


def test_resightings_repeat_an_earlier_line_with_larger_metrics(
    items: list[dict[str, Any]],
) -> None:
    position = {item["id"]: n for n, item in enumerate(items)}
    by_id = {item["id"]: item for item in items}
    again = [item for item in items if "duplicate_of" in item["labels"]]
    assert len(again) >= 5
    for item in again:
        first = by_id[item["labels"]["duplicate_of"]]
        assert position[first["id"]] < position[item["id"]]
        assert "duplicate_of" not in first["labels"]
        assert _canonical(item["url"]) == _canonical(first["url"])
        assert (item["title"], item["content"]) == (first["title"], first["content"])
        assert item["published_at"] == first["published_at"]
        grew = False
        for key in METRICS:
            old, new = first["metrics"][key], item["metrics"][key]
            if old is not None:
                assert new is not None and new >= old, (item["id"], key)
            grew = grew or (new is not None and (old is None or new > old))
        assert grew, item["id"]


def test_stories_are_near_copies_of_their_origin(items: list[dict[str, Any]]) -> None:
    by_id = {item["id"]: item for item in items}
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        if "story" in item["labels"]:
            members[item["labels"]["story"]].append(item)
    assert len(members) >= 20
    for origin_id, group in members.items():
        origin = by_id[origin_id]
        assert "story" not in origin["labels"], origin_id
        assert "duplicate_of" not in origin["labels"], origin_id
        assert 2 <= len(group) + 1 <= 8, origin_id
        origin_grams = _grams(origin["content"])
        close = 0
        for member in group:
            assert member["published_at"] > origin["published_at"], member["id"]
            assert _canonical(member["url"]) != _canonical(origin["url"]), member["id"]
            grams = _grams(member["content"])
            if len(grams & origin_grams) >= 0.6 * len(grams):
                close += 1
        assert close >= 1, origin_id


def test_traditional_and_html_items_are_included(items: list[dict[str, Any]]) -> None:
    traditional = [item for item in items if TRADITIONAL & set(item["content"])]
    assert len(traditional) >= 6
    assert all(item["media_tier"] == "foreign" for item in traditional)
    markup = [
        item
        for item in items
        if any(tag in item["content"] for tag in ("<p>", "<br", "&nbsp;", "<div"))
    ]
    assert len(markup) >= 4
    assert any("<script>" in item["content"] and "onerror=" in item["content"] for item in markup)


def test_units_form_a_tree_with_unique_codes(org: dict[str, Any]) -> None:
    assert org["organization"]["name"]
    assert org["organization"]["short_name"]
    units = _units(org["units"])
    codes = [unit["code"] for unit in units]
    assert len(set(codes)) == len(codes)
    levels = Counter(unit["level"] for unit in units)
    assert levels["city"] == 3
    assert 6 <= levels["county"] <= 9
    for unit in units:
        assert unit["code"].isascii(), unit["code"]
        assert unit["level"] in LEVELS, unit["code"]
        assert unit["name"], unit["code"]
        for contact in ("contact_a", "contact_b"):
            assert set(unit[contact]) == {"name", "phone", "email"}, unit["code"]


def test_subjects_belong_to_existing_units(org: dict[str, Any]) -> None:
    codes = {unit["code"] for unit in _units(org["units"])}
    kinds = Counter()
    for subject in org["subjects"]:
        assert subject["unit"] in codes, subject["name"]
        assert subject["kind"] in KINDS, subject["name"]
        assert isinstance(subject["aliases"], list), subject["name"]
        assert isinstance(subject["exclude"], list), subject["name"]
        kinds[subject["kind"]] += 1
        rule = subject["rule"]
        if subject["kind"] == "topic":
            assert isinstance(rule, str), subject["name"]
            assert rule.count("(") == rule.count(")"), subject["name"]
        else:
            assert rule is None, subject["name"]
    assert 3 <= kinds["leader"] <= 4
    assert 2 <= kinds["subsidiary"] <= 3
    assert kinds["product"] == 2
    assert kinds["topic"] == 2
    rules = [s["rule"] for s in org["subjects"] if s["rule"]]
    assert any("near(" in rule for rule in rules)
    assert any("!" in rule for rule in rules)


def test_some_items_are_noise_and_some_are_homonym_traps(
    items: list[dict[str, Any]], org: dict[str, Any]
) -> None:
    subjects = [s for s in org["subjects"] if s["kind"] != "topic"]
    untouched = 0
    trapped = 0
    for item in items:
        text = (item["title"] + item["content"]).lower()
        named = [s for s in subjects if any(t.lower() in text for t in _terms(s))]
        if not named:
            untouched += 1
        elif all(any(e.lower() in text for e in s["exclude"]) for s in named):
            trapped += 1
    assert 0.06 <= untouched / len(items) <= 0.16
    assert trapped >= 5
