"""Canonical URLs: one spelling per page, tracking parameters gone, bad links refused."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from yuqing.pipeline.urls import (
    MAX_URL_CHARS,
    TRACKING_PARAMS,
    canonicalize_url,
    is_tracking_param,
    url_host,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Scheme and host case, surrounding whitespace.
        ("  HTTP://News.Example.COM/Path  ", "http://news.example.com/Path"),
        ("HTTPS://EXAMPLE.com", "https://example.com/"),
        # Default ports dropped, others kept.
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:/a", "http://example.com/a"),
        # Empty path, dot segments.
        ("http://example.com", "http://example.com/"),
        ("http://example.com?b=1", "http://example.com/?b=1"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/../../x", "http://example.com/x"),
        ("http://example.com/a/%2E%2E/b", "http://example.com/b"),
        ("http://example.com/a//b", "http://example.com/a//b"),
        # Fragments: anchors dropped, client-side routes kept.
        ("http://example.com/a#top", "http://example.com/a"),
        ("http://example.com/a#", "http://example.com/a"),
        ("http://gov.example.cn/#/news/detail?id=12", "http://gov.example.cn/#/news/detail?id=12"),
        ("http://example.com/#!/post/3", "http://example.com/#!/post/3"),
        # Tracking parameters.
        ("http://e.com/a?utm_source=wx&utm_medium=share&id=7", "http://e.com/a?id=7"),
        ("http://e.com/a?UTM_Campaign=x&utm_psn=1&id=7", "http://e.com/a?id=7"),
        ("http://e.com/a?spm=a2c.1&scm=x&id=7&from=timeline", "http://e.com/a?id=7"),
        ("http://e.com/a?fbclid=1&gclid=2&msclkid=3", "http://e.com/a"),
        (
            "https://baijiahao.baidu.com/s?id=17&wfr=spider&for=pc",
            "https://baijiahao.baidu.com/s?id=17",
        ),
        (
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=26&idx=1&sn=ab&chksm=8f&scene=21"
            "&srcid=0101&sharer_sharetime=1&sharer_shareid=2&mpshare=1&clicktime=1"
            "&enterid=1&isappinstalled=0&pass_ticket=SECRET&exportkey=K#wechat_redirect",
            "https://mp.weixin.qq.com/s?__biz=MzA&idx=1&mid=26&sn=ab",
        ),
        (
            "https://www.bilibili.com/video/BV1x?share_source=copy_web&vd_source=ab&bbid=1"
            "&ts=1700000000&share_medium=android&p=2",
            "https://www.bilibili.com/video/BV1x?p=2",
        ),
        ("http://e.com/a?share_from=x&share_token=y&sharesource=z", "http://e.com/a"),
        ("http://e.com/a?utm%5Fsource=x&id=1", "http://e.com/a?id=1"),
        # timestamp is not tracking (some sites key content on it).
        ("http://e.com/a?timestamp=5&id=1", "http://e.com/a?id=1&timestamp=5"),
        # Sorting is stable for repeated names; blank values and bare names survive.
        ("http://e.com/a?b=2&a=1&b=1", "http://e.com/a?a=1&b=2&b=1"),
        ("http://e.com/a?z=&y&x=1", "http://e.com/a?x=1&y&z="),
        ("http://e.com/a?&&a=1&", "http://e.com/a?a=1"),
        ("http://e.com/a?utm_source=x", "http://e.com/a"),
        ("http://e.com/a?q=a=b==", "http://e.com/a?q=a=b=="),
        # Percent-encoding: hex upper-cased, unreserved decoded, raw non-ASCII encoded.
        ("http://e.com/%e4%b8%ad?q=%e6%96%87", "http://e.com/%E4%B8%AD?q=%E6%96%87"),
        ("http://e.com/%7Euser/%41b", "http://e.com/~user/Ab"),
        (
            "http://e.com/新闻/中文?q=银行 挤兑",
            "http://e.com/%E6%96%B0%E9%97%BB/%E4%B8%AD%E6%96%87?q=%E9%93%B6%E8%A1%8C%20%E6%8C%A4%E5%85%91",
        ),
        ("http://e.com/100%/a%zz", "http://e.com/100%25/a%25zz"),
        ("http://e.com/a%2Fb?x=%26", "http://e.com/a%2Fb?x=%26"),
        ("http://e.com/a b", "http://e.com/a%20b"),
        ("http://e.com/q?a+b=c+d", "http://e.com/q?a+b=c+d"),
        # Hosts: IDNA, trailing dot, IPv4, IPv6, user info dropped.
        ("http://例子.中国/a", "http://xn--fsqu00a.xn--fiqs8s/a"),
        ("http://Bücher.de/", "http://xn--bcher-kva.de/"),
        ("http://example.com./a", "http://example.com/a"),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a"),
        ("http://[0:0::1]:80/a", "http://[::1]/a"),
        ("http://[2001:DB8::1]/", "http://[2001:db8::1]/"),
        ("http://user:secret@example.com/a", "http://example.com/a"),
    ],
)
def test_canonical_form(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/file", "不支持的链接协议 'ftp'"),
        ("javascript:alert(1)", "不支持的链接协议 'javascript'"),
        ("mailto:a@example.com", "不支持的链接协议 'mailto'"),
        ("www.example.com/a", "链接缺少协议"),
        ("//example.com/a", "链接缺少协议"),
        ("http:///path", "链接缺少主机名"),
        ("http://", "链接缺少主机名"),
        ("https://.", "链接缺少主机名"),
        ("", "链接为空"),
        ("   ", "链接为空"),
        ("http://example.com:99999/", "链接格式错误"),
        ("http://example.com:abc/", "链接格式错误"),
        ("http://[::1/", "链接格式错误"),
        ("http://exa mple.com/", "链接主机名无效"),
        ("http://a..b.com/", "链接主机名无效"),
        ("http://[fe80::zz]/", "链接格式错误"),
        ("http://e.com/\ud800", "链接含无效字符"),
    ],
)
def test_bad_urls_are_refused_in_words(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        canonicalize_url(url)


def test_overlong_url_names_length_and_limit() -> None:
    url = "http://e.com/" + "a" * MAX_URL_CHARS
    with pytest.raises(ValueError, match=rf"链接过长：{len(url)} 个字符，上限 {MAX_URL_CHARS}"):
        canonicalize_url(url)


def test_url_at_the_limit_is_accepted() -> None:
    url = "http://e.com/" + "a" * (MAX_URL_CHARS - len("http://e.com/"))
    assert canonicalize_url(url) == url


def test_error_message_cuts_long_values() -> None:
    with pytest.raises(ValueError) as caught:
        canonicalize_url("ftp://e.com/" + "x" * 3000)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("canonical", "host"),
    [
        ("http://news.example.com/a", "news.example.com"),
        ("https://e.com:8443/a?x=1", "e.com"),
        ("http://[::1]/", "::1"),
        ("http://xn--fsqu00a.xn--fiqs8s/", "xn--fsqu00a.xn--fiqs8s"),
    ],
)
def test_url_host(canonical: str, host: str) -> None:
    assert url_host(canonical) == host


def test_url_host_refuses_hostless() -> None:
    with pytest.raises(ValueError, match="链接缺少主机名"):
        url_host("/relative/path")


@pytest.mark.parametrize(
    ("name", "tracking"),
    [
        ("utm_source", True),
        ("UTM_Anything_At_All", True),
        ("sharer_shareinfo", True),
        ("mtm_kwd", True),
        ("Spm", True),
        ("id", False),
        ("timestamp", False),
        ("utm", False),
        ("page", False),
    ],
)
def test_is_tracking_param(name: str, tracking: bool) -> None:
    assert is_tracking_param(name) is tracking


# --- properties ------------------------------------------------------------------------

_LABEL = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
    min_size=1,
    max_size=10,
)
_HOST = st.one_of(
    st.lists(_LABEL, min_size=1, max_size=4).map(".".join),
    st.text(alphabet="新闻银行中国例子", min_size=1, max_size=4).map(lambda s: s + ".中国"),
)
_PIECE = st.text(
    alphabet=st.one_of(
        st.sampled_from("abcXYZ019-._~!$&'()*+,;=:@/%?# \"<>[]\\^`{|}新闻"),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
_TRACKING_NAME = st.one_of(
    st.sampled_from(sorted(TRACKING_PARAMS)),
    st.sampled_from(["utm_", "UTM_", "sharer_", "mtm_"]).flatmap(
        lambda prefix: _LABEL.map(lambda rest: prefix + rest)
    ),
    st.sampled_from(["utm%5Fsource", "%75tm_medium", "SPM", "FbClId"]),
)
_PARAM_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(_HOST)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(st.lists(st.one_of(_PIECE, st.sampled_from([".", ".."])), max_size=5)))
    names = draw(st.lists(st.one_of(_PARAM_NAME, _TRACKING_NAME), max_size=6))
    query = "&".join(f"{name}={draw(_PIECE)}" for name in names)
    fragment = draw(st.one_of(st.just(""), _PIECE.map(lambda s: "#" + s)))
    return f"{scheme}://{host}{port}/{path}{'?' + query if query else ''}{fragment}"


@given(_urls())
def test_canonicalization_is_idempotent(url: str) -> None:
    try:
        canonical = canonicalize_url(url)
    except ValueError:
        assume(False)
        raise
    assert canonicalize_url(canonical) == canonical
    assert canonical.isascii()


@given(st.text(max_size=60))
def test_canonicalization_of_any_text_after_host_is_idempotent(tail: str) -> None:
    try:
        canonical = canonicalize_url("https://example.com/" + tail)
    except ValueError:
        assume(False)
        raise
    assert canonicalize_url(canonical) == canonical


@given(
    st.lists(
        st.tuples(st.one_of(_PARAM_NAME, _TRACKING_NAME), st.text(alphabet="abc123", max_size=4)),
        max_size=8,
    )
)
def test_tracking_params_never_survive(pairs: list[tuple[str, str]]) -> None:
    query = "&".join(f"{name}={value}" for name, value in pairs)
    canonical = canonicalize_url(f"https://example.com/a?{query}")
    kept = [p.partition("=")[0] for p in urlsplit(canonical).query.split("&") if p]
    assert not any(is_tracking_param(name) for name in kept)
    expected = sorted(unquote(name) for name, _ in pairs if not is_tracking_param(unquote(name)))
    assert sorted(kept) == expected
