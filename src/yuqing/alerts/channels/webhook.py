"""A generic webhook: JSON POSTs signed with HMAC-SHA256; any 2xx answer is success.

Body: {"title", "body", "grade", "kind", "item_id", "event_id", "case_id", "url", "sent_at",
"part", "parts"}. Headers: `X-Yuqing-Timestamp` (Unix seconds) and, with a secret,
`X-Yuqing-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`; a receiver
recomputes it over the exact bytes it got and refuses old timestamps.
"""

from __future__ import annotations

from typing import ClassVar

import httpx
from pydantic import Field

from yuqing.alerts.channels.base import (
    AlertMeta,
    ChannelConfig,
    HttpUrlText,
    SendResult,
    json_bytes,
    post,
    send_parts,
    signature_headers,
    utc_now_text,
)
from yuqing.alerts.messages import one_line
from yuqing.alerts.split import char_size, split_text


class WebhookConfig(ChannelConfig):
    """`url`: where to POST; `secret`: the shared signing secret; `limit`: characters of
    text per request (longer messages go in numbered parts)."""

    url: HttpUrlText
    secret: str | None = None
    limit: int = Field(default=20000, ge=200, le=1_000_000)


class WebhookChannel:
    kind: ClassVar[str] = "webhook"
    label: ClassVar[str] = "通用 Webhook"
    Config = WebhookConfig

    def __init__(self, name: str, config: WebhookConfig, timeout: float) -> None:
        self.name = name
        self.config = config
        self.timeout = timeout
        self.limit = config.limit

    async def send(
        self, client: httpx.AsyncClient, title: str, body: str, *, meta: AlertMeta | None = None
    ) -> SendResult:
        meta = meta or AlertMeta()
        title = one_line(title, 200)
        # The title has a field of its own: only the body is split, the title numbered.
        parts = split_text(body, self.limit, measure=char_size)
        total = len(parts)

        async def one(numbered: tuple[int, str]) -> SendResult:
            index, text = numbered
            raw = json_bytes(
                {
                    "title": title if total == 1 else f"{title}（{index}/{total}）",
                    "body": text,
                    "grade": meta.grade,
                    "kind": meta.kind,
                    "item_id": meta.item_id,
                    "event_id": meta.event_id,
                    "case_id": meta.case_id,
                    "url": meta.url,
                    "sent_at": utc_now_text(),
                    "part": index,
                    "parts": total,
                }
            )
            headers = signature_headers(self.config.secret, raw)
            reply = await post(client, self.config.url, raw, timeout=self.timeout, headers=headers)
            return SendResult(reply.error is None, reply.status_code, reply.error)

        return await send_parts(list(enumerate(parts, 1)), one)
