"""Crawled text is hostile: markdown, mentions and HTML in titles and content come out as
text on every channel; only our own labelled lines become links."""

from __future__ import annotations

from datetime import UTC, datetime

from yuqing.alerts.messages import (
    html_document,
    item_alert,
    line,
    markdown_lines,
    markdown_title,
    neutralize_markdown,
    one_line,
    plain_text,
)
from yuqing.standard import load_standard
from yuqing.store.alerts import ItemFacts

HOSTILE_TITLE = (
    '# 紧急 **通知** [点此领取](http://evil.example/x) <font color="warning">@all</font>'
)


def _facts(**extra: object) -> ItemFacts:
    values: dict[str, object] = {
        "id": 7,
        "title": HOSTILE_TITLE,
        "content": "正文第一行\n## 第二行是标题？\n- 列表\n> 引用",
        "url": "https://bbs.example/t/1?a=(1)&b=[2]",
        "platform": "forum",
        "media_tier": "local",
        "published_at": datetime(2026, 11, 21, 1, 30, tzinfo=UTC),
        "discovered_at": datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        "category": "301",
        "grade_reasons": [],
        "source_name": "某论坛\n查看详情：http://evil.example/phish",
        "subject_names": ["云岭农商银行"],
        **extra,
    }
    return ItemFacts(**values)  # type: ignore[arg-type]


def _compose(**extra: object) -> tuple[str, str]:
    return item_alert(
        load_standard(),
        _facts(**extra),
        grade="harmful",
        previous=None,
        reasons=[
            {
                "rule": "negative_many_views",
                "text": "负面信息总点击量达到一万以上",
                "evidence": {"views": 52000, "at_least": 10000},
            },
            {"rule": "default", "text": "默认", "evidence": {}},
        ],
        override=None,
        public_url="https://yuqing.bank.test/",
        timezone="Asia/Shanghai",
    )


def test_the_message_says_what_the_office_needs_in_chinese() -> None:
    title, body = _compose(event_id=3, event_title="储户排队", event_items=5, event_sites=3)
    assert title.startswith("【有害】舆情预警：# 紧急 **通知**")
    lines = body.split("\n")
    assert lines[:3] == [
        "等级：有害",
        "分类：301 案件风险",
        "平台/来源：论坛 / 某论坛 查看详情：http://evil.example/phish",
    ]
    assert "发布时间：2026-11-21 09:30" in lines  # local time
    assert "匹配主题：云岭农商银行" in lines
    assert "· 负面信息总点击量达到一万以上（浏览 52000）" in lines
    assert not any("默认" in x for x in lines)
    assert "所属事件：储户排队（共 5 条，3 个站点）" in lines
    assert lines[-3:] == [
        "原文链接：https://bbs.example/t/1?a=(1)&b=[2]",
        "查看详情：https://yuqing.bank.test/items/7",
        "事件详情：https://yuqing.bank.test/events/3",
    ]


def test_crawled_line_breaks_cannot_start_a_line_of_their_own() -> None:
    _, body = _compose()
    # The source name tried to add a link line; it stays inside its own line.
    assert [x for x in body.split("\n") if x.startswith("查看详情")] == [
        "查看详情：https://yuqing.bank.test/items/7"
    ]
    assert one_line("a\u2028b\x1c c\r\nd\x00e") == "a b c d e"


def test_markdown_renders_hostile_text_as_text() -> None:
    title, body = _compose()
    rendered = "\n".join([markdown_title(title), *markdown_lines(body)])
    for syntax in ("# 紧急", "**通知**", "[点此领取]", "](http://evil.example", "<font", "@all"):
        assert syntax not in rendered
    assert "＃ 紧急 ＊＊通知＊＊ ［点此领取］（http：//evil.example/x）" in rendered
    assert "http://evil.example/phish" not in rendered  # a bare address is not linked either
    # Our own links stay links, their targets percent-encoded so they cannot break out.
    assert "[原文链接](https://bbs.example/t/1?a=%281%29&b=%5B2%5D)" in rendered
    assert "[查看详情](https://yuqing.bank.test/items/7)" in rendered
    assert neutralize_markdown("- 列表") == "－ 列表"
    assert neutralize_markdown("1. 第一") == "1． 第一"


def test_a_link_line_with_a_script_address_is_not_linked() -> None:
    rendered = markdown_lines(line("原文链接", "javascript:alert(1)"))
    assert rendered == ["原文链接：javascript:alert（1）"]
    assert "<a" not in html_document("t", line("原文链接", "javascript:alert(1)"))


def test_feishu_text_cannot_mention_everyone() -> None:
    assert plain_text('<at user_id="all">所有人</at>') == '＜at user_id="all"＞所有人＜/at＞'


def test_html_email_escapes_everything_but_our_links() -> None:
    title, body = _compose(content="<script>alert(1)</script><img src=x onerror=alert(2)>")
    document = html_document(title, body)
    assert "<script>" not in document and "<img" not in document and "<font" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert '<a href="https://bbs.example/t/1?a=%281%29&amp;b=%5B2%5D">原文链接</a>' in document
