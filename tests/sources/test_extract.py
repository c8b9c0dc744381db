"""Article extraction: main text without page chrome or scripts, title, author, publish time,
counters, and selectors that override each."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuqing.domain import Metrics
from yuqing.errors import SourceError
from yuqing.sources.base import check_http_url
from yuqing.sources.extract import (
    EmptyArticleError,
    Selectors,
    check_selector,
    extract_article,
)

SITES = Path(__file__).resolve().parents[1] / "fixtures" / "sites"
NOW = datetime(2026, 11, 6, tzinfo=UTC)


def page(path: str) -> str:
    return (SITES / path).read_text(encoding="utf-8")


def test_a_news_article_gives_text_title_author_and_time_to_the_minute() -> None:
    article = extract_article(page("news/articles/3.html"), "https://x.cn/3.html", now=NOW)
    assert article.title == "市农商银行多个网点排长队 银行回应：系统升级所致"
    assert article.text.startswith("11月1日起，有网友在本地论坛发帖称")
    assert article.text.endswith("市金融监管部门也表示将持续关注相关情况。")
    assert article.text.count("\n") == 3  # four paragraphs
    for chrome in ("当前位置", "相关新闻", "版权所有", "登录", "责任编辑", "_hmt", "分享到"):
        assert chrome not in article.text
    assert article.author == "记者 陈静"
    # The page shows "2026年11月02日 10:12": local time, read by the normalize stage.
    assert article.published == "2026-11-02 10:12"
    assert article.metrics == Metrics()  # counters only with selectors


def test_selectors_override_each_field_and_read_counters() -> None:
    selectors = Selectors(
        title="#thread_subject",
        content="td.t_f",
        date=".plc .authi em",
        author=".pls .authi a",
        metrics={"views": "span.views", "comments": "span.replies"},
    )
    html = page("forum/thread-1003-1-1.html")
    article = extract_article(html, "https://x.cn/t", selectors=selectors, now=NOW)
    assert article.title == "农商行排队情况实拍，排了两个小时"
    assert article.text.split("\n\n") == [
        "今天上午在解放路网点排了两个小时，前面全是来换卡的老人。大堂经理说是系统升级，"
        "可是之前根本没看到通知。有人说取不出钱，我看存取款还是能办的，别传谣。",
        "人民广场那边也排长队，工作人员挺辛苦的。",
    ]
    assert article.author == "解放路路人"
    assert article.published == "2026-11-01 11:40"
    assert article.metrics == Metrics(views=100_000, comments=1024)  # "10w+", "1,024"


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("阅读 1.2万", 12_000),
        ("阅读 10w+", 100_000),
        ("查看: 3,521", 3521),
        ("８５６３ 次浏览", 8563),
        ("阅读数：暂无", None),
        ("", None),
    ],
)
def test_counters_are_read_from_labelled_text(shown: str, expected: int | None) -> None:
    html = f"<p>正文内容在这里。</p><span class='v'>{shown}</span>"
    article = extract_article(html, "https://x.cn/", selectors=_content_and({"views": ".v"}))
    assert article.metrics.views == expected


def test_a_counter_whose_element_is_missing_stays_unknown() -> None:
    article = extract_article(
        "<p>正文</p>", "https://x.cn/", selectors=_content_and({"likes": ".nope"})
    )
    assert article.metrics == Metrics()


def _content_and(metrics: dict[str, str]) -> Selectors:
    return Selectors(content="p", metrics=metrics)


def test_no_script_style_comment_or_noscript_text_reaches_the_article() -> None:
    html = page("hostile/script.html")
    hidden = (
        "脚本",
        "样式里的文字",
        "注释",
        "JavaScript",
        "结构化数据里的正文",
        "框架里的广告",
        "模板里的文字",
        "假段落",
        "alert",
        "display",
    )
    automatic = extract_article(html, "https://x.cn/", now=NOW)
    chosen = extract_article(html, "https://x.cn/", selectors=Selectors(content="#content"))
    for article in (automatic, chosen):
        assert article.text.startswith("11月5日，有学生在网络平台发帖称")
        assert article.text.endswith("对存在的问题绝不姑息。")
        for words in hidden:
            assert words not in article.text
    assert automatic.title == "网传滨江大学食堂食材过期 校方：已成立调查组"
    assert automatic.published == "2026-11-05 14:20"


def test_the_markups_day_wins_over_a_stamp_of_another_day() -> None:
    html = """<html><head><meta property="article:published_time" content="2026-11-02">
    </head><body><div class="side">热门 2026-11-04 09:00 另一篇</div>
    <article><h1>标题</h1><p>2026年11月02日 07:45 正文第一段，内容足够长以便提取。</p></article>
    </body></html>"""
    assert extract_article(html, "https://x.cn/", now=NOW).published == "2026-11-02 07:45"
    only_other_day = html.replace("2026年11月02日 07:45 ", "")
    assert extract_article(only_other_day, "https://x.cn/", now=NOW).published == "2026-11-02"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<p>发布于 2026-11-03T08:30:15+08:00</p>", "2026-11-03 08:30:15+08:00"),
        ("<p>2026/11/3 8:05 来源：本站</p>", "2026-11-03 08:05"),
        ("<p>今天是2026年11月3日 星期二</p>", None),  # a bare date in a header is "today"
        ("<p>2026-13-45 10:00</p>", None),  # no such day
        ("<p>2026-11-30 10:00</p>", None),  # after `now`: a parse accident
    ],
)
def test_visible_stamps(body: str, expected: str | None) -> None:
    html = f"<html><body>{body}<p>正文内容。</p></body></html>"
    assert extract_article(html, "https://x.cn/", now=NOW).published == expected


def test_a_date_selector_gives_its_stamp_or_its_own_words() -> None:
    html = "<p class='t'>发布时间：2026年11月3日 08:30 来源：滨江日报</p><p class='r'>3小时前</p>"
    stamp = Selectors(content="p", date=".t")
    words = Selectors(content="p", date=".r")
    assert extract_article(html, "https://x.cn/", selectors=stamp).published == "2026-11-03 08:30"
    assert extract_article(html, "https://x.cn/", selectors=words).published == "3小时前"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body></body></html>",
        "<html><body><script>render()</script><noscript>请启用 JavaScript</noscript></body></html>",
        "<html><body><div id='app'></div></body></html>",
    ],
)
def test_a_page_without_text_is_an_empty_article(html: str) -> None:
    with pytest.raises(EmptyArticleError, match="正文为空") as caught:
        extract_article(html, "https://x.cn/")
    assert not isinstance(caught.value, SourceError)


def test_a_content_selector_matching_nothing_is_an_empty_article() -> None:
    with pytest.raises(EmptyArticleError):
        extract_article(
            page("news/articles/1.html"), "https://x.cn/", selectors=Selectors("h1", ".x")
        )


@given(st.text(max_size=300))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_markup_gives_an_article_or_an_empty_article(html: str) -> None:
    try:
        article = extract_article(html, "https://x.cn/", now=NOW)
    except EmptyArticleError:
        return
    assert article.text.strip() == article.text != ""


def test_config_checks_name_what_is_wrong() -> None:
    assert check_http_url(" https://x.cn/a ") == "https://x.cn/a"
    for bad in ("ftp://x.cn/", "x.cn/rss", "https:///path", "javascript:alert(1)"):
        with pytest.raises(ValueError, match="http:// 或 https://"):
            check_http_url(bad)
    assert check_selector("div.list > a[href]") == "div.list > a[href]"
    with pytest.raises(ValueError, match="CSS 选择器无法解析"):
        check_selector("a[[")
