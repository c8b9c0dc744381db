"""pydantic validation errors in words a user can act on: each field path and what is wrong.

Configuration of sources and alert channels comes from people (CLI options, API bodies);
their mistakes are reported in one Chinese line, not pydantic's English.
"""

from __future__ import annotations

from pydantic import ValidationError

MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的配置项",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "too_short": "至少要有一项",
    "greater_than_equal": "太小",
    "less_than_equal": "太大",
    "string_too_long": "太长",
    "string_too_short": "不能为空",
}
"""pydantic error type → what to tell the user; other types keep pydantic's own message."""


def describe_errors(exc: ValidationError) -> str:
    """pydantic's errors as one line: each field path and what is wrong with it."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "配置"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}：{MESSAGES.get(error['type'], message)}")
    return "；".join(parts)
