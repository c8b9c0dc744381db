"""Import files → RawItem or RowError: every format and encoding, and every hostile row."""

from __future__ import annotations

import csv
import io
import re
import tempfile
import tracemalloc
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuqing.domain import MediaTier, Metrics, Platform, RawItem
from yuqing.errors import InputError
from yuqing.ingest import files
from yuqing.ingest.encoding import MAX_LINE_BYTES, detect_sample
from yuqing.ingest.fields import MEDIA_TIER_NAMES, PLATFORM_NAMES, parse_count
from yuqing.ingest.files import RowError, read_records, record_to_raw

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
BEIJING = timezone(timedelta(hours=8))

# The same two records in every format; Chinese values exercise the encodings.
ROWS: list[dict[str, str]] = [
    {
        "id": "1",
        "title": "某农商行网点排长队",
        "content": "储户反映取款困难，网点门口排起长队。",
        "url": "https://news.example.com/a/1.html",
        "author": "张三",
        "platform": "微博",
        "media_tier": "地方媒体",
        "region": "浙江省杭州市",
        "published_at": "2026-11-03 08:00",
        "views": "1.2万",
        "likes": "10",
    },
    {
        "id": "2",
        "title": "服务好评",
        "content": "<p>柜员耐心解答，值得点赞</p>",
        "url": "https://bbs.example.com/t/2",
        "author": "李四",
        "platform": "论坛",
        "media_tier": "热门论坛",
        "region": "江苏省",
        "published_at": "3小时前",
        "views": "10w+",
        "likes": "0",
    },
]
CHINESE_HEADERS = {
    "id": "id",
    "title": "标题",
    "content": "正文",
    "url": "链接",
    "author": "作者",
    "platform": "平台",
    "media_tier": "媒体级别",
    "region": "地区",
    "published_at": "发布时间",
    "views": "阅读量",
    "likes": "点赞数",
}
ENCODINGS = ["utf-8", "utf-8-sig", "gbk", "utf-16"]


def expected(path: Path, lines: list[int]) -> list[RawItem]:
    return [
        RawItem(
            content=ROWS[0]["content"],
            title=ROWS[0]["title"],
            url=ROWS[0]["url"],
            author="张三",
            platform=Platform.WEIBO,
            media_tier=MediaTier.LOCAL,
            region="浙江省杭州市",
            published="2026-11-03 08:00",
            metrics=Metrics(views=12_000, likes=10),
            external_id="1",
            origin=f"{path}:{lines[0]}",
        ),
        RawItem(
            content=ROWS[1]["content"],
            title="服务好评",
            url="https://bbs.example.com/t/2",
            author="李四",
            platform=Platform.FORUM,
            media_tier=MediaTier.POPULAR_FORUM,
            region="江苏省",
            published="3小时前",
            metrics=Metrics(views=100_000, likes=0),
            external_id="2",
            origin=f"{path}:{lines[1]}",
            is_html=True,
        ),
    ]


def write_jsonl(path: Path, encoding: str) -> list[int]:
    lines = [orjson.dumps(row).decode() for row in ROWS]
    path.write_bytes("\n".join(lines).encode(encoding))
    return [1, 2]


def write_json(path: Path, encoding: str) -> list[int]:
    body = ",\n".join(orjson.dumps(row).decode() for row in ROWS)
    path.write_bytes(f"[\n{body}\n]\n".encode(encoding))
    return [2, 3]


def write_csv(path: Path, encoding: str, delimiter: str = ",", chinese: bool = True) -> list[int]:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([CHINESE_HEADERS[k] if chinese else k for k in ROWS[0]])
    writer.writerows(row.values() for row in ROWS)
    path.write_bytes(out.getvalue().encode(encoding))
    return [2, 3]


def records(path: Path, **kwargs: object) -> list[RawItem | RowError]:
    return list(read_records(path, **kwargs))  # type: ignore[arg-type]


def errors_by_line(result: list[RawItem | RowError]) -> dict[int, str]:
    return {r.line: r.error for r in result if isinstance(r, RowError)}


def items(result: list[RawItem | RowError]) -> list[RawItem]:
    return [r for r in result if isinstance(r, RawItem)]


