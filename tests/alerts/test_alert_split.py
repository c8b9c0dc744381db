"""Splitting messages to a channel's limit: on line boundaries, never inside a character,
numbered parts, nothing lost."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.alerts.split import char_size, cut, split_message, split_text, utf8_size

PART = re.compile(r"（(\d+)/(\d+)）")


def _bodies(parts: list[str], gap: str = "\n\n") -> list[str]:
    return [p.partition(gap)[2] for p in parts]


def test_a_message_that_fits_is_one_part_without_a_number() -> None:
    assert split_message("【有害】预警", "等级：有害\n平台：论坛", 4096) == [
        "【有害】预警\n\n等级：有害\n平台：论坛"
    ]


def test_cjk_lines_split_by_utf8_bytes_on_line_boundaries() -> None:
    lines = [f"第{i:02d}行：" + "舆情" * 30 for i in range(40)]  # ~190 bytes a line
    parts = split_message("【关注】舆情预警", "\n".join(lines), 1000)
    assert len(parts) > 5
    assert all(utf8_size(p) <= 1000 for p in parts)
    total = len(parts)
    for index, part in enumerate(parts, 1):
        header = part.split("\n", 1)[0]
        assert header == f"【关注】舆情预警（{index}/{total}）"
    # Every line arrives whole, in order.
    assert [x for body in _bodies(parts) for x in body.split("\n")] == lines


def test_a_line_longer_than_a_part_is_cut_between_characters() -> None:
    line = "挤兑" * 3000 + "😀" * 10  # 18,040 bytes in one line
    parts = split_message("预警", line, 4096)
    assert all(utf8_size(p) <= 4096 for p in parts)
    assert "".join(_bodies(parts)) == line
    for part in parts:
        part.encode("utf-8").decode("utf-8")  # each part is whole UTF-8 on its own


def test_more_than_nine_parts_number_with_two_digits_and_still_fit() -> None:
    body = "\n".join(f"短信内容第{i:03d}行" for i in range(200))
    parts = split_message("【有害】预警", body, 120, measure=char_size, gap="\n")
    assert len(parts) >= 10
    assert all(len(p) <= 120 for p in parts)
    numbers = [PART.search(p.split("\n", 1)[0]) for p in parts]
    assert [int(m.group(1)) for m in numbers if m] == list(range(1, len(parts) + 1))


def test_a_huge_header_is_shortened_so_the_body_has_room() -> None:
    parts = split_message("标题" * 1000, "正文第一行\n正文第二行", 300, measure=char_size)
    assert all(len(p) <= 300 for p in parts)
    assert "…" in parts[0].split("\n", 1)[0]
    assert "正文第二行" in "".join(parts)


def test_cut_never_splits_a_multibyte_character() -> None:
    head, rest = cut("舆情预警", 7)  # 3 bytes each: two fit in 7
    assert (head, rest) == ("舆情", "预警")


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3000),
    limit=st.integers(min_value=40, max_value=5000),
)
def test_any_text_splits_within_the_limit_and_loses_nothing(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(utf8_size(p) <= limit for p in pieces)
    # Pieces join back to the text: line breaks between groups, nothing else added.
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    parts = split_message("头", text, limit)
    assert all(utf8_size(p) <= limit for p in parts)
