"""Alert channels: email, WeCom, DingTalk and Feishu robots, a signed webhook, SMS."""

from yuqing.alerts.channels.base import AlertMeta, Channel, SendResult, masked_config
from yuqing.alerts.channels.registry import CHANNEL_KINDS, build_channel, kind_label

__all__ = [
    "CHANNEL_KINDS",
    "AlertMeta",
    "Channel",
    "SendResult",
    "build_channel",
    "kind_label",
    "masked_config",
]
