"""POST /api/ingest: external crawlers push items with their push source's bearer token."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["ingest"])
