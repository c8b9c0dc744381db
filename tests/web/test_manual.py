"""Manual sightings: the /manual form, POST /api/items/manual, screenshots kept and served."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from yuqing.collect.manage import SourceInput, add_source
from yuqing.settings import Settings
from yuqing.standard import load_standard
from yuqing.store.attachments import attachment_path
from yuqing.store.db import Database
from yuqing.store.tables import Attachment, SourceRun
from yuqing.store.tables import Item as ItemRow
from yuqing.store.tables import Source as SourceRow
from yuqing.web.api.ingest import MAX_MANUAL_BYTES
from yuqing.web.app import create_app

STANDARD = load_standard()


def png(width: int = 3, height: int = 2, shade: int = 0) -> bytes:
    """A real, decodable RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes([shade, 40, 90]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SIGHTING = {
    "title": "滨江晚报：云岭农商银行城东网点排长队",
    "content": "11月20日滨江晚报第3版报道，云岭农商银行城东网点门口排起长队，有储户称取不出钱。",
    "platform": "print",
    "published": "2026-11-20 09:30",
    "by": "张三",
}


@pytest.fixture
def client(
    sqlite_settings: Settings,
    sqlite_db: Database,
    web_user: Callable[[TestClient, str], TestClient],
) -> Iterator[TestClient]:
    """A monitor (who may enter sightings) signed in to a database without the demo."""
    with TestClient(create_app(sqlite_settings, sqlite_db)) as test_client:
        yield web_user(test_client, "monitor")


def test_api_entry_is_analysed_and_keeps_its_screenshots(
    client: TestClient, sqlite_db: Database, sqlite_settings: Settings
) -> None:
    image = png()
    response = client.post(
        "/api/items/manual",
        data=SIGHTING,
        files=[
            ("screenshots", ("版面.png", image, "image/png")),
            ("screenshots", ("局部.jpg", png(shade=200), "image/jpeg")),  # named .jpg, is a PNG
        ],
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "imported" and answer["source"] == "人工录入·报刊"
    assert [(a["filename"], a["media_type"]) for a in answer["attachments"]] == [
        ("版面.png", "image/png"),
        ("局部.jpg", "image/png"),
    ]
    assert answer["attachments"][0]["added_by"] == "张三"
    with sqlite_db.session() as session:
        item = session.get(ItemRow, answer["item_id"])
        assert item is not None
        assert item.platform == "print" and item.grade and item.sentiment
        assert item.published_at is not None
        source = session.get(SourceRow, answer["source_id"])
        assert source is not None and (source.kind, source.platform) == ("manual", "print")
        run = session.scalars(select(SourceRun).where(SourceRun.source_id == source.id)).one()
        assert (run.trigger, run.imported) == ("manual", 1)
    sha = answer["attachments"][0]["sha256"]
    assert attachment_path(sqlite_settings.data_dir, sha).read_bytes() == image
    detail = client.get(f"/api/items/{answer['item_id']}").json()
    assert [a["id"] for a in detail["attachments"]] == [a["id"] for a in answer["attachments"]]

    # The same sighting again (other wording of nothing): the same item, the same bytes
    # stored once on disk, no second row for a file the item already has.
    again = client.post(
        "/api/items/manual",
        data=SIGHTING,
        files=[("screenshots", ("再拍.png", image, "image/png"))],
    )
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate" and again.json()["item_id"] == answer["item_id"]
    with sqlite_db.session() as session:
        rows = session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert len(rows) == 2
    files = list((sqlite_settings.data_dir / "attachments").rglob("*"))
    assert len([f for f in files if f.is_file()]) == 2


def test_a_fake_image_is_refused_with_words_and_nothing_is_stored(
    client: TestClient, sqlite_db: Database
) -> None:
    response = client.post(
        "/api/items/manual",
        data=SIGHTING,
        files=[("screenshots", ("截图.png", b"just text, not an image", "image/png"))],
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "截图.png" in message and "不是 PNG" in message
    with sqlite_db.session() as session:
        assert session.scalars(select(ItemRow.id)).first() is None
        assert session.scalars(select(Attachment.id)).first() is None


def test_api_refuses_bad_fields_with_words(client: TestClient, sqlite_db: Database) -> None:
    def error(data: dict[str, str], **kwargs: object) -> tuple[int, str]:
        response = client.post("/api/items/manual", data=data, **kwargs)  # type: ignore[arg-type]
        return response.status_code, response.json()["error"]["message"]

    status, message = error({**SIGHTING, "title": "  "})
    assert status == 400 and "标题不能为空" in message
    status, message = error({**SIGHTING, "platform": "myspace"})
    assert status == 400 and "myspace" in message and "print" in message
    status, message = error({**SIGHTING, "url": "javascript:alert(1)"})
    assert status == 400 and "javascript" in message
    status, message = error({**SIGHTING, "published": "下个世纪"})
    assert status == 400 and "发布时间" in message
    with sqlite_db.session() as session:
        add_source(session, STANDARD, SourceInput(name="爬虫", kind="push"), datetime.now(UTC))
    status, message = error({**SIGHTING, "source": "爬虫"})
    assert status == 400 and "爬虫" in message and "接口推送" in message
    status, message = error(SIGHTING, headers={"Content-Length": str(MAX_MANUAL_BYTES + 1)})
    assert status == 413 and "上限" in message
    response = client.post("/api/items/manual", json=SIGHTING)
    assert response.status_code == 400 and "multipart" in response.json()["error"]["message"]
    status, message = error(
        SIGHTING, files=[("screenshots", (f"{n}.png", png(), "image/png")) for n in range(11)]
    )
    assert status == 400 and "10" in message


def test_form_page_saves_and_the_item_page_links_the_screenshot(
    client: TestClient, sqlite_db: Database
) -> None:
    page = client.get("/manual")
    assert page.status_code == 200
    for label in ("来源", "平台", "标题", "内容", "链接", "发布时间", "发现人", "截图"):
        assert label in page.text
    assert 'enctype="multipart/form-data"' in page.text
    image = png(shade=7)
    # Markup in a title is stripped by the pipeline; escaped markup becomes literal text,
    # which every page must show as text.
    title = "&lt;script&gt;alert(1)&lt;/script&gt;群聊截图"
    form = {**SIGHTING, "title": title, "platform": "wechat"}
    saved = client.post(
        "/manual",
        data=form,
        files=[("screenshots", ("群聊<1>.png", image, "image/png"))],
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    assert location.startswith("/items/")
    item_page = client.get(location)
    assert item_page.status_code == 200
    assert "<script>alert(1)</script>" not in item_page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;群聊截图" in item_page.text
    with sqlite_db.session() as session:
        [attachment] = session.scalars(select(Attachment)).all()
        item = session.get(ItemRow, attachment.item_id)
        assert item is not None and item.platform == "wechat"
        assert item.title == "<script>alert(1)</script>群聊截图"
    assert f'href="/attachments/{attachment.id}"' in item_page.text
    assert "群聊&lt;1&gt;.png" in item_page.text

    served = client.get(f"/attachments/{attachment.id}")
    assert served.status_code == 200 and served.content == image
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    disposition = served.headers["content-disposition"]
    assert disposition.startswith("inline;") and "filename*=UTF-8''%E7%BE%A4" in disposition
    assert 'filename="___1_.png"' in disposition  # an ASCII fallback with nothing to escape
    assert client.get("/attachments/999999").status_code == 404


def test_form_mistakes_show_the_form_again_filled(client: TestClient, sqlite_db: Database) -> None:
    form = {**SIGHTING, "title": "<b>报刊</b>标题"}
    response = client.post(
        "/manual", data=form, files=[("screenshots", ("假.png", b"GIF", "image/png"))]
    )
    assert response.status_code == 400
    assert "录入失败" in response.text and "假.png" in response.text
    assert 'value="&lt;b&gt;报刊&lt;/b&gt;标题"' in response.text
    assert "<b>报刊</b>" not in response.text
    with sqlite_db.session() as session:
        assert session.scalars(select(ItemRow.id)).first() is None
    # A browser that chose no file sends an empty file part: that is no screenshot.
    empty = client.post(
        "/manual",
        data=SIGHTING,
        files=[("screenshots", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )
    assert empty.status_code == 303, empty.text
