"""Feishu (飞书) group robot: text messages, signed with its secret; code 0 is success.

With a secret ("签名校验"), the body carries `timestamp` (seconds, as text) and `sign`, the
base64 of HMAC-SHA256 keyed with "<timestamp>\\n<secret>" over an empty message.
https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, ClassVar

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
from yuqing.alerts.messages import one_line, plain_text
from yuqing.alerts.split import char_size, split_message


class FeishuConfig(ChannelConfig):
    """`url`: …/open-apis/bot/v2/hook/…; `secret`: the signing secret, if set."""

    url: HttpUrlText
    secret: str | None = None


def feishu_sign(secret: str, timestamp: int) -> str:
    """base64(HMAC-SHA256(key="<timestamp>\\n<secret>", message=b""))."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuChannel:
    kind: ClassVar[str] = "feishu"
    label: ClassVar[str] = "飞书群机器人"
    Config = FeishuConfig
    limit = 4000
    """Characters of one text message (the service takes 20000 bytes; kept well below)."""

    def __init__(self, name: str, config: FeishuConfig, timeout: float) -> None:
        self.name = name
        self.config = config
        self.timeout = timeout

    def render(self, title: str, body: str) -> list[str]:
        return split_message(
            plain_text(one_line(title, 200)), plain_text(body), self.limit, measure=char_size
        )

    def payload(self, text: str, now: int | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if self.config.secret:
            timestamp = now if now is not None else int(time.time())
            payload = {
                "timestamp": str(timestamp),
                "sign": feishu_sign(self.config.secret, timestamp),
                **payload,
            }
        return payload

    async def send(
        self, client: httpx.AsyncClient, title: str, body: str, *, meta: AlertMeta | None = None
    ) -> SendResult:
        async def one(text: str) -> SendResult:
            raw = json_bytes(self.payload(text))
            reply = await post(client, self.config.url, raw, timeout=self.timeout)
            return robot_result(reply, "飞书", ("code", "StatusCode"))

        return await send_parts(self.render(title, body), one)
