"""The media runner: every input it starts carries the protocol and format whitelists,
and no other module of vidx starts a process (so none can forget them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from worker.media import runner
from worker.media.probe import refusal

WORKER = Path(__file__).resolve().parents[2] / "worker"
RUNNER = WORKER / "media" / "runner.py"
# modules allowed to start processes for reasons other than media (none yet); a module
# added here must never run ffmpeg or ffprobe
OTHER_PROCESSES: set[str] = set()

_SPAWNING_MODULES = {"subprocess", "pty"}
_SPAWNING_CALLS = {
    ("os", "system"),
    ("os", "popen"),
    ("os", "posix_spawn"),
    ("os", "posix_spawnp"),
    ("asyncio", "create_subprocess_exec"),
    ("asyncio", "create_subprocess_shell"),
    # ffmpeg-python starting its own processes
    ("ffmpeg", "probe"),
    ("ffmpeg", "run"),
    ("ffmpeg", "run_async"),
}


def _spawns(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name in _SPAWNING_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module in _SPAWNING_MODULES:
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = (node.value.id, node.attr)
            os_exec = name[0] == "os" and name[1].startswith(("exec", "spawn"))
            if name in _SPAWNING_CALLS or os_exec:
                found.append(".".join(name))
        elif isinstance(node, ast.Attribute) and node.attr in ("run", "run_async"):
            # an ffmpeg-python stream's .run(): any `.run(` in a module importing ffmpeg
            found.append(f"<expr>.{node.attr}")
    return found


def test_only_the_runner_starts_processes() -> None:
    offenders = {}
    for path in sorted(WORKER.rglob("*.py")):
        if path == RUNNER or str(path.relative_to(WORKER)) in OTHER_PROCESSES:
            continue
        tree = ast.parse(path.read_text(), str(path))
        imports_ffmpeg = any(
            isinstance(n, ast.Import) and any(a.name == "ffmpeg" for a in n.names)
            for n in ast.walk(tree)
        )
        found = [f for f in _spawns(tree) if imports_ffmpeg or not f.startswith("<expr>")]
        if found:
            offenders[str(path.relative_to(WORKER))] = found
    assert offenders == {}, "start ffmpeg/ffprobe through worker/media/runner.py"


GUARD = ["-protocol_whitelist", "file,pipe", "-format_whitelist", "mov,matroska"]


@pytest.mark.parametrize(
    "command",
    [
        ["ffmpeg", "-ss", "1", *GUARD, "-i", "file:/a.mp4", "-f", "null", "-"],
        ["ffmpeg", *GUARD, "-i", "file:/a.mp4", "-t", "1", *GUARD, "-i", "file:/a.mp4", "out"],
        ["ffprobe", "-v", "error", *GUARD, "-show_format", "file:/a.mp4"],
        ["/usr/bin/ffprobe", *GUARD, "file:/a.mp4"],
        ["ffmpeg", "-version"],  # no input at all
    ],
)
def test_guarded_commands_pass(command: list[str]) -> None:
    runner.check(command)


@pytest.mark.parametrize(
    "command",
    [
        ["ffmpeg", "-i", "file:/a.mp4", "-f", "null", "-"],
        ["ffmpeg", "-protocol_whitelist", "file,pipe", "-i", "file:/a.mp4", "out"],
        ["ffmpeg", "-format_whitelist", "mov", "-i", "file:/a.mp4", "out"],
        # the whitelists of the first input do not cover the second
        ["ffmpeg", *GUARD, "-i", "file:/a.mp4", "-i", "file:/b.m3u8", "out"],
        # an option of that name after the input is an output option
        ["ffmpeg", "-i", "file:/a.mp4", *GUARD, "out"],
        ["ffmpeg", "-protocol_whitelist", "file,http,tcp", "-format_whitelist", "mov", "-i", "x"],
        ["ffprobe", "-v", "error", "file:/a.mp4"],
        ["ffprobe", "file:/a.mp4", *GUARD],  # after the input: not what the check reads
        ["sh", "-c", "ffmpeg -i x"],
    ],
)
def test_unguarded_commands_are_refused(command: list[str]) -> None:
    with pytest.raises(ValueError):
        runner.check(command)


def test_built_inputs_carry_the_whitelists(tmp_path: Path) -> None:
    src = tmp_path / "-odd: name.mp4"
    args = runner.media_input(src, "-ss", "1.5")
    assert args == [
        "-ss", "1.5",
        "-protocol_whitelist", "file,pipe",
        "-format_whitelist", ",".join(runner.MEDIA_FORMATS),
        "-i", f"file:{src}",
    ]  # fmt: skip
    runner.check(["ffmpeg", *args, "out.mp4"])
    runner.check(runner.ffprobe_command(src, ["-v", "error"]))
    assert runner.ffprobe_command(src, [])[-1] == f"file:{src}"
    join = runner.media_input(src, "-f", "concat", formats=runner.JOIN_FORMATS)
    assert join[join.index("-format_whitelist") + 1] == "concat,mov"


def test_no_reference_demuxer_is_on_the_media_whitelist() -> None:
    refs = {"hls", "dash", "concat", "sdp", "rtp", "rtsp", "imf", "image2", "image2pipe", "tee"}
    assert not set(runner.MEDIA_FORMATS) & refs
    assert {"mov", "matroska"} <= set(runner.MEDIA_FORMATS)


@pytest.mark.parametrize(
    ("stderr", "demuxer"),
    [
        ("[hls @ 0x55b142f7a6c0] Format not on whitelist 'mov'\nfile:/x: Invalid argument", "hls"),
        ("[png_pipe @ 0x5] Format not on whitelist 'mov'\n", "png_pipe"),
        ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] moov atom not found\n", None),
        ("", None),
    ],
)
def test_refused_format_is_read_from_stderr(stderr: str, demuxer: str | None) -> None:
    assert runner.refused_format(stderr) == demuxer


@pytest.mark.parametrize(
    ("demuxer", "words"),
    [
        ("hls", "is a playlist/reference file (hls): vidx indexes media files only"),
        ("concat", "is a playlist/reference file (concat)"),
        ("sdp", "is a playlist/reference file (sdp)"),
        ("png_pipe", "still image, not a video"),
        ("image2", "still image, not a video"),
        ("tty", "not a media file vidx reads (tty format"),
    ],
)
def test_refusal_says_what_the_file_is(demuxer: str, words: str) -> None:
    assert words in refusal(demuxer)
