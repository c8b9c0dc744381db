"""What every `yuqing` subcommand shares: the Typer apps, consoles, settings, JSON, errors."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from yuqing.errors import YuqingError
from yuqing.settings import Settings, load_settings

if TYPE_CHECKING:
    from yuqing.accounts.actor import Actor
    from yuqing.store.db import Database

app = typer.Typer(
    help="Yuqing 舆情：舆情监测、分级、报告与处置。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
subjects_app = typer.Typer(
    help="监测主题（机构、领导、子公司、产品、专题）。", no_args_is_help=True
)
db_app = typer.Typer(help="数据库维护。", no_args_is_help=True)
app.add_typer(subjects_app, name="subjects")
app.add_typer(db_app, name="db")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
P = ParamSpec("P")
R = TypeVar("R")

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出结果。")]


def fail_cleanly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a YuqingError into one red line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except YuqingError as exc:
            err.print(f"[red]错误：{escape(str(exc))}[/red]")
            raise typer.Exit(1) from exc

    return wrapper


def cli_actor() -> Actor:
    """The system actor, named after the operating-system account running the command, so
    the audit log says who changed what from the command line."""
    from dataclasses import replace

    from yuqing.accounts.actor import SYSTEM

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "?"
    return replace(SYSTEM, username=f"命令行（{who[:40]}）", display_name="命令行")


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, default=str).decode() + "\n")


def current_settings() -> Settings:
    return load_settings()


def open_db(settings: Settings) -> Database:
    from yuqing.store.db import open_database

    return open_database(settings.resolved_database_url)


@contextmanager
def progress_bar(
    total: int | None, quiet: bool, label: str
) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on a terminal; nothing under --json or when piped."""
    if quiet or not err.is_terminal:
        yield None
        return
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
