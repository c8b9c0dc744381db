"""DingTalk (钉钉) group robot: markdown of at most 20000 bytes, signed with its secret.

With a secret ("加签"), the address gets `timestamp` (milliseconds) and `sign`, the base64 of
HMAC-SHA256(secret, "<timestamp>\\n<secret>"), URL-encoded. errcode 0 is success.
https://open.dingtalk.com/document/orgapp/customize-robot-security-settings
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import ClassVar

import httpx

from yuqing.alerts.channels.base import (
    AlertMeta,
    ChannelConfig,
    HttpUrlText,
    SendResult,
    json_bytes,
    post,
    robot_result,
    send_parts,
)
from yuqing.alerts.messages import markdown_lines, markdown_title, one_line
from yuqing.alerts.split import split_message, utf8_size


class DingtalkConfig(ChannelConfig):
    """`url`: …/robot/send?access_token=…; `secret`: the "加签" secret (SEC…), if set."""

    url: HttpUrlText
    secret: str | None = None


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")), before URL encoding."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class DingtalkChannel:
    kind: ClassVar[str] = "dingtalk"
    label: ClassVar[str] = "钉钉群机器人"
    Config = DingtalkConfig
    limit = 20000
    """Bytes of UTF-8 in one markdown text."""

    def __init__(self, name: str, config: DingtalkConfig, timeout: float) -> None:
        self.name = name
        self.config = config
        self.timeout = timeout

    def render(self, title: str, body: str) -> list[str]:
        # DingTalk's markdown joins single line breaks: paragraphs keep the lines apart.
        lines = "\n\n".join(markdown_lines(body))
        return split_message(
            markdown_title(title), lines, self.limit, measure=utf8_size, sep="\n\n"
        )

    def address(self, now_ms: int | None = None) -> str:
        """The robot's address, with `timestamp` and `sign` when it has a secret."""
        if not self.config.secret:
            return self.config.url
        timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
        url = httpx.URL(self.config.url)
        signed = url.copy_merge_params(
            {"timestamp": str(timestamp), "sign": dingtalk_sign(self.config.secret, timestamp)}
        )
        return str(signed)

    async def send(
        self, client: httpx.AsyncClient, title: str, body: str, *, meta: AlertMeta | None = None
    ) -> SendResult:
        # The title shows in the chat list and notifications; it is plain text there.
        short = one_line(title, 60)

        async def one(text: str) -> SendResult:
            payload = {"msgtype": "markdown", "markdown": {"title": short, "text": text}}
            reply = await post(client, self.address(), json_bytes(payload), timeout=self.timeout)
            return robot_result(reply, "钉钉", ("errcode",))

        return await send_parts(self.render(title, body), one)
