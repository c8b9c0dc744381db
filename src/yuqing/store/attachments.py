"""Files kept with items (screenshots of manual sightings), stored by content.

The bytes live under `<data_dir>/attachments/<sha[:2]>/<sha>`: the same file added twice is
stored once, and a stored file is never rewritten. Rows in `attachments` link an item to a
stored file under the name and media type it was uploaded with.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from yuqing.errors import InputError, StorageError
from yuqing.store.tables import Attachment
from yuqing.store.tables import Item as ItemRow

ATTACHMENTS_DIR = "attachments"
"""The folder of the data directory that holds attachment files."""


IMAGE_TYPES: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}
"""Image media types accepted as screenshots → the file extension they get."""
MAX_IMAGE_BYTES = 10 * 1024 * 1024
"""Largest screenshot accepted, per file."""
MAX_FILENAME_CHARS = 200


def image_type(data: bytes) -> str | None:
    """The media type of image bytes by their signature (magic bytes), never by a file name."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image(filename: str, data: bytes) -> str:
    """The image type of an uploaded screenshot by its bytes; InputError naming the file
    when it is too large or not a PNG, JPEG, WebP or GIF image."""
    name = filename or "（未命名文件）"
    if len(data) > MAX_IMAGE_BYTES:
        size = f"{len(data) / 1024 / 1024:.1f} MB"
        raise InputError("screenshots", f"截图「{name}」大小 {size}，超过 10 MB 上限")
    media_type = image_type(data)
    if media_type is None:
        raise InputError(
            "screenshots",
            f"截图「{name}」不是 PNG、JPEG、WebP 或 GIF 图片（按文件内容判断，与扩展名无关）",
        )
    return media_type


MAX_UPLOAD_BYTES = 20 * 1024 * 1024
"""Largest case attachment accepted, per file."""
_OFFICE_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def check_upload(filename: str, data: bytes) -> str:
    """The media type of a case attachment (image, PDF, DOCX or XLSX) judged by its bytes;
    InputError naming the file when it is empty, too large or of another kind."""
    name = filename or "（未命名文件）"
    if not data:
        raise InputError("file", f"附件「{name}」是空文件")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            "file", f"附件「{name}」大小 {len(data) / 1024 / 1024:.1f} MB，超过 20 MB 上限"
        )
    media_type = image_type(data)
    if media_type is not None:
        return media_type
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if data.startswith(b"PK\x03\x04") and extension in _OFFICE_TYPES:
        return _OFFICE_TYPES[extension]
    raise InputError(
        "file",
        f"附件「{name}」须为图片（PNG、JPEG、WebP、GIF）、PDF、DOCX 或 XLSX（按文件内容判断）",
    )


def safe_filename(original: str, number: int, media_type: str) -> str:
    """A name safe to keep and show: the base name without control characters, bounded."""
    base = original.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    return base[:MAX_FILENAME_CHARS] or f"截图{number}.{IMAGE_TYPES[media_type]}"


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file in the content-addressed store."""

    sha256: str
    size: int
    path: Path


def attachment_path(data_dir: Path, sha256: str) -> Path:
    """Where the file with this SHA-256 lives; refuses anything but a 64-digit hex digest."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise StorageError(f"附件摘要无效：{sha256[:80]!r}（应为 64 位小写十六进制 SHA-256）")
    return data_dir / ATTACHMENTS_DIR / sha256[:2] / sha256


def store_file(data_dir: Path, data: bytes) -> StoredFile:
    """Store bytes by their SHA-256 (once: an existing file is kept) and say where."""
    sha = hashlib.sha256(data).hexdigest()
    path = attachment_path(data_dir, sha)
    if path.is_file() and path.stat().st_size == len(data):
        return StoredFile(sha, len(data), path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(f"无法保存附件到 {path.parent}：{exc.strerror or exc}") from exc
    return StoredFile(sha, len(data), path)


def add_attachment(
    session: Session,
    item_id: int,
    stored: StoredFile,
    *,
    filename: str,
    media_type: str,
    added_by: str | None,
    now: datetime,
) -> Attachment:
    """Link a stored file to an item; the same file linked again returns the existing row."""
    existing = session.scalars(
        select(Attachment).where(Attachment.item_id == item_id, Attachment.sha256 == stored.sha256)
    ).first()
    if existing is not None:
        return existing
    row = Attachment(
        item_id=item_id,
        sha256=stored.sha256,
        filename=filename,
        media_type=media_type,
        size=stored.size,
        added_by=added_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def item_attachments(session: Session, item_id: int) -> list[Attachment]:
    """An item's attachments in the order they were added."""
    return list(
        session.scalars(
            select(Attachment).where(Attachment.item_id == item_id).order_by(Attachment.id)
        )
    )


def attachments_of(item: ItemRow) -> list[Attachment]:
    """The attachments of an item loaded in a session (for pages and the item JSON)."""
    session = object_session(item)
    return item_attachments(session, item.id) if session is not None else []


def get_attachment(session: Session, attachment_id: int) -> Attachment | None:
    return session.get(Attachment, attachment_id)


def read_attachment(data_dir: Path, row: Attachment) -> bytes:
    """The stored bytes of an attachment, checked against its SHA-256."""
    path = attachment_path(data_dir, row.sha256)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StorageError(
            f"附件 #{row.id}「{row.filename}」的文件 {path} 无法读取：{exc.strerror or exc}；"
            "请检查数据目录是否被移动或清理"
        ) from exc
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise StorageError(f"附件 #{row.id}「{row.filename}」的文件 {path} 内容与摘要不符，已损坏")
    return data


def attachment_summary(row: Attachment) -> dict[str, Any]:
    """An attachment as JSON (the item detail, `yuqing add --json`)."""
    return {
        "id": row.id,
        "filename": row.filename,
        "media_type": row.media_type,
        "size": row.size,
        "sha256": row.sha256,
        "added_by": row.added_by,
        "url": f"/attachments/{row.id}",
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


__all__ = [
    "ATTACHMENTS_DIR",
    "IMAGE_TYPES",
    "MAX_IMAGE_BYTES",
    "StoredFile",
    "add_attachment",
    "attachment_path",
    "attachment_summary",
    "attachments_of",
    "check_image",
    "get_attachment",
    "image_type",
    "item_attachments",
    "read_attachment",
    "safe_filename",
    "store_file",
]
