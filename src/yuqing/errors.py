"""The one exception tree of Yuqing. Messages are sentences a user can act on.

    YuqingError
    ├── ConfigError        settings, standard files, subject rules
    │   └── RuleSyntaxError   a boolean subject rule that does not parse
    ├── InputError         one bad input record (names file and line)
    ├── SourceError        a source could not be fetched or read
    │   └── FetchError        one URL could not be fetched (names the URL)
    ├── StorageError       the database refused or is unreachable
    ├── WorkflowError      a transition or measure that the standard forbids
    ├── AuthError          not signed in, wrong password, locked, too many attempts
    └── AccessError        signed in, but the role or unit does not allow it

Boundaries translate: the CLI prints one red line and exits 1; the API answers
`{"error": {"type": ..., "message": ...}}` with a 4xx/5xx status.
"""

from __future__ import annotations


class YuqingError(Exception):
    """Base of every error Yuqing raises on purpose."""


class ConfigError(YuqingError):
    """A setting, a standard file or a subject definition is wrong."""


class RuleSyntaxError(ConfigError):
    """A subject's boolean rule does not parse; `position` is the 0-based character offset."""

    def __init__(self, rule: str, position: int, reason: str) -> None:
        self.rule = rule
        self.position = position
        self.reason = reason
        super().__init__(f"规则语法错误（第 {position + 1} 个字符）：{reason}：{rule}")


class InputError(YuqingError):
    """One input record is malformed; `where` names file and line ("a.jsonl:17")."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}" if where else reason)


class SourceError(YuqingError):
    """A source could not be fetched or parsed."""


class FetchError(SourceError):
    """One URL could not be fetched; `reason` says why in words ("连接超时（30 秒）")."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"抓取 {url} 失败：{reason}")


class StorageError(YuqingError):
    """The database is unreachable, not migrated, or refused a write."""


class WorkflowError(YuqingError):
    """An action that the workflow or the standard does not allow."""


class AuthError(YuqingError):
    """Who is asking is unknown or may not sign in now; `status` is the HTTP status to answer
    (401 unknown, 423 locked, 429 too many attempts) and `retry_after` seconds where known."""

    def __init__(self, message: str, status: int = 401, retry_after: int | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class AccessError(YuqingError):
    """The actor is known but its role or unit does not allow this."""


__all__ = [
    "AccessError",
    "AuthError",
    "ConfigError",
    "FetchError",
    "InputError",
    "RuleSyntaxError",
    "SourceError",
    "StorageError",
    "WorkflowError",
    "YuqingError",
]
