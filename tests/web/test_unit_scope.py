"""Unit scoping over the demo: a user of the 曲靖 branch sees the items, events and sources of
曲靖 and its counties (and those of no unit), never the rest; anything beyond answers 404."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from yuqing.store.db import Database
from yuqing.store.tables import Event, Item, ItemSubject, Source, Subject, Unit
from yuqing.store.units import subtree_ids


def _qj_units(db: Database) -> set[int]:
    with db.session() as session:
        qj = session.scalars(select(Unit.id).where(Unit.code == "QJ")).one()
        return subtree_ids(session, qj)


def _item_units(db: Database, item_id: int) -> set[int]:
    """The units an item belongs to: its subjects' and its source's."""
    with db.session() as session:
        units = set(
            session.scalars(
                select(Subject.unit_id)
                .join(ItemSubject, ItemSubject.subject_id == Subject.id)
                .where(ItemSubject.item_id == item_id, Subject.unit_id.is_not(None))
            )
        )
        source = session.scalars(
            select(Source.unit_id).join(Item, Item.source_id == Source.id).where(Item.id == item_id)
        ).first()
        return units | ({source} if source is not None else set())


def _all_ids(client: TestClient, path: str, key: str) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        body = client.get(path, params={"per_page": 200, "page": page}).json()
        ids += [row["id"] for row in body[key]]
        if len(ids) >= body["total"]:
            return ids
        page += 1


def test_items_of_other_units_are_not_listed_or_shown(
    signed_in: Callable[[str], TestClient], sqlite_db: Database
) -> None:
    head, branch = signed_in("monitor"), signed_in("qj_monitor")
    everything = set(_all_ids(head, "/api/items", "items"))
    seen = set(_all_ids(branch, "/api/items", "items"))
    assert seen and seen < everything
    qj = _qj_units(sqlite_db)
    for item_id in seen:
        units = _item_units(sqlite_db, item_id)
        assert not units or units & qj, item_id
    hidden = sorted(everything - seen)
    assert hidden
    for item_id in hidden[:20]:
        assert _item_units(sqlite_db, item_id) and not _item_units(sqlite_db, item_id) & qj
    other = hidden[0]
    missing, nonexistent = branch.get(f"/api/items/{other}"), branch.get("/api/items/99999999")
    assert missing.status_code == nonexistent.status_code == 404  # hidden looks like absent
    assert missing.json()["error"] == {"type": "http", "message": f"条目 {other} 不存在"}
    assert branch.get(f"/items/{other}").status_code == 404
    review = {"grade": "general", "note": "越权改判"}
    assert branch.post(f"/api/items/{other}/review", json=review).status_code == 404
    assert branch.post(f"/items/{other}/review", data=review).status_code == 404
    with sqlite_db.session() as session:
        row = session.get(Item, other)
        assert row is not None and row.reviewed_at is None
    mine = sorted(seen)[0]
    assert branch.get(f"/api/items/{mine}").status_code == 200
    # The items page and search count only what the branch sees.
    html = branch.get("/").text
    assert f"共 {len(seen)} 条" in html


def test_events_and_sources_of_other_units_answer_404(
    signed_in: Callable[[str], TestClient], sqlite_db: Database
) -> None:
    branch = signed_in("qj_office")
    qj = _qj_units(sqlite_db)
    listed = _all_ids(branch, "/api/events", "events")
    with sqlite_db.session() as session:
        events = {e.id: e.unit_id for e in session.scalars(select(Event))}
        sources = {s.id: s.unit_id for s in session.scalars(select(Source))}
    assert listed and set(listed) == {i for i, unit in events.items() if unit is None or unit in qj}
    other = next(i for i, unit in events.items() if unit is not None and unit not in qj)
    assert branch.get(f"/api/events/{other}").status_code == 404
    assert branch.get(f"/events/{other}").status_code == 404
    narrowed = branch.get("/api/events", params={"unit": 1, "per_page": 200}).json()["events"]
    assert {e["id"] for e in narrowed} <= set(listed)  # asking for the head office adds nothing

    visible = {s["id"] for s in branch.get("/api/sources").json()["sources"]}
    assert visible == {i for i, unit in sources.items() if unit is None or unit in qj}
    hidden_source = next(i for i, unit in sources.items() if unit is not None and unit not in qj)
    assert branch.get(f"/api/sources/{hidden_source}").status_code == 404
    assert branch.get(f"/sources/{hidden_source}").status_code == 404


def test_the_head_office_sees_everything(
    signed_in: Callable[[str], TestClient], sqlite_db: Database
) -> None:
    head = signed_in("viewer")
    with sqlite_db.session() as session:
        items = len(session.scalars(select(Item.id)).all())
        events = len(session.scalars(select(Event.id)).all())
    assert head.get("/api/items").json()["total"] == items
    assert head.get("/api/events").json()["total"] == events


def test_a_viewer_sees_no_buttons_it_may_not_use(signed_in: Callable[[str], TestClient]) -> None:
    viewer, monitor = signed_in("viewer"), signed_in("monitor")
    item_id = viewer.get("/api/items", params={"per_page": 1}).json()["items"][0]["id"]
    assert 'action="/items/' not in viewer.get(f"/items/{item_id}").text
    page = monitor.get(f"/items/{item_id}").text
    assert f'action="/items/{item_id}/review"' in page
    assert 'name="csrf_token"' in page


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x10\x20\x30")
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def test_manual_entry_and_screenshots_keep_to_the_unit(
    signed_in: Callable[[str], TestClient], sqlite_db: Database
) -> None:
    head, branch = signed_in("monitor"), signed_in("qj_monitor")
    with sqlite_db.session() as session:
        office_source = session.scalars(select(Source).where(Source.kind == "manual")).first()
        assert office_source is not None and office_source.unit_id is not None
        source_name = office_source.name
    sighting = {"title": "报刊：网点装修", "content": "某报报道网点装修期间暂停营业。"}
    refused = branch.post("/api/items/manual", data={**sighting, "source": source_name})
    assert refused.status_code == 400
    assert "没有名为或编号为" in refused.json()["error"]["message"]  # as if it did not exist

    shot = [("screenshots", ("报纸.png", _png(), "image/png"))]
    entered = head.post("/api/items/manual", data={**sighting, "source": source_name}, files=shot)
    assert entered.status_code == 200, entered.text
    answer = entered.json()
    [attachment] = answer["attachments"]
    assert attachment["added_by"] == "李若溪（monitor）"  # the finder defaults to the user
    assert head.get(f"/attachments/{attachment['id']}").status_code == 200
    assert branch.get(f"/attachments/{attachment['id']}").status_code == 404
    assert branch.get(f"/api/items/{answer['item_id']}").status_code == 404
