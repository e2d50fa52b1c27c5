"""Files that point elsewhere (HLS playlists, ffconcat lists, SDP) are refused without
ffmpeg opening what they name: one line from the CLI, a 422 problem from the API, the
same words whether the named file exists or not, nothing kept. And every ffmpeg and
ffprobe process vidx starts, recorded by stand-ins on PATH, confines its inputs."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import MEDIA
from tests.integration.test_api_read import problem
from tests.integration.test_api_write import upload, uploaded_files, videos
from tests.integration.test_bad_inputs import snapshot, vidx
from worker.api import create_app
from worker.context import AppContext

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
]
REFERENCED = MEDIA / "real" / "counter.mp4"
REFUSED = "is a playlist/reference file ({}): vidx indexes media files only"


def hls(target: Path) -> str:
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\n{target}\n#EXT-X-ENDLIST\n"


def ffconcat(target: Path) -> str:
    # a relative name: the concat demuxer's default "safe" mode refuses absolute ones
    return f"ffconcat version 1.0\nfile '{target.name}'\nduration 3.0\n"


def sdp(target: Path) -> str:
    del target  # names a network stream, not a file
    return (
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=vidx\nc=IN IP4 127.0.0.1\nt=0 0\n"
        "m=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
    )


# (file name, its text given the file it names, the demuxer ffmpeg would read it with)
CASES: dict[str, tuple[str, Callable[[Path], str], str]] = {
    "hls": ("playlist.m3u8", hls, "hls"),
    "hls_named_mp4": ("holiday.mp4", hls, "hls"),
    "ffconcat": ("parts.ffconcat", ffconcat, "concat"),
    "sdp": ("camera.sdp", sdp, "sdp"),
}
NAMING_A_FILE = ["hls", "hls_named_mp4", "ffconcat"]


def make(folder: Path, case: str, *, exists: bool) -> tuple[Path, Path]:
    """(the reference file, the media file it names), that file present or not."""
    name, text, _ = CASES[case]
    folder.mkdir(parents=True, exist_ok=True)
    named = folder / "named.mp4"
    if exists:
        shutil.copyfile(REFERENCED, named)
    path = folder / name
    path.write_text(text(named))
    return path, named


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("data")
    res = vidx(["db", "upgrade"], data)
    assert res.returncode == 0, res.stderr
    return data


@pytest.mark.parametrize("case", sorted(CASES))
def test_run_refuses_a_reference_file(populated: Path, tmp_path: Path, case: str) -> None:
    path, _ = make(tmp_path / "in", case, exists=True)
    before = snapshot(populated)
    res = vidx(["run", str(path)], populated)
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [
        f"vidx: error: {path}: {REFUSED.format(CASES[case][2])}"
    ]
    assert snapshot(populated) == before


@pytest.mark.parametrize("case", NAMING_A_FILE)
def test_run_says_the_same_whether_the_named_file_exists(
    populated: Path, tmp_path: Path, case: str
) -> None:
    path, named = make(tmp_path / "in", case, exists=True)
    present = vidx(["run", str(path)], populated)
    named.unlink()
    absent = vidx(["run", str(path)], populated)
    assert present.returncode == absent.returncode != 0
    assert present.stderr == absent.stderr
    assert REFUSED.format(CASES[case][2]) in absent.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_upload_of_a_reference_file_is_a_problem(
    sqlite_ctx: AppContext, tmp_path: Path, case: str
) -> None:
    answers = []
    with TestClient(create_app(sqlite_ctx)) as client:
        for exists in (True, False):
            path, _ = make(tmp_path / str(exists), case, exists=exists)
            body = problem(upload(client, path), 422)
            answers.append(body)
            assert body["detail"] == f"{path.name}: {REFUSED.format(CASES[case][2])}"
    assert answers[0] == answers[1]  # nothing tells whether the named file exists
    assert uploaded_files(sqlite_ctx) == [] and videos(sqlite_ctx) == 0


# ------------------------------------------------------ every process, as started

_RECORDER = """#!{python}
import json, os, sys
with open(os.environ["VIDX_TEST_ARGV_LOG"], "a") as log:
    log.write(json.dumps(sys.argv) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""
# demuxers that open what a file names: none may ever be on an input's whitelist but
# vidx's own concat list of its own pieces
REFERENCE_DEMUXERS = {"hls", "dash", "concat", "sdp", "rtp", "rtsp", "imf", "image2"}


def recorders(folder: Path) -> Path:
    """`ffmpeg` and `ffprobe` that log their argv, then exec the real programs."""
    folder.mkdir()
    for tool in ("ffmpeg", "ffprobe"):
        real = shutil.which(tool)
        assert real is not None
        script = folder / tool
        script.write_text(_RECORDER.format(python=sys.executable, real=real))
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def inputs_of(argv: list[str]) -> list[tuple[str, list[str]]]:
    """Each input of a recorded command with the arguments given before it (ffmpeg:
    since the previous input)."""
    tool, args = Path(argv[0]).name, argv[1:]
    if tool == "ffprobe":  # one input, the last argument; options anywhere before it
        return [(args[-1], args[:-1])]
    found: list[tuple[str, list[str]]] = []
    options: list[str] = []
    words = iter(args)
    for arg in words:
        if arg == "-i":
            found.append((next(words), options))
            options = []
        else:
            options.append(arg)
    return found


def value(options: list[str], name: str) -> str | None:
    """The value of the last `name` among `options`."""
    at = [k for k, arg in enumerate(options[:-1]) if arg == name]
    return options[at[-1] + 1] if at else None


def short_programme(path: Path) -> Path:
    """4 s of H.264 + AAC with a cut at 2 s: shots, audio, smart cuts all exercised."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error",
         "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2",
         "-f", "lavfi", "-i", "smptebars=size=320x180:rate=25:duration=2",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-map", "2:a",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-bf", "2",
         "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_every_ffmpeg_and_ffprobe_input_is_confined(tmp_path: Path) -> None:
    video = short_programme(tmp_path / "short.mp4")
    log = tmp_path / "argv.log"
    fake_bin = recorders(tmp_path / "bin")
    env = {
        **os.environ,
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "VIDX_TEST_ARGV_LOG": str(log),
        "VIDX_DATA_DIR": str(tmp_path / "data"),
    }
    for key in ("VIDX_BROKER_URL", "VIDX_DATABASE_URL"):
        env.pop(key, None)

    def run(*args: str) -> str:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done.stdout

    vidx_cmd = [sys.executable, "-m", "worker"]
    summary = json.loads(
        run(*vidx_cmd, "run", str(video), "--clips", "shots,content", "--mode", "smart", "--json")
    )
    assert summary["shots"] == 2 and summary["clips"] == 3
    for mode in ("copy", "accurate"):
        run(*vidx_cmd, "clips", summary["video_id"], "--mode", mode, "--thumbnails", "--json")
    # the transcode (for Rekognition) and single-frame decoding are not reachable offline
    # from the CLI: the same code, called in a process of its own
    run(
        sys.executable, "-c",
        "import sys; from pathlib import Path\n"
        "from worker.media.frames import decode_frame_at\n"
        "from worker.media.probe import probe\n"
        "from worker.media.transcode import to_h264_mp4\n"
        "src = Path(sys.argv[1]); info = probe(src)\n"
        "to_h264_mp4(src, info, src.with_name('transcoded.mp4'))\n"
        "decode_frame_at(src, 2000, info)\n",
        str(video),
    )  # fmt: skip

    commands = [json.loads(line) for line in log.read_text().splitlines()]
    tools = [Path(c[0]).name for c in commands]
    assert tools.count("ffmpeg") >= 8 and tools.count("ffprobe") >= 8, tools
    joined = 0
    for command in commands:
        found = inputs_of(command)
        assert found, command
        for name, options in found:
            assert name.startswith("file:/"), command
            assert value(options, "-protocol_whitelist") == "file,pipe", command
            allowed = set((value(options, "-format_whitelist") or "").split(","))
            if value(options, "-f") == "concat":  # the smart cut's own list of its pieces
                assert allowed == {"concat", "mov"} and Path(name).name.startswith("."), command
                joined += 1
            else:
                assert allowed and not allowed & REFERENCE_DEMUXERS, command
    assert joined >= 1  # the smart join ran, and was checked
