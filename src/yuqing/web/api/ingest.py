"""POST /api/ingest: external crawlers push items with their push source's bearer token.

The body is read at most `MAX_PUSH_BYTES` far (the declared length is checked first), parsed
as JSON, and answered per object by `yuqing.collect.intake.ingest_records`.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from yuqing.collect.intake import MAX_PUSH_ITEMS, ingest_records
from yuqing.store.sources import source_by_token
from yuqing.web.deps import CollectorDep

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
    return report.as_dict()
