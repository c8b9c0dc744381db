"""Killing an import midway loses no committed row; running it again adds no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
from sqlalchemy import func, select

from yuqing.settings import Settings
from yuqing.store.db import open_database
from yuqing.store.tables import Item

ROWS = 6000


def _big_file(path: Path) -> Path:
    with path.open("wb") as f:
        for n in range(ROWS):
            record = {
                "id": f"r{n}",
                "url": f"https://bbs.example/t/{n}",
                "content": f"第{n}号帖子：网友讨论本地银行网点第{n * 7 % 13}号窗口的服务态度"
                f"和排队时间，编号{n}。",
                "platform": "forum",
            }
            f.write(orjson.dumps(record) + b"\n")
    return path


def _count(url: str) -> int:
    db = open_database(url, migrate=False)
    try:
        with db.session() as session:
            return session.scalar(select(func.count()).select_from(Item)) or 0
    finally:
        db.dispose()


def test_killed_import_keeps_committed_batches_and_resumes(
    tmp_path: Path, sqlite_settings: Settings
) -> None:
    path = _big_file(tmp_path / "big.jsonl")
    url = sqlite_settings.resolved_database_url
    env = {
        **os.environ,
        "YUQING_DATA_DIR": str(tmp_path / "data"),
        "YUQING_DATABASE_URL": url,
        "YUQING_BATCH_SIZE": "100",
    }
    cmd = [sys.executable, "-m", "yuqing", "import", str(path), "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count(url) < 300 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    survived = _count(url)
    assert 300 <= survived < ROWS, "the import should have been killed midway"
    assert survived % 100 == 0, "only whole batches (transactions) are ever committed"

    rerun = subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=True)
    report = orjson.loads(rerun.stdout)
    assert report["imported"] == ROWS - survived
    assert report["duplicates"] == survived
    assert report["errors"] == []
    assert _count(url) == ROWS
