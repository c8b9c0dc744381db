"""Every channel kind by name, and building a ready channel from its stored configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from yuqing.alerts.channels.base import Channel
from yuqing.alerts.channels.dingtalk import DingtalkChannel
from yuqing.alerts.channels.email import EmailChannel
from yuqing.alerts.channels.feishu import FeishuChannel
from yuqing.alerts.channels.sms import SmsChannel
from yuqing.alerts.channels.webhook import WebhookChannel
from yuqing.alerts.channels.wecom import WecomChannel
from yuqing.errors import ConfigError
from yuqing.validation import describe_errors

CHANNEL_KINDS: dict[str, type[Any]] = {
    "email": EmailChannel,
    "wecom": WecomChannel,
    "dingtalk": DingtalkChannel,
    "feishu": FeishuChannel,
    "webhook": WebhookChannel,
    "sms": SmsChannel,
}
"""Built-in channel kinds by the name stored in `alert_channels.kind`."""


def kind_label(kind: str) -> str:
    cls = CHANNEL_KINDS.get(kind)
    return str(cls.label) if cls is not None else kind


def build_channel(
    name: str, kind: str, config: Mapping[str, Any], *, timeout: float = 10.0
) -> Channel:
    """A channel ready to send; ConfigError naming the channel and the field when the kind is
    unknown or the configuration is wrong."""
    cls = CHANNEL_KINDS.get(kind)
    if cls is None:
        known = "、".join(f"{k}（{c.label}）" for k, c in CHANNEL_KINDS.items())
        raise ConfigError(f"预警通道「{name}」的类型 {kind[:40]!r} 不存在；可用的有：{known}")
    try:
        parsed = cls.Config.model_validate(dict(config))
    except ValidationError as exc:
        raise ConfigError(
            f"预警通道「{name}」（{cls.label}）配置有误：{describe_errors(exc)}"
        ) from None
    channel: Channel = cls(name, parsed, timeout)
    return channel