# Good rows in every format and encoding.


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(
    ("suffix", "writer"),
    [
        (".jsonl", write_jsonl),
        (".ndjson", write_jsonl),
        (".json", write_json),
        (".csv", write_csv),
        (".csv", lambda p, e: write_csv(p, e, delimiter=";", chinese=False)),
        (".tsv", lambda p, e: write_csv(p, e, delimiter="\t")),
    ],
    ids=["jsonl", "ndjson", "json", "csv", "csv-semicolon", "tsv"],
)
def test_good_rows_parse_in_every_format_and_encoding(
    tmp_path: Path, suffix: str, writer: Callable[[Path, str], list[int]], encoding: str
) -> None:
    path = tmp_path / f"导出{suffix}"
    lines = writer(path, encoding)
    assert records(path) == expected(path, lines)


def test_xlsx_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "导出.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([CHINESE_HEADERS[k] for k in ROWS[0]])
    sheet.append(list(ROWS[0].values()))
    sheet.append([None] * 3)  # an empty row is skipped, but still counts
    sheet.append(list(ROWS[1].values()))
    book.save(path)
    assert records(path) == expected(path, [2, 4])


def test_xlsx_cell_types_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "cells.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "正文", "发布时间", "阅读量", "平台", "多余的列"])
    sheet.append([123, "正文一", datetime(2026, 11, 3, 8, 0), 1500.0, "微信", "x"])
    sheet.append([124, "正文二", "2026-11-03", 5, "不存在", None])
    sheet.append([125, None, None, 5, "新闻", None])
    sheet.append([126, "正文四", 1_762_128_000, "2,000", None, None])
    book.save(path)
    result = records(path)
    first, last = items(result)
    assert first.external_id == "123"
    assert first.published == datetime(2026, 11, 3, 8, 0, tzinfo=BEIJING)
    assert first.metrics == Metrics(views=1500)
    assert first.platform is Platform.WECHAT
    assert (last.origin, last.published, last.metrics.views) == (f"{path}:5", "1762128000", 2000)
    errors = errors_by_line(result)
    assert list(errors) == [3, 4]
    assert errors[3].startswith("字段 platform 的值 '不存在' 无效")
    assert errors[4] == "缺少字段 content（正文）"


def test_xlsx_from_another_tool_reads_without_warnings(tmp_path: Path) -> None:
    """No default style, a date cell out of range: openpyxl warns; we read values anyway."""
    made = tmp_path / "made.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["标题", "正文", "发布时间"])
    sheet.append(["甲", "正文一", "2026-11-03"])
    sheet.append(["乙", "正文二", 1e12])
    sheet["C3"].number_format = "yyyy-mm-dd"
    book.save(made)
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(made) as src, zipfile.ZipFile(path, "w") as dst:
        for entry in src.infolist():
            data = src.read(entry.filename)
            if entry.filename == "xl/styles.xml":
                data = re.sub(rb"<cellStyles.*?</cellStyles>", b"", data, flags=re.S)
            dst.writestr(entry, data)
    # pytest turns warnings into errors (pyproject), so leaking one fails this test.
    result = records(path)
    assert [r.title for r in items(result)] == ["甲", "乙"]
    assert items(result)[1].published is None  # "#VALUE!" is an empty cell


def test_xlsx_without_content_column_or_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "no-content.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["标题", "作者"])
    book.active.append(["甲", "乙"])
    book.save(path)
    with pytest.raises(InputError, match="表头中没有正文列"):
        records(path)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("标题,正文\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape("不是有效的 .xlsx 文件")):
        records(fake)


# Hostile JSON Lines: each bad line is one RowError; the good lines around it are kept.


def test_hostile_jsonl_fixture() -> None:
    path = FIXTURES / "hostile.jsonl"
    result = records(path)
    assert [r.external_id for r in items(result)] == ["a1", "a11"]
    assert [r.origin for r in items(result)] == [f"{path}:1", f"{path}:11"]
    errors = errors_by_line(result)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]  # blank lines 2 and 10 are skipped silently
    # Column 31 is the end of the 30-character line, where the closing brace is missing.
    assert errors[3] == (
        "JSON 格式错误：内容不完整，可能缺少右括号或引号（第 31 列；unexpected end of data）"
    )
    assert errors[4] == "不是 JSON 对象（是数组）"
    assert errors[5] == "缺少字段 content（正文）"
    assert errors[6].startswith("字段 platform 的值 'foo' 无效，可选：news, forum, tieba")
    assert errors[7].startswith("字段 likes 的值 -3 无效")
    assert errors[8] == "字段 title 应为字符串，实际为数组 ['列表']"
    assert errors[9].startswith("字段 views 的值 '很多' 无效")
    assert all(r.where == f"{path}:{r.line}" for r in result if isinstance(r, RowError))
    last = items(result)[1]
    assert last.is_html and last.url == "https://example.com/a"


