"""Two deletes of one video at the same moment (a retried DELETE): the files one of them
removes first are not an error for the other."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from worker import deletion


def _ctx(data_dir: Path) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(data_dir=data_dir))


def test_files_a_twin_removed_first_are_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "clips" / "v1"
    (tree / "deep").mkdir(parents=True)
    (tree / "deep" / "a.mp4").write_bytes(b"x")
    result = tmp_path / "results" / "r.json"
    result.parent.mkdir()
    result.write_bytes(b"{}")
    real_unlink = Path.unlink

    def twin_first(self: Path, missing_ok: bool = False) -> None:
        real_unlink(self)  # the twin got there between our check and our unlink
        real_unlink(self)

    monkeypatch.setattr(Path, "unlink", twin_first)
    plan = deletion._Plan("v1", trees=[tree], files=[result], empty_dirs=[], kept=[])
    deletion._remove_files(_ctx(tmp_path), plan)
    assert not tree.exists() and not result.exists()
