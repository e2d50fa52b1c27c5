"""Every ffmpeg and ffprobe process vidx starts is started here: inputs confined to local
files of known media containers, runs that end (or are stopped), one clear error.

A file can point elsewhere. An HLS playlist (even one named .mp4) makes the hls demuxer
open every file or URL it lists; an ffconcat list (concat), SDP (rtp over udp), a DASH
manifest, an IMF composition do the same, and the image2 demuxer reads a whole numbered
sequence when a name holds "%d". ffmpeg has no demuxer blacklist, so every input gets

- `-protocol_whitelist file,pipe`: the input, and anything a demuxer would open from it,
  is a local file (vidx never hands ffmpeg a URL: an s3:// video is read by Rekognition
  itself, and uploads and clips are local files);
- `-format_whitelist MEDIA_FORMATS`: checked right after probing, before the demuxer
  reads the header, so a refused playlist opens nothing it names, and the refusal is the
  same whether those names exist or not. Nested demuxers (concat's parts) inherit both.

MEDIA_FORMATS is an allow-list of container demuxers that read one file and nothing
else, not "all but a few": a new ffmpeg version's reference-following demuxer stays out.
The mov demuxer could follow external data references, but only with `enable_drefs` /
`use_absolute_path`, both off by default and never set by vidx.

`check` refuses (ValueError: a bug in vidx) to start a command with an input lacking
either option, and tests/unit/test_media_runner.py keeps every process start in this
module, so a new call cannot forget them.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worker.errors import MediaToolError

PROTOCOLS = "file,pipe"
# demuxer names as `ffmpeg -demuxers` lists them (one name of a multi-name demuxer is
# enough: "mov" admits "mov,mp4,m4a,3gp,3g2,mj2", "matroska" admits "matroska,webm")
MEDIA_FORMATS = (
    *("mov", "matroska", "avi", "mpegts", "mpeg", "mxf", "flv", "ogg", "asf", "dv"),
    # audio-only containers: refused later as "no video stream", which says more
    *("wav", "mp3", "aac", "flac"),
)
# vidx's own ffconcat list of the pieces it wrote (smart cut), and those MP4 pieces
JOIN_FORMATS = ("concat", "mov")
_TOOLS = ("ffmpeg", "ffprobe")
_REFUSED = re.compile(r"\[([\w,]+) @ (?:0x)?[0-9a-fA-F]+\] Format not on whitelist")


class ToolFailedError(MediaToolError):
    """ffmpeg/ffprobe exited with an error; `stderr` keeps what it said."""

    def __init__(self, message: str, stderr: str) -> None:
        super().__init__(message)
        self.stderr = stderr

    @property
    def refused_format(self) -> str | None:
        """The demuxer the format whitelist refused (e.g. "hls"), if that was the failure."""
        return refused_format(self.stderr)


def target(path: Path) -> str:
    """ "file:" + absolute path: a name starting with "-" or holding ":" is neither an
    option nor a protocol to ffmpeg."""
    return "file:" + str(Path(path).resolve())


def input_options(formats: Sequence[str] = MEDIA_FORMATS) -> dict[str, str]:
    """The whitelists as ffmpeg-python keyword options: `ffmpeg.input(target(p), **…)`."""
    return {"protocol_whitelist": PROTOCOLS, "format_whitelist": ",".join(formats)}


def media_input(path: Path, *options: str, formats: Sequence[str] = MEDIA_FORMATS) -> list[str]:
    """ffmpeg arguments opening `path` as an input: `options` (seek, duration...), the
    whitelists, `-i file:<path>`."""
    return [*options, *_guard(formats), "-i", target(path)]


def ffprobe_command(path: Path, options: Sequence[str]) -> list[str]:
    return ["ffprobe", *options, *_guard(MEDIA_FORMATS), target(path)]


def refused_format(stderr: str) -> str | None:
    """The demuxer named in "[hls @ 0x...] Format not on whitelist", or None."""
    found = _REFUSED.search(stderr)
    return found.group(1) if found else None


def check(command: Sequence[str]) -> None:
    """Raise ValueError unless every input of this ffmpeg/ffprobe command carries both
    whitelists (ffmpeg: among the options since the previous input)."""
    tool = Path(command[0]).name if command else ""
    if tool not in _TOOLS:
        raise ValueError(f"not an ffmpeg or ffprobe command: {list(command)[:1]}")
    args = list(command[1:])
    if tool == "ffprobe":
        if not args or not _guarded(args[:-1]):
            raise ValueError(f"ffprobe command without the input whitelists: {list(command)}")
        return
    options: list[str] = []
    for arg in args:
        if arg == "-i":
            if not _guarded(options):
                raise ValueError(f"ffmpeg input without the whitelists: {list(command)}")
            options = []
        else:
            options.append(arg)


def ffprobe_json(
    path: Path, *, doing: str = "ffprobe", timeout_s: float | None = None, **options: Any
) -> dict[str, Any]:
    """ffprobe's JSON about `path`: format and streams plus whatever `options` ask for
    (keyword = option name, None for a flag), as `ffmpeg.probe` gives it."""
    args = ["-show_format", "-show_streams", "-of", "json"]
    for name, value in options.items():
        args += [f"-{name}"] if value is None else [f"-{name}", str(value)]
    out = capture(ffprobe_command(path, args), path, timeout_s, doing)
    try:
        result: dict[str, Any] = json.loads(out)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MediaToolError(f"{path}: ffprobe printed output that is not JSON") from None
    return result


def capture(command: list[str], src: Path, timeout_s: float | None, doing: str) -> bytes:
    """Run `command` to completion; its stdout. ToolFailedError on a non-zero exit."""
    check(command)
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False
        )  # run() kills the process on a timeout or an interruption
    except subprocess.TimeoutExpired:
        raise MediaToolError(f"{src}: {doing} took over {timeout_s:.0f} s, stopped") from None
    except OSError as exc:
        raise _cannot_run(command, src, exc) from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace")
        raise ToolFailedError(
            f"{src}: {doing} failed: {_reason(command, done.returncode, stderr)}", stderr
        )
    return done.stdout


def popen(command: list[str], pass_fds: Sequence[int] = ()) -> subprocess.Popen[bytes]:
    """Start `command` with stdout and stderr piped, for a caller that streams them (the
    caller waits for it, and kills it if it stops early); `pass_fds`: more descriptors the
    process inherits (a second output pipe). OSError if it cannot start."""
    check(command)
    return subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=tuple(pass_fds),
    )


def run_ffmpeg(command: list[str], src: Path, timeout_s: float, doing: str) -> None:
    """Run `command`; `doing` names the work in errors ("cutting", "transcoding")."""
    run_ffmpeg_together([command], src, timeout_s, doing)


def run_ffmpeg_together(
    commands: Sequence[list[str]], src: Path, timeout_s: float, doing: str
) -> None:
    """Run `commands` side by side, one process each, all within `timeout_s`. The first
    failure (in command order) is raised once every process has ended; a timeout or an
    interruption (KeyboardInterrupt, a cancelled task) stops them all.

    One ffmpeg process keeps about 1.3 of 2 cores busy on short cuts (its demuxing,
    filtering and muxing run on one thread), so independent work splits into two."""
    for command in commands:
        check(command)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            procs.append(_start(command, src))
        deadline = time.monotonic() + timeout_s
        failures: list[tuple[str, str]] = []
        for command, proc in zip(commands, procs, strict=True):
            try:
                _, stderr = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise MediaToolError(
                    f"{src}: {doing} took over {timeout_s:.0f} s, stopped"
                ) from None
            if proc.returncode != 0:
                text = stderr.decode("utf-8", "replace")
                failures.append((_reason(command, proc.returncode, text), text))
        if failures:
            reason, text = failures[0]
            raise ToolFailedError(f"{src}: {doing} failed: {reason}", text)
    except BaseException:
        for proc in procs:
            _stop(proc)
        raise


def _guard(formats: Sequence[str]) -> list[str]:
    return [x for name, value in input_options(formats).items() for x in (f"-{name}", value)]


def _guarded(options: Sequence[str]) -> bool:
    def value(name: str) -> str | None:
        at = [k for k, arg in enumerate(options[:-1]) if arg == name]
        return options[at[-1] + 1] if at else None

    return value("-protocol_whitelist") == PROTOCOLS and bool(value("-format_whitelist"))


def _start(command: list[str], src: Path) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise _cannot_run(command, src, exc) from None


def _cannot_run(command: Sequence[str], src: Path, exc: OSError) -> MediaToolError:
    if isinstance(exc, FileNotFoundError):
        return MediaToolError(f"{command[0]} is not installed (or not on PATH)")
    return MediaToolError(f"{src}: cannot run {command[0]}: {exc.strerror or exc}")


def _reason(command: Sequence[str], returncode: int, stderr: str) -> str:
    if returncode < 0:
        return f"{Path(command[0]).name} was killed by signal {-returncode}"
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {returncode}"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()  # a no-op for a process that has already ended
    proc.wait()
