"""Who is acting: a signed-in user, an API token's user, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass

from yuqing.accounts.roles import role


@dataclass(frozen=True, slots=True)
class Actor:
    """A person (or machine acting as one) with a role in one unit.

    `unit_ids` is that unit and every unit below it: what the actor may see.
    `unit_id` None with an empty `unit_ids` is the system (CLI jobs, the scheduler).
    """

    user_id: int | None
    username: str
    display_name: str
    role: str
    unit_id: int | None
    unit_ids: frozenset[int]

    def can(self, permission: str) -> bool:
        return self.is_system or permission in role(self.role).permissions

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    def sees_unit(self, unit_id: int | None) -> bool:
        """Whether data of `unit_id` is in the actor's subtree (unowned data is seen by all)."""
        return self.is_system or unit_id is None or unit_id in self.unit_ids

    @property
    def label(self) -> str:
        """How the actor is named in timelines and the audit log: 显示名（用户名）."""
        if self.is_system:
            return self.username
        return f"{self.display_name}（{self.username}）"


SYSTEM = Actor(None, "系统", "系统", "admin", None, frozenset())
