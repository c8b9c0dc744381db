"""/api/cases: report forms (报告处理单) — list, open, read, act, files, the form as DOCX.

Reading needs "cases.read" and opening "cases.create"; every change goes through
`CaseService.act`, where the workflow table decides per action, role and unit
(refusals answer 409, bad fields 400). Cases the caller cannot see answer 404.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from yuqing.accounts.actor import Actor
from yuqing.cases.form_docx import case_form_docx
from yuqing.cases.listing import case_filter
from yuqing.cases.present import (
    case_form,
    case_json,
    case_row_json,
    file_json,
    final_states,
    measures_json,
    steps_of,
)
from yuqing.cases.service import CaseService
from yuqing.errors import ConfigError, InputError, StorageError
from yuqing.store import cases as case_store
from yuqing.store.attachments import MAX_UPLOAD_BYTES, attachment_path
from yuqing.store.tables import Case, CaseFile, Unit
from yuqing.web.auth import Require
from yuqing.web.deps import SessionDep, get_settings, get_standard

router = APIRouter(prefix="/api/cases", tags=["cases"])
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def get_case_service(request: Request) -> CaseService:
    return CaseService(get_standard(request), get_settings(request))


CaseServiceDep = Annotated[CaseService, Depends(get_case_service)]
Reader = Annotated[Actor, Require("cases.read")]


def visible_or_404(session: Session, actor: Actor, case_id: int) -> Case:
    """The case if the actor sees it; 404 otherwise (not revealing that it exists)."""
    case = case_store.visible_case(session, actor, case_id)
    if case is None:
        raise HTTPException(status_code=404, detail=f"报告处理单 {case_id} 不存在或无权查看")
    return case


def content_disposition(kind: str, filename: str) -> str:
    """`attachment; filename="…"; filename*=UTF-8''…`: an ASCII stand-in for old clients and
    the real (possibly Chinese) name per RFC 6266 / 5987."""
    fallback = re.sub(
        r"_+",
        "_",
        "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename),
    ).strip("_")
    return f"{kind}; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(data: bytes, filename: str, media_type: str) -> Response:
    """A download that browsers neither sniff nor run."""
    return Response(
        content=data,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition("attachment", filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


def upload_name(filename: str | None) -> str:
    """The base name of an uploaded file without path or control characters ("附件" if none)."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable()).strip()[:200] or "附件"


def read_case_file(service: CaseService, row: CaseFile) -> bytes:
    """The stored bytes of a case file, checked against its SHA-256."""
    path = attachment_path(service.settings.data_dir, row.sha256)
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


