"""Roles and their permissions, read from `roles.yaml` (policy as data)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field

from yuqing.errors import ConfigError

PERMISSIONS: dict[str, str] = {
    "items.read": "查看信息",
    "items.review": "改判等级与分类",
    "items.manual": "人工录入",
    "events.read": "查看事件",
    "cases.read": "查看报告处理单",
    "cases.create": "新建报告处理单",
    "sources.read": "查看信息源",
    "sources.manage": "管理信息源",
    "sources.run": "立即抓取",
    "subjects.manage": "管理监测主题",
    "users.manage": "管理用户",
    "alerts.read": "查看预警记录",
    "alerts.manage": "管理预警规则与通道",
    "audit.read": "查看审计日志",
}


class Role(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z_]+$")
    name: str
    description: str = ""
    permissions: frozenset[str]


class _RolesFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: tuple[Role, ...]


@cache
def roles() -> dict[str, Role]:
    """Role code → role, in the file's order."""
    text = resources.files(__package__).joinpath("roles.yaml").read_text("utf-8")
    parsed = _RolesFile.model_validate(yaml.safe_load(text))
    out: dict[str, Role] = {}
    for role in parsed.roles:
        unknown = sorted(role.permissions - PERMISSIONS.keys())
        if unknown:
            raise ConfigError(f"roles.yaml：角色 {role.code} 的权限 {unknown} 不存在")
        out[role.code] = role
    return out


def role(code: str) -> Role:
    """The role with `code`, or a ConfigError listing the roles there are."""
    try:
        return roles()[code]
    except KeyError:
        raise ConfigError(f"角色 {code[:40]!r} 不存在，可选：{'、'.join(roles())}") from None


def role_name(code: str) -> str:
    found = roles().get(code)
    return found.name if found else code
