"""/api/sources: list, add, show, remove, test and run sources, with their health."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/sources", tags=["sources"])
