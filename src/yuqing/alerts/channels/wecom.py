"""WeCom (企业微信) group robot: markdown messages of at most 4096 bytes, errcode 0 is success.

https://developer.work.weixin.qq.com/document/path/91770
"""

from __future__ import annotations

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
from yuqing.alerts.messages import markdown_lines, markdown_title
from yuqing.alerts.split import split_message, utf8_size


class WecomConfig(ChannelConfig):
    """`url`: the robot's webhook address (…/cgi-bin/webhook/send?key=…)."""

    url: HttpUrlText


class WecomChannel:
    kind: ClassVar[str] = "wecom"
    label: ClassVar[str] = "企业微信群机器人"
    Config = WecomConfig
    limit = 4096
    """Bytes of UTF-8 in one markdown message's content."""

    def __init__(self, name: str, config: WecomConfig, timeout: float) -> None:
        self.name = name
        self.config = config
        self.timeout = timeout

    def render(self, title: str, body: str) -> list[str]:
        """The markdown contents to send, one per part."""
        return split_message(
            markdown_title(title), "\n".join(markdown_lines(body)), self.limit, measure=utf8_size
        )

    async def send(
        self, client: httpx.AsyncClient, title: str, body: str, *, meta: AlertMeta | None = None
    ) -> SendResult:
        async def one(content: str) -> SendResult:
            payload = {"msgtype": "markdown", "markdown": {"content": content}}
            reply = await post(client, self.config.url, json_bytes(payload), timeout=self.timeout)
            return robot_result(reply, "企业微信", ("errcode",))

        return await send_parts(self.render(title, body), one)
