"""Managing alert channels and rules: the one place the CLI and the API both go through.

Everything is checked before it is stored, every change is written to the audit log, and
secrets never leave in a description.
"""

from yuqing.alerts.manage.channels import (
    add_channel,
    check_channel,
    describe_channel,
    edit_channel,
    find_channel,
    remove_channel,
)
from yuqing.alerts.manage.common import ChannelInput, RuleInput
from yuqing.alerts.manage.rules import (
    add_rule,
    describe_rule,
    edit_rule,
    find_rule,
    remove_rule,
    rule_input,
)

__all__ = [
    "ChannelInput",
    "RuleInput",
    "add_channel",
    "add_rule",
    "check_channel",
    "describe_channel",
    "describe_rule",
    "edit_channel",
    "edit_rule",
    "find_channel",
    "find_rule",
    "remove_channel",
    "remove_rule",
    "rule_input",
]