def good_lines(encoding: str) -> list[bytes]:
    return [orjson.dumps(row).decode().encode(encoding) for row in ROWS]


@pytest.mark.parametrize(
    ("encoding", "bad"),
    [("gbk", b"\x81\x20"), ("utf-8", b"\xff\xfe"), ("utf-8", b"\xe4\xb8")],
    ids=["gbk", "utf-8", "utf-8-truncated"],
)
def test_invalid_bytes_spoil_one_jsonl_line(tmp_path: Path, encoding: str, bad: bytes) -> None:
    path = tmp_path / "bad.jsonl"
    first, second = good_lines(encoding)
    path.write_bytes(first + b"\n" + b'{"content": "' + bad + b'"}\n' + second + b"\n")
    result = records(path)
    assert [r.external_id for r in items(result)] == ["1", "2"]
    name = "gb18030" if encoding == "gbk" else "utf-8"
    assert list(errors_by_line(result)) == [2]
    assert errors_by_line(result)[2].startswith(f"第 2 行编码无效（按 {name} 解码失败）")


def test_lone_surrogate_spoils_one_utf16_line(tmp_path: Path) -> None:
    path = tmp_path / "bad16.jsonl"
    first, second = (orjson.dumps(row).decode() for row in ROWS)
    bad = '{"content": "'.encode("utf-16-le") + b"\x00\xd8" + '"}\n'.encode("utf-16-le")
    body = (first + "\n").encode("utf-16-le") + bad + (second + "\n").encode("utf-16-le")
    path.write_bytes(b"\xff\xfe" + body)
    result = records(path)
    assert [r.external_id for r in items(result)] == ["1", "2"]
    assert errors_by_line(result)[2].startswith("第 2 行编码无效（按 utf-16 解码失败）")


def test_huge_jsonl_line_is_skipped_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    first, second = good_lines("utf-8")
    huge = b'{"content": "' + b"x" * MAX_LINE_BYTES + b'"}'
    path.write_bytes(b"\n".join([first, huge, second, b""]))
    result = records(path)
    assert [r.external_id for r in items(result)] == ["1", "2"]
    assert errors_by_line(result) == {2: "第 2 行超过 10 MB，已跳过"}


def test_oversized_and_mistyped_fields(tmp_path: Path) -> None:
    path = tmp_path / "sizes.jsonl"
    rows: list[dict[str, object]] = [
        {"content": "x" * 51},
        {"content": "ok", "title": "t" * 1001},
        {"content": "ok", "author": {"name": "张三"}},
        {"content": "ok", "url": True},
        {"content": "   "},
        {"content": "ok", "metrics": [1, 2]},
        {"content": "ok", "id": "x" * 200, "region": "r" * 100},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(row) for row in rows))
    result = records(path, max_field_chars=50)
    assert errors_by_line(result) == {
        1: "字段 content 长 51 字符，超过上限 50 字符",
        2: "字段 title 长 1,001 字符，超过上限 1,000 字符",
        3: "字段 author 应为字符串，实际为对象 {'name': '张三'}",
        4: "字段 url 应为字符串，实际为布尔值 True",
        5: "字段 content（正文）为空",
        6: "字段 metrics 应为对象，实际为 [1, 2]",
    }
    assert len(items(result)) == 1


# CSV specifics.


def test_multiline_quoted_csv_field_keeps_line_numbers() -> None:
    path = FIXTURES / "multiline.csv"
    result = records(path)
    first, second = items(result)
    assert first.content == '第一行\n第二行\n第三行，含"引号"'
    assert first.origin == f"{path}:2"
    assert first.metrics.views == 1234
    assert second.origin == f"{path}:7"  # line 6 is an empty row
    assert second.metrics.views == 100_000
    errors = errors_by_line(result)
    assert list(errors) == [5, 8]
    assert "'不存在的平台'" in errors[5]
    assert errors[8].startswith("字段 views 的值 '-1' 无效")