@router.get("", summary="报告处理单列表（含下一步时限与超时步骤数）")
def list_cases(
    session: SessionDep,
    service: CaseServiceDep,
    actor: Reader,
    state: Annotated[str | None, Query(description="状态代码，如 draft、reported")] = None,
    grade: Annotated[str | None, Query(description="等级代码，如 harmful")] = None,
    unit: Annotated[str | None, Query(description="单位代码或编号")] = None,
    q: Annotated[str | None, Query(max_length=200, description="编号或主题包含的文字")] = None,
    open_only: Annotated[bool, Query(alias="open", description="只列未办结、未撤回的")] = False,
    since: Annotated[str | None, Query(description="发现日期起，如 2026-11-01")] = None,
    until: Annotated[str | None, Query(description="发现日期止（含当天）")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    flt = case_filter(
        session,
        service,
        state=state,
        grade=grade,
        unit=unit,
        q=q,
        open_only=open_only,
        since=since,
        until=until,
    )
    found = case_store.list_cases(
        session,
        actor,
        flt,
        final_states=final_states(service.workflow),
        page=page,
        per_page=per_page,
    )
    now = datetime.now(UTC)
    steps = steps_of(session, service, found.rows, now)
    return {
        "total": found.total,
        "page": page,
        "per_page": per_page,
        "cases": [
            case_row_json(service, case, session.get(Unit, case.unit_id), steps[case.id])
            for case in found.rows
        ],
    }


@router.get("/measures", summary="某等级可选的处置措施")
def measures(
    service: CaseServiceDep,
    _actor: Reader,
    grade: Annotated[str, Query(description="等级代码，如 harmful")],
    illegal_or_false: Annotated[bool, Query(description="内容违法或虚假")] = False,
) -> dict[str, Any]:
    try:
        offered = measures_json(service.standard, grade, illegal_or_false)
    except ConfigError as exc:
        raise InputError("grade", str(exc)) from None
    return {"grade": grade, "illegal_or_false": illegal_or_false, "measures": offered}


class OpenCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: int | None = Field(default=None, ge=1, description="信息编号")
    event_id: int | None = Field(default=None, ge=1, description="事件编号（一事一单）")


@router.post("", status_code=201, summary="从信息或事件新建报告处理单（草稿）")
def open_case(
    body: OpenCase,
    session: SessionDep,
    service: CaseServiceDep,
    actor: Annotated[Actor, Require("cases.create")],
) -> JSONResponse:
    now = datetime.now(UTC)
    case = service.open(session, actor, now, item_id=body.item_id, event_id=body.event_id)
    return JSONResponse(
        case_json(session, service, case, now, actor),
        status_code=201,
        headers={"Location": f"/api/cases/{case.id}"},
    )


@router.get("/{case_id}", summary="一张报告处理单：各栏目、时限、处理过程、附件、可做的操作")
def get_case(
    case_id: int, session: SessionDep, service: CaseServiceDep, actor: Reader
) -> dict[str, Any]:
    case = visible_or_404(session, actor, case_id)
    return case_json(session, service, case, datetime.now(UTC), actor)


@router.post("/{case_id}/actions/{action}", summary="办理一步（字段见 allowed_actions）")
def act(
    case_id: int,
    action: str,
    session: SessionDep,
    service: CaseServiceDep,
    actor: Reader,
    body: Annotated[dict[str, Any] | None, Body(description="该步的字段，另可带 note")] = None,
) -> dict[str, Any]:
    case = visible_or_404(session, actor, case_id)
    if action == "attach":
        raise InputError("attach", f"添加附件请上传文件：POST /api/cases/{case_id}/files")
    now = datetime.now(UTC)
    service.act(session, actor, case, action, body or {}, now)
    return case_json(session, service, case, now, actor)


@router.post("/{case_id}/files", status_code=201, summary="添加附件（图片、PDF、DOCX、XLSX）")
def add_file(
    case_id: int,
    file: UploadFile,
    session: SessionDep,
    service: CaseServiceDep,
    actor: Reader,
) -> dict[str, Any]:
    case = visible_or_404(session, actor, case_id)
    data = file.file.read(MAX_UPLOAD_BYTES + 1)  # one byte over is enough to refuse it
    row = service.add_file(
        session, actor, case, upload_name(file.filename), data, datetime.now(UTC)
    )
    return file_json(row)


@router.get("/{case_id}/files/{file_id}", summary="下载附件")
def get_file(
    case_id: int, file_id: int, session: SessionDep, service: CaseServiceDep, actor: Reader
) -> Response:
    case = visible_or_404(session, actor, case_id)
    row = session.get(CaseFile, file_id)
    if row is None or row.case_id != case.id:
        raise HTTPException(status_code=404, detail=f"报告处理单 {case_id} 没有附件 {file_id}")
    return file_response(read_case_file(service, row), row.filename, row.media_type)


@router.get("/{case_id}/form.docx", summary="填好的报告处理单（Word 文档）")
def form_docx(
    case_id: int, session: SessionDep, service: CaseServiceDep, actor: Reader
) -> Response:
    case = visible_or_404(session, actor, case_id)
    form = case_form(session, service, case, datetime.now(UTC))
    return file_response(case_form_docx(form), f"{case.number}.docx", DOCX_TYPE)
