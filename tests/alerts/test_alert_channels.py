"""Each channel against a local receiver that checks shape and signature like the real
service, and email through real SMTP servers with STARTTLS or implicit TLS and AUTH."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from alert_receiver import Receiver
from alert_smtp import SMTP_PASSWORD, SMTP_USER, Certificate, Mailbox

from yuqing.alerts.channels import AlertMeta, SendResult, build_channel, masked_config
from yuqing.errors import ConfigError

TITLE = "【有害】舆情预警：云岭农商银行网点排长队"
BODY = "\n".join(
    [
        "等级：有害",
        "平台/来源：论坛 / 某论坛",
        "摘要：储户反映取不出钱",
        "原文链接：https://bbs.example/t/1",
        "查看详情：http://127.0.0.1:8000/items/7",
    ]
)
META = AlertMeta(
    grade="harmful", kind="new", item_id=7, event_id=3, url="http://127.0.0.1:8000/events/3"
)


def _send(kind: str, config: dict[str, Any], title: str = TITLE, body: str = BODY) -> SendResult:
    channel = build_channel("测试通道", kind, config, timeout=5.0)

    async def go() -> SendResult:
        async with httpx.AsyncClient() as client:
            return await channel.send(client, title, body, meta=META)

    return asyncio.run(go())


def test_wecom_posts_markdown_and_checks_errcode(receiver: Receiver) -> None:
    result = _send("wecom", {"url": f"{receiver.base}/wecom/send?key=abc"})
    assert result.ok and result.parts == 1, result
    [message] = receiver.ok("wecom")
    assert message.text.startswith("**【有害】舆情预警：云岭农商银行网点排长队**\n\n等级：有害")
    assert "[原文链接](https://bbs.example/t/1)" in message.text


def test_wecom_error_code_becomes_words(receiver: Receiver) -> None:
    receiver.fail("/wecom", 1, status=200, body={"errcode": 93000, "errmsg": "invalid webhook url"})
    result = _send("wecom", {"url": f"{receiver.base}/wecom/send?key=abc"})
    assert not result.ok
    assert result.error == "企业微信返回错误 93000：invalid webhook url"


def test_dingtalk_signs_the_address_with_its_secret(receiver: Receiver) -> None:
    receiver.secrets["dingtalk"] = "SECdingtalk-secret"
    url = f"{receiver.base}/dingtalk/robot/send?access_token=tok"
    assert _send("dingtalk", {"url": url, "secret": "SECdingtalk-secret"}).ok
    [message] = receiver.ok("dingtalk")
    assert message.data["markdown"]["title"] == TITLE
    # A wrong secret is refused by the receiver exactly as DingTalk refuses it.
    result = _send("dingtalk", {"url": url, "secret": "SECwrong"})
    assert not result.ok and result.error == "钉钉返回错误 310000：sign not match"


def test_feishu_signs_the_body_and_sends_plain_text(receiver: Receiver) -> None:
    receiver.secrets["feishu"] = "feishu-secret"
    url = f"{receiver.base}/feishu/hook/0b8c3f6e-2d4a-4f1b-9c1e-1234567890ab"
    assert _send("feishu", {"url": url, "secret": "feishu-secret"}).ok
    [message] = receiver.ok("feishu")
    assert message.text.startswith(TITLE + "\n\n等级：有害")
    result = _send("feishu", {"url": url, "secret": "other"})
    assert not result.ok and "飞书返回错误 19021" in (result.error or "")


def test_webhook_sends_the_fields_with_a_verifiable_signature(receiver: Receiver) -> None:
    receiver.secrets["webhook"] = "hook-secret"
    assert _send("webhook", {"url": f"{receiver.base}/webhook/a", "secret": "hook-secret"}).ok
    [message] = receiver.ok("webhook")
    assert message.data["title"] == TITLE and message.data["body"] == BODY
    assert (message.data["grade"], message.data["item_id"], message.data["event_id"]) == (
        "harmful",
        7,
        3,
    )
    assert (message.data["part"], message.data["parts"]) == (1, 1)
    # The signature covers the exact bytes sent, with the timestamp header.
    stamp = message.headers["x-yuqing-timestamp"]
    expected = hmac.new(b"hook-secret", stamp.encode() + b"." + message.raw, hashlib.sha256)
    assert message.headers["x-yuqing-signature"] == "sha256=" + expected.hexdigest()
    assert not _send("webhook", {"url": f"{receiver.base}/webhook/a", "secret": "wrong"}).ok


def test_webhook_non_2xx_and_unreachable_are_failures_in_words(receiver: Receiver) -> None:
    receiver.fail("/webhook", 1, status=503)
    result = _send("webhook", {"url": f"{receiver.base}/webhook/a"})
    assert not result.ok and result.status_code == 503 and "HTTP 503" in (result.error or "")
    result = _send("webhook", {"url": "http://127.0.0.1:9/webhook"})
    assert not result.ok and result.status_code is None
    assert (result.error or "").startswith("无法连接 127.0.0.1")


def test_sms_splits_to_its_limit_in_numbered_parts(receiver: Receiver) -> None:
    receiver.secrets["sms"] = "sms-secret"
    receiver.sms_limit = 70
    long_body = "\n".join(["等级：有害", "查看详情：http://127.0.0.1:8000/items/7"] * 3)
    config = {
        "url": f"{receiver.base}/sms",
        "secret": "sms-secret",
        "phones": ["13800000000"],
        "limit": 70,
    }
    result = _send("sms", config, body=long_body)
    assert result.ok and result.parts > 1
    texts = [m.text for m in receiver.ok("sms")]
    assert len(texts) == result.parts and all(len(t) <= 70 for t in texts)
    assert texts[0].startswith(f"【有害】舆情预警：云岭农商银行网点排长队（1/{result.parts}）")


def test_wecom_splits_long_cjk_messages_under_4096_bytes(receiver: Receiver) -> None:
    body = "\n".join(f"研判依据第{i}条：" + "储户排队取钱，挤兑传言扩散。" * 8 for i in range(60))
    result = _send("wecom", {"url": f"{receiver.base}/wecom/send?key=abc"}, body=body)
    messages = receiver.ok("wecom")
    assert result.ok and result.parts == len(messages) > 1
    assert all(len(m.text.encode()) <= 4096 for m in messages)
    assert messages[-1].text.startswith(f"**{TITLE}**（{result.parts}/{result.parts}）")


def test_a_part_that_fails_names_which_part(receiver: Receiver) -> None:
    body = "\n".join("研判依据：" + "储户排队取钱。" * 30 for _ in range(40))
    receiver.fail("/wecom", 0)
    url = f"{receiver.base}/wecom/send?key=abc"
    channel = build_channel("群", "wecom", {"url": url})

    async def go() -> SendResult:
        async with httpx.AsyncClient() as client:
            receiver.fail(
                "/wecom", 1, status=200, body={"errcode": 45009, "errmsg": "api freq out of limit"}
            )
            return await channel.send(client, TITLE, body)

    result = asyncio.run(go())
    assert not result.ok and result.error is not None
    assert result.error.startswith(f"第 1/{result.parts} 段：企业微信返回错误 45009")


@pytest.mark.parametrize(
    ("kind", "config", "words"),
    [
        ("wecom", {}, "url：缺少此项"),
        ("wecom", {"url": "ftp://x"}, "url：地址必须是以 http:// 或 https:// 开头"),
        (
            "dingtalk",
            {"url": "https://oapi.dingtalk.com/robot/send?access_token=x", "sign": "x"},
            "sign：不认识的配置项",
        ),
        ("sms", {"url": "https://sms.example/send", "phones": []}, "phones：至少要有一项"),
        ("sms", {"url": "https://sms.example/send", "phones": ["138abc"]}, "手机号 '138abc' 无效"),
        (
            "email",
            {"host": "smtp.example.cn", "from": "a@b.cn", "to": ["nobody"]},
            "to.0：邮箱地址 'nobody' 无效",
        ),
        (
            "email",
            {
                "host": "smtp.example.cn",
                "port": 25,
                "username": "u",
                "password": "p",
                "from": "a@b.cn",
                "to": ["c@d.cn"],
            },
            "不能在未加密的连接上发送密码",
        ),
        ("pager", {}, "类型 'pager' 不存在"),
    ],
)
def test_a_bad_config_is_an_error_naming_channel_and_field(
    kind: str, config: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        build_channel("值班群", kind, config)
    assert "预警通道「值班群」" in str(caught.value)
    assert words in str(caught.value)


def test_secrets_and_robot_keys_are_masked() -> None:
    shown = masked_config(
        {
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx",
            "secret": "SEC123",
            "password": "p",
            "to": ["a@b.cn"],
        }
    )
    assert shown["url"] == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=******"
    assert (shown["secret"], shown["password"], shown["to"]) == ("******", "******", ["a@b.cn"])
    feishu = masked_config(
        {"url": "https://open.feishu.cn/open-apis/bot/v2/hook/0b8c3f6e-2d4a-4f1b"}
    )
    assert feishu["url"] == "https://open.feishu.cn/open-apis/bot/v2/hook/******"


# Email ------------------------------------------------------------------------------------


def _email_config(mailbox: Mailbox, certificate: Certificate, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": mailbox.port,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from": "Yuqing <alerts@yuqing.test>",
        "to": ["duty@bank.test", "leader@bank.test"],
        "ca_file": str(certificate.cert),
        **extra,
    }


def _parsed(mailbox: Mailbox) -> list[EmailMessage]:
    return [
        email.message_from_bytes(e.original_content or b"", policy=email.policy.default)  # type: ignore[misc]
        for e in mailbox.envelopes
    ]


def test_email_over_starttls_with_login_plain_and_escaped_html(
    starttls_server: Mailbox, certificate: Certificate
) -> None:
    hostile = "【有害】舆情预警：<script>alert(1)</script>"
    body = BODY + "\n摘要：<img src=x onerror=alert(1)>"
    result = _send(
        "email",
        _email_config(starttls_server, certificate, starttls=True),
        title=hostile,
        body=body,
    )
    assert result.ok, result
    assert starttls_server.logins == [SMTP_USER]
    [envelope] = starttls_server.envelopes
    assert envelope.rcpt_tos == ["duty@bank.test", "leader@bank.test"]
    [message] = _parsed(starttls_server)
    assert message["Subject"] == hostile
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert "<img src=x onerror=alert(1)>" in plain.get_content()
    html_text = html.get_content()
    assert "<script>" not in html_text and "<img" not in html_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text
    assert '<a href="https://bbs.example/t/1">原文链接</a>' in html_text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_email_over_implicit_tls(smtps_server: Mailbox, certificate: Certificate) -> None:
    result = _send("email", _email_config(smtps_server, certificate, ssl=True))
    assert result.ok, result
    assert len(smtps_server.envelopes) == 1


def test_email_wrong_password_and_untrusted_certificate_are_clear_errors(
    starttls_server: Mailbox, certificate: Certificate
) -> None:
    wrong = _send(
        "email", _email_config(starttls_server, certificate, starttls=True, password="nope")
    )
    assert not wrong.ok and wrong.status_code == 535
    assert (
        wrong.error
        == f"邮件服务器 127.0.0.1:{starttls_server.port} 拒绝登录（535）：请核对用户名和密码"
    )
    config = _email_config(starttls_server, certificate, starttls=True)
    del config["ca_file"]
    untrusted = _send("email", config)
    assert not untrusted.ok and "证书校验失败" in (untrusted.error or "")
    assert starttls_server.envelopes == []
