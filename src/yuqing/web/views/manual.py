"""The page where a monitor enters an offline sighting (print, broadcast, QQ/WeChat group)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