def test_csv_bad_bytes_huge_line_and_long_field(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    long_content = "长" * 150_000  # beyond csv's default field limit, within ours
    lines = [
        "标题,正文".encode("gbk"),
        "甲,正文一".encode("gbk"),
        b"\x81\x20,x",
        b"y," + b"z" * MAX_LINE_BYTES,
        f'乙,"{long_content}"'.encode("gbk"),
        "丙,正文三".encode("gbk"),
    ]
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    result = records(path)
    assert [r.title for r in items(result)] == ["甲", "乙", "丙"]
    assert items(result)[1].content == long_content
    errors = errors_by_line(result)
    assert list(errors) == [3, 4]
    assert errors[3].startswith("第 3 行编码无效（按 gb18030 解码失败）")
    assert errors[4] == "第 4 行超过 10 MB，已跳过"


def test_csv_unclosed_quote_at_end(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.csv"
    path.write_text('标题,正文\n甲,正文一\n乙,"没有结束\n的引号\n', encoding="utf-8")
    result = records(path)
    assert [r.title for r in items(result)] == ["甲"]
    assert list(errors_by_line(result)) == [3]
    assert errors_by_line(result)[3] == "CSV 格式错误：文件结束时引号仍未闭合"


def test_csv_text_after_closing_quote(tmp_path: Path) -> None:
    path = tmp_path / "quotes.csv"
    path.write_text('标题;正文\n甲;"正文"一\n乙;正文"二"\n', encoding="utf-8")
    result = records(path)
    assert [(r.title, r.content) for r in items(result)] == [("乙", '正文"二"')]
    assert errors_by_line(result)[2].startswith("CSV 格式错误：闭合引号后应紧跟分隔符")


def test_csv_without_content_column(tmp_path: Path) -> None:
    path = tmp_path / "no-content.csv"
    path.write_text("标题,作者\n甲,乙\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"表头中没有正文列.*表头为：标题、作者"):
        records(path)


# JSON arrays.


def test_json_array_fixture() -> None:
    path = FIXTURES / "array.json"
    result = records(path)
    assert [(r.external_id, r.origin) for r in items(result)] == [
        ("1", f"{path}:2"),
        ("2", f"{path}:3"),
        ("4", f"{path}:6"),
    ]
    assert errors_by_line(result) == {5: "不是 JSON 对象（是字符串）"}
    assert items(result)[2].metrics.views == 4


def test_broken_json_array_keeps_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('[\n{"content": "一"},\n{"content": "二",\n', encoding="utf-8")
    result = records(path)
    assert [r.content for r in items(result)] == ["一"]
    assert list(errors_by_line(result)) == [4]
    assert errors_by_line(result)[4].startswith("JSON 格式错误：文件在此处结束，内容不完整")
    assert errors_by_line(result)[4].endswith("此后的记录无法读取")


def test_json_array_syntax_error_in_the_middle(tmp_path: Path) -> None:
    path = tmp_path / "middle.json"
    path.write_text('[\n{"content": "一"},\n{"content" "二"},\n{"content": "三"}\n]', "utf-8")
    result = records(path)
    assert [r.content for r in items(result)] == ["一"]
    assert errors_by_line(result)[3].startswith("JSON 格式错误：键后缺少冒号（第 12 列")


def test_json_file_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = tmp_path / "lines.json"
    lines.write_text('{"content": "一"}\n{"content": "二"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=re.escape("请把扩展名改为 .jsonl")):
        records(lines)
    empty = tmp_path / "empty.json"
    empty.write_text(" \n", encoding="utf-8")
    assert records(empty) == []
    big = tmp_path / "big.json"
    big.write_text('[{"content": "一"}]', encoding="utf-8")
    monkeypatch.setattr(files, "MAX_JSON_BYTES", 10)
    with pytest.raises(InputError, match="超过上限"):
        records(big)


# Whole-file problems raise at once.


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    supported = "不支持的文件类型 “.txt”，支持 .jsonl .json .csv .tsv .xlsx"
    with pytest.raises(InputError, match=re.escape(supported)):
        read_records(tmp_path / "a.txt")
    with pytest.raises(InputError, match="文件不存在"):
        read_records(tmp_path / "missing.jsonl")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(InputError, match="目录"):
        read_records(folder)


def test_discovered_at_from_record_or_argument(tmp_path: Path) -> None:
    path = tmp_path / "times.jsonl"
    rows = [
        {"content": "a", "discovered_at": "2026-11-03T08:00:00"},
        {"content": "b", "discovered_at": "2026-11-03T00:00:00Z"},
        {"content": "c"},
        {"content": "d", "discovered_at": "昨天"},
    ]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    result = records(path, discovered_at=datetime(2026, 11, 4, 9, 30))
    assert [r.discovered_at for r in items(result)] == [
        datetime(2026, 11, 3, 8, tzinfo=BEIJING),
        datetime(2026, 11, 3, 0, tzinfo=UTC),
        datetime(2026, 11, 4, 9, 30, tzinfo=BEIJING),
    ]
    assert "discovered_at" in errors_by_line(result)[4]
    assert "'昨天'" in errors_by_line(result)[4]
    assert items(records(path))[2].discovered_at is None


# record_to_raw directly.


def test_record_to_raw_aliases_and_values() -> None:
    raw = record_to_raw(
        {
            "ID": 42,
            " 标题 ": "标题",
            "内容": "正文",
            "正文": "另一个正文列，先到先得",
            "网址": "https://example.com",
            "发布者": "某人",
            "来源类型": "12345",
            "媒体级别": "央媒",
            "地域": "北京",
            "发布时间": 1_762_128_000,
            "浏览量": "1,234",
            "转发数": 7.0,
            "评论量": "３亿",
            "metrics": {"likes": "10万+", "views": None},
            "采集工具": "某软件",
        },
        "x:1",
        max_field_chars=100,
    )
    assert raw == RawItem(
        content="正文",
        title="标题",
        url="https://example.com",
        author="某人",
        platform=Platform.COMPLAINT,
        media_tier=MediaTier.NATIONAL,
        region="北京",
        published="1762128000",
        metrics=Metrics(views=1234, reposts=7, comments=300_000_000, likes=100_000),
        external_id="42",
        origin="x:1",
    )


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("新闻", Platform.NEWS),
        ("贴吧", Platform.TIEBA),
        ("博客", Platform.BLOG),
        ("公众号", Platform.WECHAT),
        ("短视频", Platform.VIDEO),
        ("投诉平台", Platform.COMPLAINT),
        ("报纸", Platform.PRINT),
        ("广播电视", Platform.BROADCAST),
        ("其他", Platform.OTHER),
        ("WEIBO", Platform.WEIBO),
        ("", Platform.OTHER),
    ],
)
def test_platform_names(name: str, platform: Platform) -> None:
    assert (
        record_to_raw({"content": "x", "平台": name}, "", max_field_chars=10).platform is platform
    )


def test_media_tier_names() -> None:
    expected_codes = {
        "中央媒体": "national",
        "境外媒体": "foreign",
        "门户网站": "portal",
        "省级媒体": "provincial",
        "地方媒体": "local",
        "热门论坛": "popular_forum",
        "自媒体": "self_media",
    }
    for name, code in expected_codes.items():
        assert MEDIA_TIER_NAMES[name] == code
        raw = record_to_raw({"content": "x", "media_tier": name}, "", max_field_chars=10)
        assert raw.media_tier == code
    with pytest.raises(InputError, match="字段 media_tier 的值 '县级' 无效"):
        record_to_raw({"content": "x", "media_tier": "县级"}, "a.csv:3", max_field_chars=10)


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (0, 0),
        (1234, 1234),
        (12.0, 12),
        ("1,234", 1234),
        ("1.2万", 12_000),
        ("1.23456万", 12_346),
        ("3亿", 300_000_000),
        ("10w+", 100_000),
        ("10万+", 100_000),
        ("2.5k", 2500),
        ("１２３", 123),
        (" 99 ", 99),
    ],
)
def test_parse_count_accepts(value: object, count: int) -> None:
    assert parse_count(value) == count


