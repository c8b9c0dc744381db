"""POST /api/ingest: external crawlers push items with their push source's bearer token
(no user: the token is the push source's, not an API token);
POST /api/items/manual: a monitor enters an offline sighting with screenshots ("items.manual").

A push body is read at most `MAX_PUSH_BYTES` far (the declared length is checked first),
parsed as JSON, and answered per object by `yuqing.collect.intake.ingest_records`.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from yuqing.accounts.actor import Actor
from yuqing.collect.intake import (
    MAX_PUSH_ITEMS,
    MAX_SCREENSHOTS,
    Screenshot,
    Sighting,
    add_sighting,
    ingest_records,
)
from yuqing.errors import InputError
from yuqing.store.attachments import MAX_IMAGE_BYTES
from yuqing.store.sources import find_source, source_by_token
from yuqing.web.auth import Require
from yuqing.web.deps import CollectorDep, SessionDep, StandardDep

Enterer = Annotated[Actor, Require("items.manual")]

router = APIRouter(prefix="/api", tags=["ingest"])

MAX_PUSH_BYTES = 5 * 1024 * 1024
"""Largest push body accepted; a bigger one is refused before it is parsed."""

_PUSH_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "一个条目对象，或最多 1000 个条目对象的数组（字段名可用英文或中文）",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object"},
                        {"type": "array", "items": {"type": "object"}, "maxItems": MAX_PUSH_ITEMS},
                    ]
                },
                "example": {
                    "id": "abc-1",
                    "title": "某银行网点排长队",
                    "content": "今天上午网点门口排起长队……",
                    "url": "https://bbs.example.cn/t/1",
                    "published_at": "2026-11-20 09:30",
                    "metrics": {"views": "1.2万"},
                },
            }
        },
    }
}


def _error(status: int, kind: str, message: str, **headers: str) -> JSONResponse:
    """The app's one error shape, with headers (a 401 names the scheme it wants)."""
    return JSONResponse(
        {"error": {"type": kind, "message": message}}, status_code=status, headers=headers
    )


class _BodyTooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing to read past `limit` bytes whatever the headers said."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _type_name(value: object) -> str:
    names = {str: "字符串", int: "数字", float: "数字", bool: "布尔值", type(None): "null"}
    return names.get(type(value), type(value).__name__)


