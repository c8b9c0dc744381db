"""Splitting a message to a channel's size limit: on line boundaries, parts numbered "（1/3）".

Sizes are measured the way the receiving service counts them: UTF-8 bytes for the WeCom and
DingTalk robots, characters for SMS. The text is cut only between characters, so a part never
ends in the middle of a UTF-8 sequence; a line longer than a part is cut between characters.

>>> split_message("预警", "第一行\\n第二行", 1000)
['预警\\n\\n第一行\\n第二行']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Measure = Callable[[str], int]


def utf8_size(text: str) -> int:
    """Bytes of `text` in UTF-8 (what WeCom and DingTalk count)."""
    return len(text.encode("utf-8"))


def char_size(text: str) -> int:
    """Characters of `text` (what SMS gateways and Feishu count)."""
    return len(text)


def marker(index: int, total: int) -> str:
    """The part number appended to the header of each part: "（1/3）"."""
    return f"（{index}/{total}）"


def cut(text: str, limit: int, measure: Measure = utf8_size) -> tuple[str, str]:
    """The longest head of `text` whose size is at most `limit`, and the rest."""
    if measure(text) <= limit:
        return text, ""
    low, high = 0, len(text)  # text[:low] fits, text[:high] does not
    while high - low > 1:
        middle = (low + high) // 2
        if measure(text[:middle]) <= limit:
            low = middle
        else:
            high = middle
    return text[:low], text[low:]


def pack_lines(lines: Sequence[str], budget: int, measure: Measure, sep: str) -> list[list[str]]:
    """Lines grouped so each group joined by `sep` fits `budget`; long lines are cut."""
    if budget < 1:
        raise ValueError(f"no room for any text in a part (budget {budget})")
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    sep_size = measure(sep)
    for line in lines:
        pieces = []
        rest = line
        while measure(rest) > budget:
            head, rest = cut(rest, budget, measure)
            if not head:  # one character larger than the budget: cannot happen for sane limits
                raise ValueError(f"a character does not fit a part of {budget}")
            pieces.append(head)
        pieces.append(rest)
        for piece in pieces:
            extra = measure(piece) + (sep_size if current else 0)
            if current and size + extra > budget:
                groups.append(current)
                current, size = [], 0
                extra = measure(piece)
            current.append(piece)
            size += extra
    if current or not groups:
        groups.append(current)
    return groups


def split_message(
    header: str,
    body: str,
    limit: int,
    *,
    measure: Measure = utf8_size,
    sep: str = "\n",
    gap: str = "\n\n",
) -> list[str]:
    """Whole messages of at most `limit` each: `header` + `gap` + some lines of `body`.

    With more than one part, each header ends in its number "（i/n）". A header taking more
    than half the limit is shortened (with "…") so the body always has room.
    """
    lines = body.split("\n") if sep == "\n" else body.split(sep)
    if measure(header + gap + body) <= limit:
        return [header + gap + body]
    digits = 1
    while True:
        widest = marker(10**digits - 1, 10**digits - 1)
        head = shorten(header, limit // 2 - measure(widest), measure)
        budget = limit - measure(head + widest + gap)
        groups = pack_lines(lines, budget, measure, sep)
        if len(groups) < 10**digits:
            break
        digits += 1
    total = len(groups)
    return [f"{head}{marker(i, total)}{gap}{sep.join(group)}" for i, group in enumerate(groups, 1)]


def shorten(text: str, limit: int, measure: Measure = utf8_size) -> str:
    """`text` if it fits `limit`, else its longest head that fits with "…" after it."""
    if measure(text) <= limit:
        return text
    head, _ = cut(text, max(0, limit - measure("…")), measure)
    return head + "…"


def split_text(
    text: str, limit: int, *, measure: Measure = utf8_size, sep: str = "\n"
) -> list[str]:
    """`text` in pieces of at most `limit`, cut between lines where it can (not numbered)."""
    return [sep.join(group) for group in pack_lines(text.split(sep), limit, measure, sep)]