@pytest.mark.parametrize(
    "value", [-1, "-5", 1.5, "1.5", True, "很多", "", "1e5", float("nan"), [1], 2**63, "万"]
)
def test_parse_count_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_count(value)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_parse_count_reads_thousands_separators(n: int) -> None:
    assert parse_count(f"{n:,}") == n


@pytest.mark.parametrize(
    ("content", "is_html"),
    [
        ("<p>段落</p>", True),
        ("第一行<BR/>第二行", True),
        ('<a href="x">链接</a>', True),
        ("<h2>标题</h2>", True),
        ("1 < 2 且 <价格> 上涨", False),
        ("<abbr>不算</abbr>", False),
    ],
)
def test_is_html(content: str, is_html: bool) -> None:
    raw = record_to_raw({"content": content}, "", max_field_chars=100)
    assert raw.is_html is is_html


def test_encoding_guess_tolerates_a_few_bad_lines() -> None:
    utf8 = "某农商行网点排长队\n".encode() * 5
    gbk = "某农商行网点排长队\n".encode("gbk") * 5
    assert detect_sample(utf8 + b"\xff\n", complete=True).name == "utf-8"
    assert detect_sample(gbk + b"\x81\x20\n", complete=True).name == "gb18030"
    assert detect_sample(b"\xef\xbb\xbfabc", complete=True).bom == b"\xef\xbb\xbf"
    assert detect_sample("你好".encode("utf-16"), complete=True).name == "utf-16"
    # A sample cut inside a character is still UTF-8.
    assert detect_sample("银行".encode()[:-1], complete=False).name == "utf-8"


