"""The Chinese sources pages: every source with its health, and one source with its runs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
