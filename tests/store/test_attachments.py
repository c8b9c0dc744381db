"""Content-addressed attachment files and their rows."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from yuqing.errors import InputError, StorageError
from yuqing.settings import Settings
from yuqing.store import attachments as store
from yuqing.store.db import Database
from yuqing.store.tables import Item as ItemRow

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20
GIF = b"GIF89a" + b"\x00" * 20
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 12


def _item(db: Database, content: str) -> int:
    with db.session() as session:
        row = ItemRow(
            content=content,
            platform="print",
            media_tier="other",
            discovered_at=NOW,
            content_hash=hashlib.md5(content.encode()).hexdigest(),
        )
        session.add(row)
        session.flush()
        return row.id


def test_same_bytes_are_stored_once_and_read_back(settings: Settings, db: Database) -> None:
    first = store.store_file(settings.data_dir, PNG)
    second = store.store_file(settings.data_dir, PNG)
    assert first == second and first.sha256 == hashlib.sha256(PNG).hexdigest()
    assert first.path == settings.data_dir / "attachments" / first.sha256[:2] / first.sha256
    assert [p for p in (settings.data_dir / "attachments").rglob("*") if p.is_file()] == [
        first.path
    ]
    one, two = _item(db, "报刊一"), _item(db, "报刊二")
    with db.session() as session:
        a = store.add_attachment(
            session, one, first, filename="a.png", media_type="image/png", added_by="张三", now=NOW
        )
        again = store.add_attachment(
            session, one, first, filename="b.png", media_type="image/png", added_by=None, now=NOW
        )
        other = store.add_attachment(
            session, two, first, filename="c.png", media_type="image/png", added_by=None, now=NOW
        )
        assert again.id == a.id and other.id != a.id  # one row per item and file
    with db.session() as session:
        assert [r.filename for r in store.item_attachments(session, one)] == ["a.png"]
        row = store.get_attachment(session, other.id)
        assert row is not None and store.read_attachment(settings.data_dir, row) == PNG
        summary = store.attachment_summary(row)
        assert summary["url"] == f"/attachments/{row.id}" and summary["size"] == len(PNG)
        item = session.get(ItemRow, one)
        assert item is not None and [r.id for r in store.attachments_of(item)] == [a.id]
    assert store.attachments_of(ItemRow(id=one)) == []  # not in a session: nothing to ask


def test_a_damaged_or_missing_file_is_a_storage_error(settings: Settings, db: Database) -> None:
    stored = store.store_file(settings.data_dir, GIF)
    item = _item(db, "广播")
    with db.session() as session:
        row = store.add_attachment(
            session, item, stored, filename="g.gif", media_type="image/gif", added_by=None, now=NOW
        )
    stored.path.write_bytes(GIF + b"tampered")
    with pytest.raises(StorageError, match="已损坏"):
        store.read_attachment(settings.data_dir, row)
    stored.path.unlink()
    with pytest.raises(StorageError, match="无法读取"):
        store.read_attachment(settings.data_dir, row)
    with pytest.raises(StorageError, match="摘要无效"):
        store.attachment_path(settings.data_dir, "../../etc/passwd")


def test_images_are_known_by_their_bytes_not_their_names() -> None:
    assert store.image_type(PNG) == "image/png"
    assert store.image_type(JPEG) == "image/jpeg"
    assert store.image_type(GIF) == "image/gif"
    assert store.image_type(WEBP) == "image/webp"
    assert store.image_type(b"RIFF\x10\x00\x00\x00WAVEfmt ") is None
    assert store.image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert store.check_image("shot.txt", JPEG) == "image/jpeg"
    with pytest.raises(InputError, match=r"shot\.png.*不是 PNG"):
        store.check_image("shot.png", b"%PDF-1.7")
    with pytest.raises(InputError, match="超过 10 MB"):
        store.check_image("big.png", PNG + b"\x00" * store.MAX_IMAGE_BYTES)


def test_file_names_are_kept_safe() -> None:
    assert store.safe_filename("C:\\Users\\me\\版面.png", 1, "image/png") == "版面.png"
    assert store.safe_filename("../../x\x00\n.png", 1, "image/png") == "x.png"
    assert store.safe_filename("", 3, "image/webp") == "截图3.webp"
    assert len(store.safe_filename("长" * 1000, 1, "image/png")) == store.MAX_FILENAME_CHARS
