"""The `vidx` command as scripts and people meet it (issue 11): output for pipes, JSON from
every read command, progress on a terminal, the data home, id prefixes, help and errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from tests.conftest import RECORDED, REPO, make_context
from tests.import_support import whole
from tests.integration.test_run import ok, vidx
from tests.terminal import run_on_terminal, screen
from worker.cli import app
from worker.context import use_context

pytestmark = pytest.mark.integration

VIDEO = "synthetic/vfr_phone.mp4"  # four 2.5 s shots
# `run --format json`: every key, each documented in the README's `vidx run` row
RUN_KEYS = {
    "video_id", "status", "features", "duration_ms", "shots", "technical_cues",
    "content_range_ms", "clips", "clips_dir", "notes", "analysis_reused", "analysis_ms",
    "elapsed_ms", "x_realtime",
}  # fmt: skip


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "VIDX_DATA_DIR": str(data_dir), **extra}
    for key in ("VIDX_BROKER_URL", "VIDX_DATABASE_URL"):
        if key not in extra:
            env.pop(key, None)
    return env


def vidx_env(args: list[str], env: dict[str, str], cwd: Path | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def one_error(res: Any) -> str:
    code = res.returncode if isinstance(res, subprocess.CompletedProcess) else res.exit_code
    assert code == 1, (res.stdout, res.stderr)
    [line] = res.stderr.splitlines()
    assert line.startswith("vidx: error: "), line
    return line


class InProcess:
    """`vidx` run in this process on a data dir (no interpreter start per command)."""

    def __init__(self, data: Path) -> None:
        self.ctx = make_context(data)

    def __call__(self, args: list[str]) -> Result:
        with use_context(self.ctx):
            return CliRunner().invoke(app, args)

    def json(self, args: list[str]) -> Any:
        res = self(args)
        assert res.exit_code == 0, res.stderr
        return json.loads(res.stdout)

    def close(self) -> None:
        self.ctx.db.engine.dispose()


@pytest.fixture
def here(indexed: dict[str, Any]) -> Iterator[InProcess]:
    cli = InProcess(indexed["data"])
    yield cli
    cli.close()


@pytest.fixture(scope="module")
def indexed(media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("ux")
    summary = ok(vidx(["run", str(media / VIDEO), "--clips", "none", "--format", "json"], data))
    return {"data": data, "id": summary["video_id"], "summary": summary}


def test_run_json_is_in_ms_and_documented(indexed: dict[str, Any]) -> None:
    s = indexed["summary"]
    assert set(s) == RUN_KEYS
    assert not [k for k in s if k.endswith("_s")]
    assert s["technical_cues"] == [{"type": "Content", "start_ms": 0, "end_ms": 10_000}]
    assert s["analysis_reused"] is False and s["x_realtime"] > 0
    assert 0 < s["analysis_ms"] <= s["elapsed_ms"]
    readme = (REPO / "README.md").read_text()
    [row] = [line for line in readme.splitlines() if line.startswith("| `vidx run ")]
    assert not [k for k in RUN_KEYS if f"`{k}`" not in row]


def test_a_rerun_says_the_analysis_was_reused(indexed: dict[str, Any], media: Path) -> None:
    again = ok(vidx(["run", str(media / VIDEO), "--clips", "none", "--json"], indexed["data"]))
    assert again["video_id"] == indexed["id"]
    assert again["analysis_reused"] is True and again["x_realtime"] is None
    text = vidx(["run", str(media / VIDEO), "--clips", "none"], indexed["data"])
    assert text.returncode == 0, text.stderr
    assert "analysis reused" in text.stdout and "real time" not in text.stdout


def test_every_read_command_prints_json(
    indexed: dict[str, Any], here: InProcess, media: Path, tmp_path: Path
) -> None:
    vid = indexed["id"]
    assert [v["video_id"] for v in here.json(["status", "--format", "json"])] == [vid]
    assert here.json(["status", vid, "--format", "json"])["status"] == "INDEXED"
    assert here.json(["status", vid, "--json"]) == here.json(["status", vid, "--format", "json"])
    assert here.json(["timeline", vid, "--format", "json"])["video"]["id"] == vid
    assert len(here.json(["query", "--video", vid, "--kind", "shot", "--format", "json"])) == 4
    assert set(here.json(["reconcile", "--format", "json"])) >= {"to_collect", "failed"}
    clips = here.json(["clips", vid, "--at", "content", "--out", str(tmp_path), "--format", "json"])
    assert [(c["kind"], c["start_ms"], c["end_ms"]) for c in clips["clips"]] == [
        ("content", 0, 10_000)
    ]
    page = str(whole(RECORDED[3][0], tmp_path))  # the recording as a whole response
    imported = ok(vidx(["import", "--feature", "labels", page, "--format", "json"], tmp_path))
    assert imported["video_id"].startswith("i")
    queued = vidx_env(  # an in-memory broker: the queued task goes nowhere
        ["submit", str(media / VIDEO), "--format", "json"],
        env_for(tmp_path / "queued", VIDX_BROKER_URL="memory://"),
    )
    assert queued.returncode == 0, queued.stderr
    assert json.loads(queued.stdout)["video_id"] == vid
    assert "unknown format 'xml'" in one_error(here(["status", "--format", "xml"]))


def test_nothing_is_wrapped_or_cut_for_a_pipe(indexed: dict[str, Any], tmp_path: Path) -> None:
    data, vid = indexed["data"], indexed["id"]
    out = tmp_path / ("a-long-folder-name-" * 6) / ("and-another-one-" * 6)
    res = vidx(["clips", vid[:8], "--at", "content", "--out", str(out)], data)
    assert res.returncode == 0, res.stderr
    [line] = res.stdout.splitlines()
    kind, index, path, _drift, *_made = line.split("\t")  # then mode, codec, note
    assert (kind, index) == ("content", "0")
    assert len(path) > 200 and Path(path).is_file() and Path(path).parent == out.resolve()
    table = vidx(["query", "--video", vid[:8], "--kind", "shot"], data)
    assert table.returncode == 0, table.stderr
    header, *rows = [r.split("\t") for r in table.stdout.splitlines()]
    assert header == ["video", "kind", "name", "start", "end", "confidence", "n"]
    assert [r[0] for r in rows] == [vid] * 4
    assert [r[3] for r in rows] == ["00:00:00.000", "00:00:02.500", "00:00:05.000", "00:00:07.500"]
    status = vidx(["status"], data)
    assert status.stdout.splitlines()[0].split("\t")[:2] == [vid, "INDEXED"]


def test_id_prefixes(indexed: dict[str, Any], here: InProcess) -> None:
    from models import Video

    vid = indexed["id"]
    assert here.json(["status", vid[:4], "--json"])["video_id"] == vid
    assert here.json(["timeline", vid[:6]])["video"]["id"] == vid
    twin = vid[:6] + ("0" if vid[6] == "f" else "f") * (len(vid) - 6)
    with here.ctx.db.session() as s:
        s.add(_copy(s.get_one(Video, vid), twin))
    try:
        line = one_error(here(["status", vid[:5]]))
        first, second = sorted([vid, twin])
        assert line == (
            f"vidx: error: id prefix {vid[:5]} matches 2 videos: {first}, {second} "
            "(give more characters)"
        )
        assert here.json(["status", vid[:7], "--json"])["video_id"] == vid
        for args in (["clips", vid[:4]], ["query", "--video", vid[:6]], ["timeline", vid[:4]]):
            assert "matches 2 videos" in one_error(here(args))
    finally:
        with here.ctx.db.session() as s:
            s.delete(s.get_one(Video, twin))
    # a separate process, as a user types it
    none = vidx(["status", "zzzz"], indexed["data"])
    assert one_error(none) == "vidx: error: no video with id 'zzzz'"
    assert "4 or more characters" in one_error(here(["timeline", vid[:3]]))


def _copy(video: Any, new_id: str) -> Any:
    from models import Video

    fields = {c.key: getattr(video, c.key) for c in Video.__table__.columns}
    return Video(**(fields | {"id": new_id, "sha256": None, "source": "twin.mp4"}))


def test_status_on_an_empty_store_says_where_it_looked(tmp_path: Path) -> None:
    data = tmp_path / "empty"
    res = vidx(["status"], data)
    assert res.returncode == 0 and res.stdout == ""
    assert res.stderr == (
        f"vidx: no videos yet (data dir {data.resolve()}, "
        f"database sqlite:///{data.resolve() / 'vidx.db'})\n"
    )
    assert ok(vidx(["status", "--format", "json"], data)) == []


def test_the_default_data_dir_does_not_depend_on_the_current_dir(tmp_path: Path) -> None:
    env = env_for(tmp_path, XDG_DATA_HOME=str(tmp_path / "xdg"))
    del env["VIDX_DATA_DIR"]
    for cwd in (tmp_path / "one", tmp_path / "two"):
        cwd.mkdir()
        res = vidx_env(["status"], env, cwd=cwd)
        assert f"data dir {tmp_path / 'xdg' / 'vidx'}," in res.stderr
        assert list(cwd.iterdir()) == []
    assert (tmp_path / "xdg" / "vidx" / "vidx.db").is_file()


def test_an_unreachable_database_is_one_line_naming_it(tmp_path: Path) -> None:
    env = env_for(tmp_path, VIDX_DATABASE_URL="postgresql://vidx:s3cret@127.0.0.1:1/nowhere")
    for args in (["status"], ["timeline", "abcd"]):
        line = one_error(vidx_env(args, env))
        assert line.startswith(
            "vidx: error: cannot use the database postgresql://vidx:***@127.0.0.1:1/nowhere: "
        ), line
        assert "s3cret" not in line and "internal error" not in line


def test_progress_on_a_terminal(media: Path, tmp_path: Path) -> None:
    """One clips row counting clips over all batches, after the analysis summary; progress
    on stderr only; a re-run says the analysis was reused instead of a speed."""
    env = env_for(tmp_path, VIDX_CLIP_BATCHES="2")
    args = [sys.executable, "-m", "worker", "run", str(media / VIDEO)]
    code, tty, _ = run_on_terminal(args, env)
    assert code == 0, tty
    shown = screen(tty)
    names = [line.split()[0] for line in shown]
    assert names[:4] == ["probe", "hash", "segments", "collect"]
    assert names[4] == "video" and "4 shots" in shown[5]
    # the content clip's span is named apart from the Content cues
    assert [line.strip() for line in shown if "programme span" in line] == [
        "programme span  00:00:00.000 - 00:00:10.000  (content_range_ms)"
    ]
    summary_end = next(i for i, line in enumerate(shown) if "real time" in line)
    assert names[summary_end + 1 :].count("clips") == 1 and "clips" not in names[:summary_end]
    assert re.search(r"^clips +━+ 5/5 clips", shown[summary_end + 1])
    assert names[summary_end + 2] == "thumbnails"
    assert shown[-2].startswith("INDEXED, took ")

    code, tty, stdout = run_on_terminal(args, env, stdout_too=False)
    assert code == 0, tty
    assert "analysis reused" in stdout and "real time" not in stdout
    assert "━" not in stdout and "5 clips in" in stdout
    rows = screen(tty)
    # the engine finds its stored result at once; the clips are verified, not cut again
    assert [r.split()[0] for r in rows] == ["probe", "hash", "segments", "clips", "thumbnails"]
    assert "5/5 clips" in rows[3]


def test_version_and_help_on_every_command() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout == f"vidx {version('vidx')}\n"
    commands = [[]] + [[c] for c in _commands()] + [["db", "upgrade"], ["aws", "setup"]]
    for cmd in commands:
        short = runner.invoke(app, [*cmd, "-h"], terminal_width=100)
        long = runner.invoke(app, [*cmd, "--help"], terminal_width=100)
        assert short.exit_code == 0 and short.stdout == long.stdout, cmd
        for unreadable in ("<str>", "<int>", "<float>", "<bool>", "<path>", "TEXT", "INTEGER"):
            assert unreadable not in short.stdout, (cmd, unreadable)
    helps = {c: runner.invoke(app, [c, "-h"], terminal_width=100).stdout for c in ("run", "query")}
    assert re.search(r"--min-length +MS ", helps["run"]) and "VIDEO" in helps["run"]
    assert re.search(r"--from +HH:MM:SS\.mmm ", helps["query"])
    assert re.search(r"--video +ID ", helps["query"])


def _commands() -> list[str]:
    import typer.main

    group: Any = typer.main.get_command(app)
    return sorted(group.commands)
