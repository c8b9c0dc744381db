"""Every setting is documented in the README, and defaults are sane."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuqing.errors import ConfigError
from yuqing.settings import Settings, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert f"YUQING_{name.upper()}" in text, f"YUQING_{name.upper()} is not in the README"
        assert field.description, f"setting {name} has no description"


def test_default_database_is_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'yuqing.db'}"
    assert Settings(database_url="postgresql+psycopg://x@y/z").resolved_database_url.startswith(
        "postgresql"
    )


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUQING_BATCH_SIZE", "lots")
    with pytest.raises(ConfigError, match="YUQING_BATCH_SIZE='lots'"):
        load_settings()
