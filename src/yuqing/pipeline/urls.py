"""Canonical URLs: one spelling per page, so reposts and tracking variants dedupe by URL.

`canonicalize_url("HTTP://News.Example.com:80/a/./b?utm_source=wx&id=7#top")` gives
`"http://news.example.com/a/b?id=7"`. Errors are `ValueError`s with a Chinese message that
the normalize stage puts into the record's `ItemError`.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit

MAX_URL_CHARS = 4096

# Query parameters that say how a reader arrived, never which page they read. Matched
# case-insensitively after percent-decoding of unreserved characters.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # Ad-click identifiers (Facebook, Google Ads, Microsoft, Yandex, X, TikTok, Instagram,
        # Mailchimp, HubSpot): unique per click, so every share would look like a new page.
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        # Matomo/Piwik campaigns (utm_* and mtm_* are matched by prefix below).
        "pk_campaign",
        "pk_kwd",
        "pk_source",
        "pk_medium",
        # Alibaba/Taobao/Youku position codes, appended to every in-site link.
        "spm",
        "scm",
        # Generic share/referrer markers added by apps' share buttons.
        "from",
        "share_from",
        "share_token",
        "sharesource",
        "share_source",
        "share_medium",
        "share_plat",
        "share_tag",
        "share_session_id",
        "share_id",
        # Baidu (baijiahao, feed): `?id=…&wfr=spider&for=pc` names the crawler, not the article.
        "wfr",
        "for",
        # WeChat official-account articles: the article is __biz+mid+idx+sn; the rest is the
        # reader's session (pass_ticket and exportkey are per-user secrets we must not keep).
        "chksm",
        "scene",
        "subscene",
        "ascene",
        "srcid",
        "mpshare",
        "clicktime",
        "enterid",
        "isappinstalled",
        "devicetype",
        "nettype",
        "pass_ticket",
        "exportkey",
        "wx_header",
        "abtest_cookie",
        "sessionid",
        # Bilibili share links: viewer ids, device ids and a share timestamp.
        "vd_source",
        "bbid",
        "ts",
        "spmid",
        "unique_k",
        # Xiaohongshu share links: app version, sharer and a per-share token.
        "xhsshare",
        "xsec_source",
        "xsec_token",
        "app_platform",
        "app_version",
        "apptime",
        "appuid",
        "author_share",
        "share_from_user_hidden",
    }
)
# Families whose every member is tracking: Google Analytics campaigns (utm_source, utm_psn, …),
# Matomo campaigns, WeChat sharer ids (sharer_sharetime, sharer_shareid, …).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "mtm_", "sharer_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 characters left as they are; everything else is percent-encoded as UTF-8.
_SUB_DELIMS = "!$&'()*+,;="
# Components made only of these need no work at all: the common case, worth a fast path.
_PATH_CLEAN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_QUERY_CLEAN = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*")
_PATH_SAFE = _SUB_DELIMS + ":@/%"
_QUERY_SAFE = _SUB_DELIMS + ":@/?%"


def is_tracking_param(name: str) -> bool:
    """Whether a query parameter only tracks the reader; used to drop it from canonical URLs."""
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Return the one canonical spelling of an http(s) URL; raise ValueError if it is unusable.

    Why: the same article arrives as mobile shares, feed links and copies with tracking codes;
    only a canonical URL lets dedupe and the store see they are one page. User info
    ("user:password@") is dropped: it never names a different page and must not be stored.
    """
    text = url.strip()
    if len(text) > MAX_URL_CHARS:
        raise ValueError(f"链接过长：{len(text)} 个字符，上限 {MAX_URL_CHARS}")
    if not text:
        raise ValueError("链接为空")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"链接格式错误：{_shown(text)}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise ValueError(f"链接缺少协议（http 或 https）：{_shown(text)}")
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"不支持的链接协议 {scheme!r}：{_shown(text)}")
    host = _canonical_host(parts.hostname or "", text)
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = parts.path
    if not _PATH_CLEAN.fullmatch(path):
        path = _normalize_component(path, _PATH_SAFE, text)
    path = _remove_dot_segments(path) or "/"
    if not path.startswith("/"):
        path = "/" + path
    query = _canonical_query(parts.query, text)
    fragment = _kept_fragment(parts.fragment, text)
    return f"{scheme}://{netloc}{path}{'?' + query if query else ''}{fragment}"


def url_host(canonical: str) -> str:
    """Host name of a canonical URL (no port, IPv6 without brackets), for per-site lookups."""
    host = urlsplit(canonical).hostname
    if not host:
        raise ValueError(f"链接缺少主机名：{_shown(canonical)}")
    return host


def _canonical_host(host: str, url: str) -> str:
    """Lower-case, IDNA-encoded host; IPv6 compressed and bracketed; trailing dot dropped."""
    if ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise ValueError(f"链接主机名无效：{_shown(url)}") from None
    host = host.rstrip(".")
    if not host:
        raise ValueError(f"链接缺少主机名：{_shown(url)}")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise ValueError(f"链接主机名无效：{_shown(url)}") from None
    if not _HOST.fullmatch(host):
        raise ValueError(f"链接主机名无效：{_shown(url)}")
    return host


def _normalize_component(text: str, safe: str, url: str) -> str:
    """Percent-encode what must be encoded, upper-case escapes, decode escaped unreserved chars."""
    if "%" in text:
        text = _STRAY_PERCENT.sub("%25", text)
    try:
        text = quote(text, safe=safe)
    except UnicodeEncodeError:
        raise ValueError(f"链接含无效字符：{_shown(url)}") from None
    if "%" in text:
        text = _PERCENT.sub(_fix_escape, text)
    return text


def _fix_escape(match: re.Match[str]) -> str:
    """%7e → "~" (unreserved characters mean the same escaped or not), %e4 → %E4."""
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _canonical_query(query: str, url: str) -> str:
    """Tracking parameters removed, the rest sorted by name (stable), blank values kept."""
    if not query:
        return ""
    clean = _QUERY_CLEAN.fullmatch(query) is not None
    pairs: list[tuple[str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, sep, value = piece.partition("=")
        if not clean:
            name = _normalize_component(name, _QUERY_SAFE, url)
            value = _normalize_component(value, _QUERY_SAFE, url)
        if not is_tracking_param(name):
            pairs.append((name, sep + value))
    pairs.sort(key=lambda pair: pair[0])
    return "&".join(name + rest for name, rest in pairs)


def _kept_fragment(fragment: str, url: str) -> str:
    """Drop the fragment unless it is a client-side route ("#/news/12", "#!/p/3").

    Why: many Chinese government and campus sites use hash routing, where the fragment is
    the only thing telling two articles apart; an in-page anchor ("#top") never is.
    """
    if fragment[:1] in ("/", "!"):
        return "#" + _normalize_component(fragment, _QUERY_SAFE, url)
    return ""


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: resolve "." and ".." so /a/./b/../c and /a/c are one path."""
    if "." not in path:
        return path
    segments = path.split("/")
    if "." not in segments and ".." not in segments:
        return path
    output: list[str] = []
    for segment in segments[1:]:
        if segment == ".":
            continue
        if segment == "..":
            if output:
                output.pop()
            continue
        output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")
    return "/" + "/".join(output)


def _shown(value: str, limit: int = 80) -> str:
    """The value as it appears in a message, cut so one bad record cannot flood the log."""
    return repr(value if len(value) <= limit else value[:limit] + "…")