# Round trip and scale.

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30)
_SHORT = _TEXT.map(str.strip).filter(bool)
_RECORD = st.fixed_dictionaries(
    {"content": _TEXT.filter(lambda s: s.strip() and "<" not in s)},
    optional={
        "id": _SHORT,
        "title": _SHORT,
        "url": _SHORT,
        "author": _SHORT,
        "region": _SHORT,
        "platform": st.sampled_from(sorted(PLATFORM_NAMES)),
        "media_tier": st.sampled_from(sorted(MEDIA_TIER_NAMES)),
        "published_at": st.one_of(_SHORT, st.integers(0, 2**42)),
        "metrics": st.fixed_dictionaries(
            {},
            optional={name: st.integers(0, 2**63 - 1) for name in Metrics().as_dict()},
        ),
        "extra": st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_RECORD, max_size=20))
def test_valid_records_read_back_equal(rows: list[dict[str, object]]) -> None:
    moment = datetime(2026, 11, 4, 9, 30, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "round.jsonl"
        path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
        result = records(path, discovered_at=moment)
    want = []
    for number, row in enumerate(rows, start=1):
        published = row.get("published_at")
        want.append(
            RawItem(
                content=str(row["content"]),
                title=str(row.get("title", "")),
                url=row.get("url"),  # type: ignore[arg-type]
                author=row.get("author"),  # type: ignore[arg-type]
                platform=PLATFORM_NAMES[str(row.get("platform", "other"))],
                media_tier=MEDIA_TIER_NAMES[str(row.get("media_tier", "other"))],
                region=row.get("region"),  # type: ignore[arg-type]
                published=None if published is None else str(published),
                discovered_at=moment,
                metrics=Metrics(**row.get("metrics", {})),  # type: ignore[arg-type]
                external_id=row.get("id"),  # type: ignore[arg-type]
                origin=f"{path}:{number}",
            )
        )
    assert result == want


def test_jsonl_reading_holds_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    line = orjson.dumps({**ROWS[0], "content": "正文" * 100}) + b"\n"
    with path.open("wb") as f:
        for _ in range(20_000):
            f.write(line)
    assert path.stat().st_size > 12 << 20
    tracemalloc.start()
    try:
        count = sum(1 for r in read_records(path) if isinstance(r, RawItem))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 3 << 20  # the 1 MB encoding sample and a few lines, not the whole file


def test_dates_from_xlsx_date_cells_are_beijing_midnight() -> None:
    raw = record_to_raw({"content": "x", "发布时间": date(2026, 11, 3)}, "", max_field_chars=10)
    assert raw.published == datetime(2026, 11, 3, tzinfo=BEIJING)