@router.post("/ingest", openapi_extra=_PUSH_SCHEMA, response_model=None)
async def push(request: Request, collector: CollectorDep) -> dict[str, Any] | JSONResponse:
    """Push one item or a list of up to 1000 with `Authorization: Bearer <推送令牌>`.

    Answers per item in input order: `imported`, `duplicate` (with the stored `item_id`) or
    `error` (with the reason); one bad item never stops the others.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _error(
            401,
            "auth",
            "缺少推送令牌：请在请求头 Authorization 中写 “Bearer <令牌>”（令牌在添加推送源时显示）",
            **{"WWW-Authenticate": "Bearer"},
        )
    with collector.db.session() as session:
        source = source_by_token(session, token) if len(token) <= 512 else None
        source_id = source.id if source is not None and source.kind == "push" else None
    if source_id is None:
        return _error(
            401,
            "auth",
            "推送令牌无效，或它所属的推送源已停用：请核对令牌，或在源管理中启用该源",
            **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    too_large = f"请求体超过 {MAX_PUSH_BYTES // (1024 * 1024)} MB 上限：请分批推送"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_PUSH_BYTES:
        return _error(413, "input", too_large)
    try:
        body = await _read_body(request, MAX_PUSH_BYTES)
    except _BodyTooLarge:
        return _error(413, "input", too_large)
    if not body.strip():
        return _error(400, "input", "请求体为空：应为一个 JSON 对象或对象数组")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        where = f"第 {exc.lineno} 行第 {exc.colno} 列"
        return _error(400, "input", f"请求体不是有效的 UTF-8 JSON：{where}附近出错（{exc.msg}）")
    if isinstance(data, dict):
        objects: list[Any] = [data]
    elif isinstance(data, list):
        objects = data
    else:
        return _error(400, "input", f"请求体应为一个 JSON 对象或对象数组，实际为{_type_name(data)}")
    if not objects:
        return _error(400, "input", "请求体是空数组：至少应有一个条目对象")
    if len(objects) > MAX_PUSH_ITEMS:
        return _error(
            413,
            "input",
            f"一次最多推送 {MAX_PUSH_ITEMS} 条，本次 {len(objects)} 条：请分批推送",
        )
    report = await ingest_records(collector, source_id, objects, trigger="push")
    # New items and new sightings (fresh metrics can escalate a grade): alert now, not at
    # the next poll.
    request.app.state.alerts.wake()
    return report.as_dict()


MAX_MANUAL_BYTES = MAX_SCREENSHOTS * MAX_IMAGE_BYTES + 2 * 1024 * 1024
"""Largest manual-entry form: every screenshot at its limit, plus the text fields."""
SIGHTING_FIELDS = ("title", "content", "platform", "url", "published", "by", "source")

_MANUAL_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["title", "content"],
                    "properties": {
                        "title": {"type": "string", "description": "标题"},
                        "content": {"type": "string", "description": "内容"},
                        "platform": {"type": "string", "description": "平台代码或中文名"},
                        "url": {"type": "string", "description": "链接（可选）"},
                        "published": {"type": "string", "description": "发布时间"},
                        "by": {"type": "string", "description": "发现人"},
                        "source": {"type": "string", "description": "人工录入源的名称或编号"},
                        "screenshots": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "截图：PNG/JPEG/WebP/GIF，每张不超过 10 MB",
                        },
                    },
                }
            }
        },
    }
}


class FormTooLarge(InputError):
    """The declared form is larger than `MAX_MANUAL_BYTES` (answered 413)."""


async def read_sighting(request: Request, max_text_chars: int) -> Sighting:
    """A sighting from a multipart form; InputError in words when the form is too large,
    malformed or carries something other than files as screenshots."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise InputError("", "请求缺少 Content-Length：请以普通表单（multipart/form-data）上传")
    if int(declared) > MAX_MANUAL_BYTES:
        limit = MAX_MANUAL_BYTES // (1024 * 1024)
        raise FormTooLarge("", f"表单超过 {limit} MB 上限：请减少截图数量或压缩截图")
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise InputError(
            "", "请以 multipart/form-data 表单提交（字段 title、content，截图字段 screenshots）"
        )
    try:
        form = await request.form(
            max_files=MAX_SCREENSHOTS,
            max_fields=len(SIGHTING_FIELDS) + 5,
            max_part_size=max(1024 * 1024, max_text_chars * 4),
        )
    except HTTPException as exc:
        raise InputError(
            "", f"表单无法解析（截图最多 {MAX_SCREENSHOTS} 张，文字字段不能过长）：{exc.detail}"
        ) from None
    try:
        text: dict[str, str] = {}
        for name in SIGHTING_FIELDS:
            value = form.get(name)
            if value is not None and not isinstance(value, str):
                raise InputError(name, f"字段 {name} 应为文字，却上传了文件")
            text[name] = value or ""
        shots: list[Screenshot] = []
        for value in form.getlist("screenshots"):
            if isinstance(value, str):
                if value:
                    raise InputError("screenshots", "字段 screenshots 应为上传的图片文件，却是文字")
                continue
            data = await value.read(MAX_IMAGE_BYTES + 1)
            if data or value.filename:  # a browser sends an empty part when no file is chosen
                shots.append(Screenshot(value.filename or "", data))
    finally:
        await form.close()
    return Sighting(
        title=text["title"],
        content=text["content"],
        platform=text["platform"],
        url=text["url"] or None,
        published=text["published"] or None,
        by=text["by"] or None,
        source=text["source"] or None,
        screenshots=shots,
    )


def as_entered_by(session: Session, sighting: Sighting, actor: Actor) -> Sighting:
    """The sighting as `actor` may enter it: a named source must be one the actor sees
    (another unit's source is answered as unknown), and the finder defaults to the actor."""
    if sighting.source and sighting.source.strip():
        row = find_source(session, sighting.source.strip())
        if not actor.sees_unit(row.unit_id):
            raise InputError("source", f"没有名为或编号为 {sighting.source[:100]!r} 的源")
    if not (sighting.by or "").strip():
        sighting.by = actor.label[:100]
    return sighting


@router.post("/items/manual", openapi_extra=_MANUAL_SCHEMA, tags=["items"], response_model=None)
async def manual_entry(
    request: Request,
    actor: Enterer,
    session: SessionDep,
    collector: CollectorDep,
    standard: StandardDep,
) -> dict[str, Any] | JSONResponse:
    """Enter an offline sighting (print, broadcast, QQ/WeChat group) with screenshots.

    The item is analysed and graded like any other; answers its id, whether it was new or
    seen before (`imported` / `duplicate`), and the screenshots kept. The finder (`by`)
    defaults to the signed-in user.
    """
    # Signing in may have written (token or session last used): end that transaction now, or
    # SQLite's write lock would be held while the collector's own sessions write.
    session.commit()
    try:
        sighting = await read_sighting(request, collector.settings.max_content_chars)
    except FormTooLarge as exc:
        return _error(413, "input", exc.reason)
    with collector.db.session() as session:
        sighting = as_entered_by(session, sighting, actor)
    result = await add_sighting(collector, standard, sighting)
    return result.as_dict()
