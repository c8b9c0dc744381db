"""HTML fragments and pages from feeds and crawls turned into plain, readable text.

Parsing is with lexbor (selectolax), a spec-compliant HTML5 parser, so unclosed tags, deep
nesting and "</p>" inside a script string are read the way a browser reads them, and no
script, style or template text reaches the item.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

# Elements whose content is code, media or metadata, never article text.
DROPPED_TAGS = (
    "head",
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "canvas",
    "audio",
    "video",
    "select",
    "button",
)
# Elements a browser lays out with a blank line around them (margins), and those it puts on
# their own line without one.
_PARAGRAPH_SELECTOR = (
    "p,h1,h2,h3,h4,h5,h6,blockquote,pre,table,ul,ol,dl,figure,hr,address,details,fieldset,form"
)
_LINE_SELECTOR = (
    "div,li,tr,dt,dd,caption,section,article,aside,header,footer,nav,main,figcaption,summary,center"
)
# Private-use characters mark breaks while the parser's own whitespace is collapsed; a run of
# them becomes one line break, or a blank line if it holds a paragraph edge or two <br>.
_LINE, _PARAGRAPH, _BR = "\ue000", "\ue001", "\ue002"
_MARKERS = re.compile("[\ue000-\ue002]")
_BREAK_RUN = re.compile("[ \ue000-\ue002]*[\ue000-\ue002][ \ue000-\ue002]*")
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_TAG_NAMES = (
    r"(?:p|br|hr|div|span|a|img|b|i|u|s|em|strong|font|li|ul|ol|dl|dt|dd|h[1-6]|table|tr|td"
    r"|th|tbody|thead|section|article|blockquote|pre|code|sup|sub|html|body|head|meta|link"
    r"|script|style|iframe|noscript|figure|figcaption|video|audio|source|center|header|footer"
    r"|nav|main|aside|label|form|input|button|svg|title|small|big|strike|del|ins|mark)"
)
_ATTRIBUTE = r"""(?:\s+[a-z_:][-\w:.]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)"""
# Tags only count with well-formed attributes, so "a<b 且 c>d" in a post is not markup.
_MARKUP_HINT = re.compile(
    rf"<(?:!--|!doctype\s|/{_TAG_NAMES}\s*>|{_TAG_NAMES}{_ATTRIBUTE}*\s*/?>)"
    r"|&(?:nbsp|amp|lt|gt|quot|apos|ldquo|rdquo|lsquo|rsquo|mdash|hellip|middot|copy|#\d{1,7}"
    r"|#x[0-9a-f]{1,6});",
    re.IGNORECASE,
)


def looks_like_html(text: str) -> bool:
    """Whether text contains common tags or entities; cheap, so plain text skips the parser.

    Only known tag names with well-formed attributes count, so a post saying "a<b 且 c>d"
    keeps its text.
    """
    if "<" not in text and "&" not in text:
        return False
    return _MARKUP_HINT.search(text) is not None


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment or page, one line per block element.

    Returns text with HTML whitespace collapsed and block boundaries as "\\n"; the caller
    applies `normalize_whitespace` for the final form.
    """
    if _MARKERS.search(html):
        html = _MARKERS.sub("", html)
    # Parse as a script-running browser does: <noscript> is then one raw text node, dropped
    # whole, instead of markup that can spill its "请启用 JavaScript" text into the body.
    tree = LexborHTMLParser(html, scripting=True)
    tree.strip_tags(list(DROPPED_TAGS))
    root = tree.root
    if root is None:
        return ""
    for pre in tree.css("pre"):
        # Inside <pre> the source's line breaks are the text's line breaks. The text nodes
        # are listed before any is replaced: replacing while traversing crashes lexbor.
        for node in [n for n in pre.traverse(include_text=True) if n.is_text_node]:
            content = node.text_content or ""
            if "\n" in content:
                node.replace_with(content.replace("\n", _BR))
    for selector, marker in ((_PARAGRAPH_SELECTOR, _PARAGRAPH), (_LINE_SELECTOR, _LINE)):
        for node in tree.css(selector):
            node.insert_before(marker)
            node.insert_after(marker)
    for node in tree.css("br"):
        node.insert_after(_BR)
    for node in tree.css("td,th"):
        node.insert_after(" ")
    text: str = root.text(deep=True, separator="")
    return _BREAK_RUN.sub(_break, _HTML_SPACE.sub(" ", text))


def _break(match: re.Match[str]) -> str:
    """A run of break markers as text: a blank line after a paragraph edge or two <br>."""
    run = match.group()
    return "\n\n" if _PARAGRAPH in run or run.count(_BR) > 1 else "\n"
