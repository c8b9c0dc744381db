"""HTML to readable text: visible text only, one line per block, nothing from scripts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuqing.pipeline.html import html_to_text, looks_like_html
from yuqing.pipeline.normalize import normalize_whitespace


def text_of(html: str) -> str:
    """What the normalize stage keeps: html_to_text, then whitespace normalization."""
    return normalize_whitespace(html_to_text(html))


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>第一段</p><p>第二段</p>", "第一段\n\n第二段"),
        ("<div>一行</div><div>二行</div>", "一行\n二行"),
        ("第一行<br>第二行<br/>第三行", "第一行\n第二行\n第三行"),
        ("上<br><br>下", "上\n\n下"),
        ("<ul><li>甲</li><li>乙</li></ul>", "甲\n乙"),
        ("<h1>标题</h1>正文", "标题\n\n正文"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><th>c</th></tr></table>", "a b\nc"),
        ("<blockquote>引用</blockquote>后文", "引用\n\n后文"),
        ("<section><article>内容</article></section>", "内容"),
        ("<pre>line 1\nline 2\n\nline 4</pre>", "line 1\nline 2\n\nline 4"),
        # Inline elements join without spaces, source whitespace collapses.
        ("<p>中<b>国</b><i>银</i>行</p>", "中国银行"),
        ("<p>a\n   b\t\tc</p>", "a b c"),
        # Entities.
        ("AT&amp;T &lt;b&gt; &quot;q&quot; &#20013;&#x6587; &copy;", 'AT&T <b> "q" 中文 ©'),
        ("甲&nbsp;&nbsp;乙", "甲 乙"),
        ("&ldquo;引号&rdquo;&hellip;", "“引号”…"),
        # Dropped elements.
        ("<p>正文</p><script>alert('x')</script>", "正文"),
        ("<style>p { color: red }</style><p>正文</p>", "正文"),
        ("<noscript>请启用脚本</noscript>正文", "正文"),
        (
            "<head><noscript><img src='p.gif'></noscript></head>"
            "<noscript><p>启用</p></noscript>正文",
            "正文",
        ),
        ("<template><p>模板</p></template>正文", "正文"),
        ("<iframe src='x'>框架</iframe>正文", "正文"),
        ("<object>对象<embed src='x'></object>正文", "正文"),
        ("<svg><text>矢量</text></svg>正文", "正文"),
        ("<html><head><title>标题</title><meta charset='utf-8'></head><body>正文</body>", "正文"),
        ("<!-- 注释 -->正文<!-- 另一个 -->", "正文"),
        # Hostile markup.
        ("<script>var s = '</p><p>泄露</p>';</script>正文", "正文"),
        ("<script>document.write('<script>x</scr' + 'ipt>')</script>正文", "正文"),
        ("<p>未闭合<b>粗体<i>斜体", "未闭合粗体斜体"),
        ("<script>未闭合的脚本", ""),
        ("<style>未闭合的样式", ""),
        ("<!-- 未闭合的注释 正文", ""),
        # A tag named "scr<script", then plain text, as a browser shows it.
        ("<scr<script>ipt>可见</script>正文", "ipt>可见正文"),
        ("<SCRIPT type='text/javascript'>大写</SCRIPT>正文", "正文"),
        ("<script><!-- if (a</script>正文", "正文"),
        ("<p>a</p\n>b", "a\n\nb"),
        ("</div></p></span>正文", "正文"),
        # Private-use break markers in the input never turn into line breaks.
        ("甲\ue000乙\ue001丙\ue002丁", "甲乙丙丁"),
        ("", ""),
        ("纯文本", "纯文本"),
    ],
)
def test_html_to_text(html: str, expected: str) -> None:
    assert text_of(html) == expected


def test_deep_nesting_keeps_text_and_drops_script() -> None:
    html = "<div>" * 3000 + "<span>" * 3000 + "深处<script>隐藏</script>"
    assert text_of(html) == "深处"


def test_many_unclosed_paragraphs() -> None:
    html = "<p>段" * 2000
    lines = text_of(html).split("\n\n")
    assert lines == ["段"] * 2000


def test_page_with_noise_keeps_article_text() -> None:
    page = """<!doctype html>
    <html><head><title>标题</title><style>.a{}</style><script>var t = 1;</script></head>
    <body><nav>导航</nav>
    <article><h1>某银行网点排长队</h1>
    <p>11月3日上午，&nbsp;某支行门口<a href="/x">排起长队</a>。</p>
    <p>银行回应：系正常业务。</p></article>
    <script type="application/ld+json">{"@type": "NewsArticle"}</script>
    <footer>版权所有 &copy; 2026</footer></body></html>"""
    assert text_of(page) == (
        "导航\n\n某银行网点排长队\n\n11月3日上午， 某支行门口排起长队。\n\n"
        "银行回应：系正常业务。\n\n版权所有 © 2026"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<p>正文</p>", True),
        ("正文<br>", True),
        ("正文<br/>", True),
        ("<P CLASS='x'>正文", True),
        ('<a href="https://e.com">链接</a>', True),
        ("<div\nclass=x>", True),
        ("正文</p>", True),
        ("<!-- c -->", True),
        ("<!DOCTYPE html>", True),
        ("甲&nbsp;乙", True),
        ("&#20013;", True),
        ("&#x4E2D;", True),
        ("AT&amp;T", True),
        ("纯文本", False),
        ("", False),
        ("a < b 且 c > d", False),
        ("a<b 且 c>d", False),
        ("1<2 and 3>2", False),
        ("<未知标签>", False),
        ("<custom-tag>", False),
        ("AT&T", False),
        ("R&D; 部门", False),
        ("邮箱 <someone@example.com>", False),
    ],
)
def test_looks_like_html(text: str, expected: bool) -> None:
    assert looks_like_html(text) is expected


# --- properties ------------------------------------------------------------------------

_SENTINEL = "SECRETCODE"
# Markup and text around the script, including hostile unclosed and stray tags, but nothing
# that switches the parser into a raw-text mode in which "<script>" is not a tag at all.
_AROUND = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<div>",
                "</div>",
                "<b>",
                "<span class='x'>",
                "<table><tr><td>",
                "<ul><li>",
                "<!-- comment -->",
                "&amp;",
                "&lt;script&gt;",
                "<br>",
                "</script>",
                "<h1>",
                "<pre>",
            ]
        ),
        st.text(alphabet="abc 中文\n\t&;#", max_size=8),
    ),
    max_size=6,
).map("".join)
_BODY = st.text(
    alphabet=st.one_of(st.sampled_from("<>/!-'\"`;(){}=pPdivscrSCR \n\t"), st.characters()),
    max_size=40,
).filter(lambda s: "</script" not in s.lower() and "<!--" not in s)
_SCRIPT_TAG = st.sampled_from(
    ["<script>", "<SCRIPT>", "<script type='text/javascript'>", '<script src="x.js" async>']
)


@given(_AROUND, _SCRIPT_TAG, _BODY, st.booleans(), _AROUND)
def test_script_bodies_never_leak(
    before: str, tag: str, body: str, closed: bool, after: str
) -> None:
    html = f"{before}{tag}{_SENTINEL}{body}{_SENTINEL}{'</script>' if closed else ''}{after}"
    assert _SENTINEL not in html_to_text(html)


@given(st.text(max_size=200))
def test_any_text_converts_without_markers(text: str) -> None:
    result = html_to_text(text)
    assert not any(marker in result for marker in "\ue000\ue001\ue002")


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="<>&"),
        max_size=200,
    )
)
def test_plain_text_is_kept(text: str) -> None:
    # Without markup, converting changes whitespace and nothing else (lexbor turns NUL and
    # CR into other characters, as the HTML standard says, so they are left out here).
    clean = text.replace("\x00", "").replace("\r", "").replace("\ue000", "")
    clean = clean.replace("\ue001", "").replace("\ue002", "")
    assert "".join(html_to_text(clean).split()) == "".join(clean.split())
