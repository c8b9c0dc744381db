"""The bundled demo organization: a rural commercial bank, its unit tree, subjects and items.

Times in `items.jsonl` are shifted by whole days so the newest item is from today: the demo
always looks like a live office's last month, whenever it is run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import orjson
import yaml
from sqlalchemy.orm import Session

from yuqing.accounts.actor import SYSTEM
from yuqing.accounts.manage import NewUser, add_user
from yuqing.collect.manage import SourceInput, add_source
from yuqing.domain import RawItem
from yuqing.ingest.fields import CHINA_TZ, record_to_raw
from yuqing.ingest.files import RowError
from yuqing.ingest.importer import import_records
from yuqing.pipeline.run import IngestReport
from yuqing.pipeline.subjects import save_subjects, subject_from_mapping
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store import sources as source_store
from yuqing.store import units as unit_store
from yuqing.store import users as user_store
from yuqing.store.db import Database
from yuqing.store.tables import Unit

_FILES = resources.files(__package__)


@dataclass(slots=True)
class DemoReport:
    organization: str
    units: int
    subjects: int
    ingest: IngestReport
    push_token: str | None = None  # shown once, when the demo's push source is created
    admin_password: str | None = None  # shown once, when the demo's admin is created
    users: list[dict[str, str]] = field(default_factory=list)


def organization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(_FILES.joinpath("organization.yaml").read_text("utf-8"))
    return data


def _save_units(session: Session, nodes: list[dict[str, Any]], parent: Unit | None) -> int:
    count = 0
    for node in nodes:
        unit = unit_store.upsert_unit(
            session,
            code=node["code"],
            name=node["name"],
            level=node["level"],
            parent=parent,
            region=node.get("region"),
            contact_a=node.get("contact_a"),
            contact_b=node.get("contact_b"),
        )
        count += 1 + _save_units(session, node.get("children") or [], unit)
    return count


def demo_records(now: datetime, max_field_chars: int) -> Iterator[RawItem | RowError]:
    """The demo items with their dates moved so the newest falls on `now`'s day."""
    lines = _FILES.joinpath("items.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines if line.strip()]
    newest = max(
        datetime.fromisoformat(r["published_at"]) for r in records if r.get("published_at")
    )
    shift = timedelta(days=(now.date() - newest.astimezone(UTC).date()).days)
    for number, record in enumerate(records, start=1):
        if record.get("published_at"):
            moved = datetime.fromisoformat(record["published_at"]) + shift
            record["published_at"] = moved.isoformat()
            record["discovered_at"] = min(moved + timedelta(minutes=20), now).isoformat()
        yield record_to_raw(record, f"demo/items.jsonl:{number}", max_field_chars=max_field_chars)


def install_demo(db: Database, settings: Settings, now: datetime | None = None) -> DemoReport:
    """Create (or refresh) the demo organization and import its items; safe to run twice."""
    now = now or datetime.now(UTC)
    org = organization()
    with db.session() as session:
        units = _save_units(session, org["units"], None)
        subjects = [
            subject_from_mapping(entry, f"demo/organization.yaml#subjects.{n}")
            for n, entry in enumerate(org["subjects"], start=1)
        ]
        save_subjects(session, subjects)
    report = import_records(db, settings, demo_records(now, settings.max_content_chars))
    push_token = _install_sources(db, settings, org.get("sources") or [], now)
    admin_password = _install_users(db, org, now)
    return DemoReport(
        org["organization"]["name"],
        units,
        len(subjects),
        report,
        push_token,
        admin_password,
        [{k: u[k] for k in ("username", "role", "unit", "name")} for u in org["users"]],
    )


def _install_users(db: Database, org: dict[str, Any], now: datetime) -> str | None:
    """The demo accounts (skipping those already there); returns the new admin's password."""
    admin_password = None
    with db.session() as session:
        for entry in org["users"]:
            if user_store.find_user(session, entry["username"]) is not None:
                continue
            is_admin = entry["role"] == "admin"
            new = NewUser(
                entry["username"],
                entry["role"],
                entry["unit"],
                entry["name"],
                None if is_admin else org["demo_password"],
            )
            _user, generated = add_user(session, new, SYSTEM, now)
            admin_password = generated if is_admin else admin_password
    return admin_password


def _install_sources(
    db: Database, settings: Settings, entries: list[dict[str, Any]], now: datetime
) -> str | None:
    """The demo's sources (skipping those already there) and, for the folder source, an
    export dated today in `<data_dir>/inbox`; returns the push source's token if it was made."""
    inbox = (settings.data_dir / "inbox").resolve()
    inbox.mkdir(parents=True, exist_ok=True)
    export = _FILES.joinpath("inbox_export.csv").read_text("utf-8")
    target = inbox / "商业系统导出.csv"
    target.write_text(export.replace("{day}", now.astimezone(CHINA_TZ).date().isoformat()), "utf-8")
    # Dated a minute back: the folder source leaves files changed in the last seconds for
    # its next run (they may still be being written), and the demo's first run should read it.
    settled = time.time() - 60
    os.utime(target, (settled, settled))
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    token = None
    with db.session() as session:
        existing = {row.name for row in source_store.list_sources(session)}
        for entry in entries:
            if entry["name"] in existing:
                continue
            config = {
                key: value.replace("{data_dir}", str(settings.data_dir.resolve()))
                if isinstance(value, str)
                else value
                for key, value in (entry.get("config") or {}).items()
            }
            _row, made = add_source(
                session,
                standard,
                SourceInput(**{**entry, "config": config}),
                now,
            )
            token = made or token
    return token
