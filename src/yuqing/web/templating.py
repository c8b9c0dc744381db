"""Jinja2 templates with autoescaping on: crawled text is always escaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates

from yuqing.accounts.roles import role_name
from yuqing.domain import MediaTier, Platform
from yuqing.store.search import highlight
from yuqing.web.auth import csrf_input
from yuqing.web.messages import t

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.autoescape = True
templates.env.globals["t"] = t


def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


def vendor_available(name: str) -> bool:
    """Front-end libraries come from npm at build time; pages work without them."""
    return (STATIC_DIR / "vendor" / name).is_file()


templates.env.filters["local_time"] = local_time
templates.env.globals["vendor_available"] = vendor_available
templates.env.globals["highlight"] = highlight
templates.env.globals["platforms"] = list(Platform)
templates.env.globals["media_tiers"] = list(MediaTier)
templates.env.globals["csrf_input"] = csrf_input
templates.env.globals["role_name"] = role_name
