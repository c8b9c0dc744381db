"""FastAPI dependencies: the database session and settings of the running app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from yuqing.collect.runner import Collector
from yuqing.settings import Settings
from yuqing.standard import Standard, load_standard
from yuqing.store.db import Database


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(request: Request) -> Iterator[Session]:
    with get_db(request).session() as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_collector(request: Request) -> Collector:
    collector: Collector = request.app.state.collector
    return collector


def get_standard(request: Request) -> Standard:
    settings = get_settings(request)
    return load_standard(settings.standard_dir, settings.taxonomy)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StandardDep = Annotated[Standard, Depends(get_standard)]
CollectorDep = Annotated[Collector, Depends(get_collector)]
