"""SMS through the office's gateway: a webhook that takes {"phones": [...], "text": ...}.

Signed like the generic webhook (`X-Yuqing-Timestamp`, `X-Yuqing-Signature`); any 2xx is
success. Texts longer than `limit` characters go as numbered parts "（1/3）".
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

import httpx
from pydantic import AfterValidator, Field

from yuqing.alerts.channels.base import (
    AlertMeta,
    ChannelConfig,
    HttpUrlText,
    SendResult,
    json_bytes,
    post,
    send_parts,
    signature_headers,
)
from yuqing.alerts.messages import SEPARATOR, one_line
from yuqing.alerts.split import char_size, split_message

_PHONE = re.compile(r"^\+?[0-9][0-9-]{4,19}$")


def _phone(value: str) -> str:
    value = value.strip()
    if not _PHONE.match(value):
        raise ValueError(f"手机号 {value[:30]!r} 无效：只能有数字、开头的 + 和 -")
    return value


class SmsConfig(ChannelConfig):
    """`url`: the gateway's address; `secret`: its signing secret; `phones`: who gets the
    text; `limit`: characters per text; `brief`: only the key lines (grade, platform, time,
    link), to keep texts few."""

    url: HttpUrlText
    phones: list[Annotated[str, AfterValidator(_phone)]] = Field(min_length=1, max_length=200)
    secret: str | None = None
    limit: int = Field(default=300, ge=70, le=10000)
    brief: bool = True


BRIEF_LABELS = ("等级", "平台/来源", "发布时间", "查看详情", "事件详情", "案件详情", "截止时间")
"""Lines a brief text keeps (every line when none of them is there)."""


class SmsChannel:
    kind: ClassVar[str] = "sms"
    label: ClassVar[str] = "短信网关"
    Config = SmsConfig

    def __init__(self, name: str, config: SmsConfig, timeout: float) -> None:
        self.name = name
        self.config = config
        self.timeout = timeout
        self.limit = config.limit

    def render(self, title: str, body: str) -> list[str]:
        lines = body.split("\n")
        if self.config.brief:
            kept = [x for x in lines if x.partition(SEPARATOR)[0] in BRIEF_LABELS]
            lines = kept or lines
        text = "\n".join(lines)
        return split_message(one_line(title, 100), text, self.limit, measure=char_size, gap="\n")

    async def send(
        self, client: httpx.AsyncClient, title: str, body: str, *, meta: AlertMeta | None = None
    ) -> SendResult:
        async def one(text: str) -> SendResult:
            raw = json_bytes({"phones": list(self.config.phones), "text": text})
            headers = signature_headers(self.config.secret, raw)
            reply = await post(client, self.config.url, raw, timeout=self.timeout, headers=headers)
            return SendResult(reply.error is None, reply.status_code, reply.error)

        return await send_parts(self.render(title, body), one)
