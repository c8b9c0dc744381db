"""The `yuqing` command. Each command parses, calls one library function, prints.

`--json` prints machine-readable results; errors print one red line and exit 1.
"""

from __future__ import annotations

# Imported for their side effect: each module registers its commands on `app`.
from yuqing.cli import alerts, analysis, core, items, manual, sources, users  # noqa: F401
from yuqing.cli.base import app

__all__ = ["app", "main"]


def main() -> None:
    app()
