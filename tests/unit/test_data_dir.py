"""The default data dir is the user's data folder, whatever the current directory;
VIDX_DATA_DIR wins; the embedded database lives in it; URLs are shown without passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.config import Settings


def test_default_is_the_user_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIDX_DATA_DIR", raising=False)
    monkeypatch.delenv("VIDX_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    seen = set()
    for cwd in (tmp_path / "a", tmp_path / "b"):
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        seen.add(Settings().data_dir)
    assert seen == {tmp_path / "xdg" / "vidx"}
    assert Settings().effective_database_url == f"sqlite:///{tmp_path / 'xdg' / 'vidx' / 'vidx.db'}"


def test_vidx_data_dir_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDX_DATA_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings().data_dir == tmp_path / "mine"


def test_the_test_suite_never_uses_the_real_user_data_dir() -> None:
    import platformdirs

    assert Path(platformdirs.user_data_dir("vidx")) != Path.home() / ".local/share/vidx"
    assert Settings().data_dir != Path(platformdirs.user_data_dir("vidx"))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://vidx:s3cret@db:5432/vidx", "postgresql://vidx:***@db:5432/vidx"),
        ("postgresql://vidx@db/vidx", "postgresql://vidx@db/vidx"),
        ("sqlite:////data/vidx.db", "sqlite:////data/vidx.db"),
    ],
)
def test_shown_database_url_masks_the_password(url: str, shown: str) -> None:
    assert Settings(database_url=url).shown_database_url == shown
