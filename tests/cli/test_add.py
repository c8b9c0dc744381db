"""`yuqing add`: an offline sighting with screenshots, end to end through the pipeline."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from yuqing.cli import app
from yuqing.store.attachments import attachment_path
from yuqing.store.db import open_database
from yuqing.store.tables import Attachment
from yuqing.store.tables import Item as ItemRow


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1 grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def run(tmp_path: Path, sqlite_url: str) -> CliRunner:
    env = {"YUQING_DATA_DIR": str(tmp_path / "data"), "YUQING_DATABASE_URL": sqlite_url}
    return CliRunner(env=env)


ARGS = [
    "add",
    "--title",
    "滨江广播：云岭农商银行挤兑传言",
    "--content",
    "今早滨江交通广播听众来电称云岭农商银行要倒闭，多人前往网点取钱。",
    "--platform",
    "广播",
    "--published",
    "2026-11-20 07:45",
    "--by",
    "李四",
]


def test_add_stores_an_analysed_item_with_its_screenshots(
    run: CliRunner, tmp_path: Path, sqlite_url: str
) -> None:
    shot = tmp_path / "录音截图.png"
    shot.write_bytes(_png())
    result = run.invoke(app, [*ARGS, "--screenshot", str(shot), "--json"])
    assert result.exit_code == 0, result.output
    answer = orjson.loads(result.stdout)
    assert answer["status"] == "imported" and answer["source"] == "人工录入·广播电视"
    [attachment] = answer["attachments"]
    assert attachment["filename"] == "录音截图.png" and attachment["added_by"] == "李四"
    assert attachment_path(tmp_path / "data", attachment["sha256"]).read_bytes() == _png()
    db = open_database(sqlite_url)
    with db.session() as session:
        item = session.get(ItemRow, answer["item_id"])
        assert item is not None and item.platform == "broadcast" and item.grade
        assert session.scalars(select(Attachment.item_id)).all() == [item.id]
    db.dispose()

    again = run.invoke(app, [*ARGS, "--source", answer["source"]])
    assert again.exit_code == 0, again.output
    assert f"#{answer['item_id']}" in again.stdout and "此前已录入" in again.stdout


def test_add_refuses_a_fake_screenshot_in_one_line(run: CliRunner, tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_text("not an image", encoding="utf-8")
    result = run.invoke(app, [*ARGS, "--screenshot", str(fake), "--json"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("错误：") and "fake.png" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    missing = run.invoke(app, [*ARGS, "--screenshot", str(tmp_path / "nope.png")])
    assert missing.exit_code == 1 and "nope.png" in missing.stderr
    unknown = run.invoke(app, [*ARGS, "--source", "没有这个源"])
    assert unknown.exit_code == 1 and "没有这个源" in unknown.stderr
