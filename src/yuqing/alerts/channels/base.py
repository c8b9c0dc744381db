"""What every alert channel shares: its configuration model, the send result, the HTTP post.

A channel kind is a class with a pydantic `Config` (validated from `alert_channels.config`,
unknown keys refused), a `limit` (the largest message the service takes, in its own measure)
and an async `send` that splits the body itself and reports in words what went wrong:

    class WecomChannel:
        kind = "wecom"
        label = "企业微信群机器人"
        Config = WecomConfig

        def __init__(self, name: str, config: WecomConfig, timeout: float) -> None: ...
        async def send(self, client, title, body, *, meta=None) -> SendResult: ...
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict

from yuqing.sources.base import check_http_url

HttpUrlText = Annotated[str, AfterValidator(check_http_url)]
"""A configured http(s) address."""
SECRET_KEYS = frozenset({"password", "secret"})
"""Configuration keys whose values are never shown."""
MASK = "******"
"""What a secret looks like when shown; given back on edit, it keeps the stored value."""
RESPONSE_CHARS = 200
"""How much of an unexpected response an error quotes."""
_Part = TypeVar("_Part")


class ChannelConfig(BaseModel):
    """Base of every channel's configuration: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(frozen=True, slots=True)
class AlertMeta:
    """What a machine receiver (webhook) gets besides the text."""

    grade: str | None = None
    kind: str = "test"  # new | escalation | reminder | test
    item_id: int | None = None
    event_id: int | None = None
    case_id: int | None = None
    url: str | None = None  # the Yuqing page of the item, event or case


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one send: `error` says in Chinese words what went wrong."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    parts: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status_code": self.status_code,
            "error": self.error,
            "parts": self.parts,
        }


class Channel(Protocol):
    """One configured channel, ready to send."""

    kind: ClassVar[str]
    label: ClassVar[str]
    name: str
    limit: int

    async def send(
        self, client: httpx.AsyncClient, title: str, body: str, *, meta: AlertMeta | None = None
    ) -> SendResult: ...


@dataclass(slots=True)
class Reply:
    """An HTTP answer, or the words for why there was none."""

    status_code: int | None = None
    data: Any = None
    text: str = ""
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def network_error(exc: Exception, url: str, timeout: float) -> str:
    """Words for a failed request; names the host only (robot URLs carry their keys)."""
    host = urlsplit(url).hostname or "?"
    if isinstance(exc, httpx.TimeoutException):
        return f"连接 {host} 超时（{timeout:g} 秒）"
    if isinstance(exc, httpx.ConnectError):
        return f"无法连接 {host}：{exc or '连接被拒绝'}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        return f"与 {host} 的连接中途断开（{type(exc).__name__}{f'：{exc}' if str(exc) else ''}）"
    return f"请求 {host} 失败：{type(exc).__name__}{f'：{exc}' if str(exc) else ''}"


async def post(
    client: httpx.AsyncClient,
    url: str,
    content: bytes,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> Reply:
    """POST a JSON body; the reply with its JSON (if any), or the error in words."""
    try:
        response = await client.post(
            url,
            content=content,
            headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        return Reply(error=network_error(exc, url, timeout))
    reply = Reply(status_code=response.status_code, text=response.text[:RESPONSE_CHARS])
    try:
        reply.data = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        reply.data = None
    if not 200 <= response.status_code < 300:
        reply.error = f"对方返回 HTTP {response.status_code}：{reply.text or '（无内容）'}"
    return reply


def robot_result(reply: Reply, service: str, code_keys: tuple[str, ...]) -> SendResult:
    """A robot's answer: 2xx with one of `code_keys` equal to 0, else the error it gave."""
    if reply.error is not None:
        return SendResult(False, reply.status_code, reply.error)
    data = reply.data if isinstance(reply.data, dict) else {}
    for key in code_keys:
        value = data.get(key)
        if type(value) is int and value == 0:
            return SendResult(True, reply.status_code)
    code = next((data[k] for k in code_keys if k in data), None)
    message = data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or reply.text
    if code is None:
        return SendResult(
            False, reply.status_code, f"{service}返回了无法识别的应答：{reply.text[:100]}"
        )
    return SendResult(False, reply.status_code, f"{service}返回错误 {code}：{message}")


async def send_parts(
    parts: Sequence[_Part], send_one: Callable[[_Part], Awaitable[SendResult]]
) -> SendResult:
    """Send the parts in order, stopping at the first that fails (named "第 2/3 段")."""
    status: int | None = None
    for index, part in enumerate(parts, 1):
        result = await send_one(part)
        status = result.status_code
        if not result.ok:
            error = (
                result.error if len(parts) == 1 else f"第 {index}/{len(parts)} 段：{result.error}"
            )
            return SendResult(False, status, error, len(parts))
    return SendResult(True, status, None, len(parts))


def signature_headers(secret: str | None, raw: bytes, now: float | None = None) -> dict[str, str]:
    """X-Yuqing-Timestamp and X-Yuqing-Signature: sha256=hex HMAC(secret, "<ts>.<body>")."""
    timestamp = str(int(now if now is not None else time.time()))
    headers = {"X-Yuqing-Timestamp": timestamp}
    if secret:
        digest = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256)
        headers["X-Yuqing-Signature"] = "sha256=" + digest.hexdigest()
    return headers


def json_bytes(payload: Any) -> bytes:
    return orjson.dumps(payload)


def utc_now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def mask_url(url: str) -> str:
    """A robot address with its keys hidden: query values (WeCom's key, DingTalk's
    access_token) and a token-like last path segment (Feishu's hook id)."""
    parts = urlsplit(url)
    query = "&".join(f"{pair.partition('=')[0]}={MASK}" for pair in parts.query.split("&"))
    head, _, last = parts.path.rpartition("/")
    path = parts.path
    if len(last) >= 16 and any(c.isdigit() for c in last):
        path = f"{head}/{MASK}"
    return parts._replace(path=path, query=query if parts.query else "").geturl()


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    """A channel's configuration fit to show: secrets and URL keys replaced by `MASK`."""
    shown: dict[str, Any] = {}
    for key, value in config.items():
        if key in SECRET_KEYS and value:
            shown[key] = MASK
        elif key == "url" and isinstance(value, str):
            shown[key] = mask_url(value)
        else:
            shown[key] = value
    return shown
