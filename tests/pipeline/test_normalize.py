"""The normalize stage: clean items from raw records, one ItemError per bad record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.domain import Metrics, RawItem
from yuqing.domain.enums import MediaTier, Platform
from yuqing.domain.text import to_match_text
from yuqing.pipeline.base import Batch, ItemError
from yuqing.pipeline.normalize import (
    MAX_AUTHOR_CHARS,
    MAX_TITLE_CHARS,
    Normalize,
    content_hash,
    normalize_whitespace,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)


def stage(max_content_chars: int = 2000) -> Normalize:
    return Normalize(SHANGHAI, max_content_chars, now=lambda: NOW)


def run(*raws: RawItem, max_content_chars: int = 2000) -> Batch:
    return stage(max_content_chars).process(Batch(raw=list(raws)))


def one_error(raw: RawItem, max_content_chars: int = 2000) -> ItemError:
    batch = run(raw, max_content_chars=max_content_chars)
    assert batch.items == []
    assert len(batch.errors) == 1
    return batch.errors[0]


# --- normalize_whitespace --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("正文", "正文"),
        ("  前后空白  ", "前后空白"),
        ("a  b\t\tc", "a b c"),
        ("全角\u3000\u3000空格", "全角 空格"),
        ("不换行\xa0空格\u2002与\u202f窄空格", "不换行 空格 与 窄空格"),
        ("零\u200b宽\u200c字\u200d符\ufeff与\u2060连接", "零宽字符与连接"),
        ("控制\x00字\x07符\x1b\x7f\x85", "控制字符"),
        ("保留\t制表", "保留 制表"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("a\u2028b\u2029c", "a\nb\nc"),
        ("行尾空格   \n   行首空格", "行尾空格\n行首空格"),
        ("一\n\n\n\n二", "一\n\n二"),
        ("一\n \n \n \n二", "一\n\n二"),
        ("一\n\n二", "一\n\n二"),
        ("\n\n 开头和结尾 \n\n", "开头和结尾"),
        ("a \u200b b", "a b"),
        ("分页\x0c符", "分页 符"),
    ],
)
def test_normalize_whitespace(text: str, expected: str) -> None:
    assert normalize_whitespace(text) == expected


_MESSY = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\n\r\u3000\xa0\u200b\u200d\ufeff\u2060\x00\x0b\x0c\x1f\x85\u2028ab中"),
        st.characters(),
    ),
    max_size=80,
)


@given(_MESSY)
def test_normalize_whitespace_is_idempotent_and_tidy(text: str) -> None:
    once = normalize_whitespace(text)
    assert normalize_whitespace(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert "\n\n\n" not in once
    assert not any(line != line.strip() for line in once.split("\n"))
    assert not any(char in once for char in "\u200b\u200c\u200d\ufeff\u2060\r\t\x00\u3000")


# --- content_hash ----------------------------------------------------------------------


def test_content_hash_is_128_bit_hex() -> None:
    digest = content_hash("标题", "正文")
    assert len(digest) == 32
    int(digest, 16)


def test_content_hash_ignores_whitespace_but_not_the_split() -> None:
    assert content_hash("某 银行", "挤兑\n传闻") == content_hash("某银行", "挤 兑 传 闻")
    assert content_hash("ab", "c") != content_hash("a", "bc")
    assert content_hash("标题", "正文") != content_hash("标题", "正文。")


_WHITESPACE = st.text(alphabet=" \t\n\r\u3000\xa0\x0b\x0c\x1c\x1f\u2028", min_size=1, max_size=3)


@given(st.text(max_size=30), st.text(max_size=80), st.data())
def test_content_hash_ignores_whitespace_differences(
    title: str, content: str, data: st.DataObject
) -> None:
    def respace(text: str) -> str:
        pieces = [data.draw(st.one_of(st.just(""), _WHITESPACE)) + char for char in text]
        return "".join(pieces) + data.draw(st.one_of(st.just(""), _WHITESPACE))

    assert content_hash(respace(title), respace(content)) == content_hash(title, content)


# --- the stage -------------------------------------------------------------------------


def good(**fields: object) -> RawItem:
    values: dict[str, object] = {
        "content": "某农商行网点门口排起长队，储户称取不出钱。",
        "title": "某农商行网点排长队",
        "origin": "feed.jsonl:1",
    }
    values.update(fields)
    return RawItem(**values)  # type: ignore[arg-type]


def test_good_record_becomes_item() -> None:
    raw = good(
        title="  某農商行　網點排長隊 ",
        content="正文第一段\r\n\r\n\r\n第二段\u200b",
        url=" HTTPS://News.Example.com:443/a/1.html?utm_source=wx&id=1#top ",
        author=" 新华社  记者 ",
        platform=Platform.NEWS,
        media_tier=MediaTier.NATIONAL,
        region=" 浙江 ",
        published="3小时前",
        discovered_at=datetime(2026, 11, 3, 2, 0, tzinfo=UTC),
        metrics=Metrics(views=100, reposts=0),
        external_id="x1",
    )
    batch = run(raw)
    assert batch.errors == []
    [item] = batch.items
    assert item.raw is raw
    assert item.title == "某農商行 網點排長隊"
    assert item.content == "正文第一段\n\n第二段"
    assert item.url == "HTTPS://News.Example.com:443/a/1.html?utm_source=wx&id=1#top"
    assert item.canonical_url == "https://news.example.com/a/1.html?id=1"
    assert item.host == "news.example.com"
    assert item.author == "新华社 记者"
    assert item.platform is Platform.NEWS
    assert item.media_tier is MediaTier.NATIONAL
    assert item.region == "浙江"
    assert item.discovered_at == datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    assert item.published_at == datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
    assert item.metrics == Metrics(views=100, reposts=0)
    assert item.match_title == to_match_text("某農商行 網點排長隊") == "某农商行 网点排长队"
    assert item.match_content == to_match_text(item.content)
    assert item.content_hash == content_hash(item.match_title, item.match_content)
    assert item.duplicate_of is None and item.subjects == [] and item.id is None


def test_defaults_use_the_clock_and_leave_absent_fields_empty() -> None:
    [item] = run(good(url=None, author="   ", region="", published=None)).items
    assert item.discovered_at == NOW
    assert item.published_at is None
    assert item.url is None and item.canonical_url is None and item.host is None
    assert item.author is None
    assert item.region is None


def test_clock_is_read_once_per_batch() -> None:
    readings: list[datetime] = []

    def clock() -> datetime:
        readings.append(NOW + timedelta(seconds=len(readings)))
        return readings[-1]

    batch = Normalize(SHANGHAI, 2000, now=clock).process(Batch(raw=[good(), good(), good()]))
    assert len(readings) == 1
    assert {item.discovered_at for item in batch.items} == {NOW}


def test_naive_discovery_time_is_local() -> None:
    [item] = run(good(discovered_at=datetime(2026, 11, 3, 10, 0), published="刚刚")).items
    assert item.discovered_at == datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
    assert item.published_at == item.discovered_at


def test_relative_times_are_read_against_discovery_not_now() -> None:
    discovered = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
    [item] = run(good(discovered_at=discovered, published="昨天 08:00")).items
    assert item.published_at == datetime(2026, 9, 30, 0, 0, tzinfo=UTC)


def test_html_content_and_title_become_text() -> None:
    raw = good(
        title="<b>标题</b>&nbsp;<i>二</i>",
        content="<p>第一段</p><script>var secret = 1;</script><p>第二段&amp;更多</p>",
        is_html=True,
    )
    [item] = run(raw).items
    assert item.title == "标题 二"
    assert item.content == "第一段\n\n第二段&更多"


def test_markup_is_detected_without_the_flag() -> None:
    [item] = run(good(content="正文<br>第二行<script>x()</script>", title="a&amp;b")).items
    assert item.content == "正文\n第二行"
    assert item.title == "a&b"


def test_plain_text_with_angle_brackets_is_kept() -> None:
    [item] = run(good(content="收益率 a<b 且 c>d，AT&T 回应")).items
    assert item.content == "收益率 a<b 且 c>d，AT&T 回应"


def test_multi_line_title_becomes_one_line() -> None:
    [item] = run(good(title="第一行\n\n第二行\n第三行", content="<p>x</p>", is_html=True)).items
    assert item.title == "第一行 第二行 第三行"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (good(content=""), "内容为空"),
        (good(content=" \n\u3000\u200b "), "内容为空"),
        (good(content="<script>only()</script><style>p{}</style>", is_html=True), "内容为空"),
        (good(content="字" * 2001), "内容过长：2001 个字符，上限 2000"),
        (
            good(title="题" * (MAX_TITLE_CHARS + 1)),
            f"标题过长：1001 个字符，上限 {MAX_TITLE_CHARS}",
        ),
        (
            good(author="名" * (MAX_AUTHOR_CHARS + 1)),
            f"作者过长：201 个字符，上限 {MAX_AUTHOR_CHARS}",
        ),
        (good(url="ftp://example.com/a"), "不支持的链接协议 'ftp'：'ftp://example.com/a'"),
        (good(url="www.example.com/a"), "链接缺少协议"),
        (good(url="http:///a"), "链接缺少主机名"),
        (good(published="上个世纪"), "无法识别的发布时间：'上个世纪'"),
        (good(published="2099-01-01"), "发布时间晚于发现时间一天以上：'2099-01-01'"),
        (good(published="1980-01-01"), "发布时间早于 1990 年：'1980-01-01'"),
        (good(metrics=Metrics(views=-1)), "阅读数不能为负数：-1"),
        (good(metrics=Metrics(likes=3, comments=-2)), "评论数不能为负数：-2"),
        (good(metrics=Metrics(reposts=-5)), "转发数不能为负数：-5"),
        (good(metrics=Metrics(likes=-7)), "点赞数不能为负数：-7"),
    ],
)
def test_bad_record_becomes_one_error(raw: RawItem, message: str) -> None:
    error = one_error(raw)
    assert error.error == message or error.error.startswith(message)
    assert error.where == "feed.jsonl:1"
    assert error.line == 1


def test_content_limit_is_inclusive_and_counts_normalized_text() -> None:
    assert run(good(content="字" * 2000)).errors == []
    assert run(good(content="  " + "字" * 2000 + "\n\n\n")).errors == []
    assert run(good(content="<p>" + "字" * 2000 + "</p>", is_html=True)).errors == []


def test_error_messages_cut_long_values() -> None:
    error = one_error(good(url="ftp://example.com/" + "x" * 5000))
    assert len(error.error) < 130
    error = one_error(good(title="题" * 5000))
    assert len(error.error) < 130


def test_wrongly_typed_record_is_an_error_not_a_crash() -> None:
    raw = good(origin="feed.jsonl:9")
    raw.content = None  # type: ignore[assignment]
    error = one_error(raw)
    assert error.error.startswith("记录的字段类型错误")
    assert error.line == 9


def test_wrongly_typed_count_is_an_error_not_a_crash() -> None:
    error = one_error(good(metrics=Metrics(views="12")))  # type: ignore[arg-type]
    assert error.error.startswith("记录的字段类型错误")


@pytest.mark.parametrize(
    ("origin", "line"),
    [
        ("feed.jsonl:17", 17),
        ("C:/data/feed.jsonl:3", 3),
        ("rss 某论坛", None),
        ("", None),
        ("feed.jsonl:", None),
        ("sheet.xlsx:row", None),
    ],
)
def test_error_line_comes_from_origin(origin: str, line: int | None) -> None:
    error = one_error(good(content="", origin=origin))
    assert error.where == origin
    assert error.line == line


def test_batch_keeps_good_records_and_reports_each_bad_one() -> None:
    raws = [
        good(origin="in.jsonl:1", title="好一"),
        good(origin="in.jsonl:2", content="   "),
        good(origin="in.jsonl:3", title="好二", url="https://e.com/a?spm=1"),
        good(origin="in.jsonl:4", url="gopher://e.com/"),
        good(origin="in.jsonl:5", published="明年某天"),
        good(origin="in.jsonl:6", title="好三", published="2026-11-03 08:00"),
        good(origin="in.jsonl:7", metrics=Metrics(views=-3)),
    ]
    existing = ItemError("earlier", "earlier stage")
    batch = stage().process(Batch(raw=raws, errors=[existing]))
    assert [item.title for item in batch.items] == ["好一", "好二", "好三"]
    assert batch.items[1].canonical_url == "https://e.com/a"
    assert batch.errors[0] is existing
    assert [(e.where, e.line) for e in batch.errors[1:]] == [
        ("in.jsonl:2", 2),
        ("in.jsonl:4", 4),
        ("in.jsonl:5", 5),
        ("in.jsonl:7", 7),
    ]
    assert ["内容为空" in e.error for e in batch.errors[1:]] == [True, False, False, False]
    assert batch.raw == raws


def test_repeats_differing_in_whitespace_share_a_hash() -> None:
    first, second, third = run(
        good(title="某银行 挤兑", content="储户排队\n取款"),
        good(title="某銀行挤兑", content="储户 排队 取款", is_html=True),
        good(title="某银行挤兑", content="储户排队取款。"),
    ).items
    assert first.content_hash == second.content_hash
    assert first.content_hash != third.content_hash


def test_stage_has_its_name() -> None:
    assert Normalize.name == "normalize"
