"""Shot thumbnails and a sprite sheet, from one decode of the video.

Each shot is pictured by its middle frame: the frame showing at the middle of its
[start_ms, end_ms), picked by timestamp (the same rule as `frames.decode_frame_at`),
so variable frame rates need no frame counting. The exact pts of those frames come
from the demuxed packets (no decoding); one ffmpeg run then decodes the video once,
keeps just those frames with a `select` on their pts, and writes both the per-shot
JPEGs and the sprite sheet (`tile`). ffmpeg applies the rotation metadata before our
filters, so everything comes out as a player shows it.

Files are written into a hidden folder next to the final ones, checked (count and
JPEG dimensions), then renamed into place; a failure leaves the previous set as it was.
"""

from __future__ import annotations

import bisect
import json
import math
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from worker.errors import MediaToolError
from worker.media import runner
from worker.media.info import MediaInfo
from worker.media.runner import run_ffmpeg
from worker.media.sprite_files import INDEX_NAME, SPRITE_NAME
from worker.timecode import round_half_up

SHOT_MAX_WIDTH = 640  # a viewer's poster size; never upscaled
TILE_WIDTH = 160
SHOT_QSCALE = 3  # mjpeg -q:v, 2 (best) .. 31
SPRITE_QSCALE = 4
MIN_COLUMNS = 10
TIMEOUT_BASE_S = 120  # plus one second per second of video: decoding runs far faster
INDEX_SCHEMA = "vidx.sprite/1"


@dataclass(frozen=True)
class ShotSpan:
    seq: int
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class ShotThumb:
    seq: int
    at_ms: int  # start of the pictured frame, ms from the first frame
    path: Path
    width: int
    height: int


@dataclass(frozen=True)
class Tile:
    index: int  # the shot's index
    x: int
    y: int
    w: int
    h: int
    start_ms: int
    end_ms: int
    at_ms: int


@dataclass(frozen=True)
class Thumbnails:
    shots: list[ShotThumb]
    sprite: Path
    index: Path  # JSON: the sprite's tiles
    sprite_width: int
    sprite_height: int
    tiles: list[Tile]


def make_thumbnails(
    src: Path,
    info: MediaInfo,
    shots: Sequence[ShotSpan],
    folder: Path,
    *,
    max_width: int = SHOT_MAX_WIDTH,
    tile_width: int = TILE_WIDTH,
) -> Thumbnails:
    """One JPEG per shot (`shot_<index>.jpg`) plus `sprite.jpg` and `sprite.json`."""
    if not shots:
        raise ValueError(f"{src}: no shots to picture")
    folder = Path(folder).resolve()
    starts_pts, starts_ms = _frame_starts(Path(src), info)
    picked = [_showing(starts_pts, starts_ms, (s.start_ms + s.end_ms) // 2) for s in shots]
    frames = sorted(set(picked))  # two shots may show the same frame: decode it once
    shot_w, shot_h = _fit(info.display_size, max_width)
    tile_w, tile_h = _fit(info.display_size, min(tile_width, shot_w))
    columns = _columns(len(frames), tile_w, tile_h)
    rows = math.ceil(len(frames) / columns)
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / f".tmp-{secrets.token_hex(6)}"
    work.mkdir()
    try:
        script = work / "graph.txt"
        script.write_text(
            _graph(frames, info.display_size, (shot_w, shot_h), (tile_w, tile_h), (columns, rows))
        )
        timeout = TIMEOUT_BASE_S + info.duration_ms / 1000
        run_ffmpeg(_command(src, script, work), Path(src), timeout, "making thumbnails")
        written = sorted(work.glob("f_*.jpg"))
        if len(written) != len(frames):
            raise MediaToolError(
                f"{src}: thumbnails: {len(written)} frames decoded, expected {len(frames)}"
            )
        for path in written:
            _check_size(src, path, (shot_w, shot_h))
        _check_size(src, work / SPRITE_NAME, (columns * tile_w, rows * tile_h))
        start_of = dict(zip(starts_pts, starts_ms, strict=True))
        at_ms = {p: start_of[p] for p in frames}
        position = {p: k for k, p in enumerate(frames)}
        tiles = [
            Tile(
                s.seq,
                (position[p] % columns) * tile_w,
                (position[p] // columns) * tile_h,
                tile_w,
                tile_h,
                s.start_ms,
                s.end_ms,
                at_ms[p],
            )
            for s, p in zip(shots, picked, strict=True)
        ]
        index = {
            "schema": INDEX_SCHEMA,
            "sprite": SPRITE_NAME,
            "width": columns * tile_w,
            "height": rows * tile_h,
            "columns": columns,
            "rows": rows,
            "tiles": [asdict(t) for t in tiles],
        }
        (work / INDEX_NAME).write_text(json.dumps(index, indent=1) + "\n")
        thumbs = _place(work, folder, shots, picked, position, at_ms, (shot_w, shot_h))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Thumbnails(
        thumbs, folder / SPRITE_NAME, folder / INDEX_NAME, columns * tile_w, rows * tile_h, tiles
    )


def _frame_starts(src: Path, info: MediaInfo) -> tuple[list[int], list[int]]:
    """Every video frame's pts, and its start in whole ms from the first frame (rounded
    half up, as the media truth and the cutter count), from the packets alone."""
    data = runner.ffprobe_json(
        src,
        doing="reading timestamps",
        v="error",
        select_streams="V:0",
        show_entries="packet=pts:stream=time_base",
    )
    time_base = Fraction(data["streams"][0]["time_base"])
    pts = sorted({int(p["pts"]) for p in data.get("packets", []) if p.get("pts") is not None})
    if not pts:
        raise MediaToolError(f"{src}: no video frame timestamps")
    ms = [round_half_up(p * time_base * 1000) - info.start_pts_ms for p in pts]
    return pts, ms


def _showing(starts_pts: list[int], starts_ms: list[int], at: int) -> int:
    """pts of the frame showing at `at` ms: the last one starting at or before it."""
    k = bisect.bisect_right(starts_ms, at) - 1
    return starts_pts[max(k, 0)]


def _fit(display: tuple[int, int], max_width: int) -> tuple[int, int]:
    """Width at most `max_width` (never upscaled), aspect kept, both even."""
    width, height = display
    w = min(width, max_width)
    h = round(height * w / width)
    return max(2, w - w % 2), max(2, h - h % 2)


def _columns(n: int, tile_w: int, tile_h: int) -> int:
    # ten across while that stays small; many shots get a squarish sheet instead of a
    # tall strip (decoders and browsers refuse images over ~16-65k pixels high)
    return min(n, max(MIN_COLUMNS, math.ceil(math.sqrt(n * tile_h / tile_w))))


def _graph(
    frames: list[int],
    display: tuple[int, int],
    shot: tuple[int, int],
    tile: tuple[int, int],
    grid: tuple[int, int],
) -> str:
    # pts equality, not times: exact whatever the rate; `-copyts` keeps the source pts.
    # area scaling averages the pixels a thumbnail pixel covers (no aliasing).
    select = _any_of([f"eq(pts\\,{p})" for p in frames])
    return (
        f"[0:V:0]select={select},split=2[a][b];"
        f"[a]scale={shot[0]}:{shot[1]}:flags=area,setsar=1,format={_pix_fmt(display, shot)}"
        "[shots];"
        f"[b]scale={tile[0]}:{tile[1]}:flags=area,setsar=1,format={_pix_fmt(display, tile)},"
        f"tile={grid[0]}x{grid[1]}[sprite]\n"
    )


def _any_of(terms: list[str]) -> str:
    """The terms summed as a balanced tree: ffmpeg 5.1 refuses a flat sum of a few hundred
    terms ("Cannot allocate memory": 100 parse, 200 fail); nested pairs parse at 5,000
    terms, evaluated at ~0.1 us per term and frame."""
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return f"({_any_of(terms[:half])}+{_any_of(terms[half:])})"


def _pix_fmt(display: tuple[int, int], size: tuple[int, int]) -> str:
    """4:4:4 JPEG once the picture is at least halved: a 4:2:0 source then has colour
    for every thumbnail pixel, which 4:2:0 would halve again (the 720p programme's
    testsrc2 and mandelbrot shots: 29 and 24 dB against the frame; 4:4:4: over 38 dB,
    for ~35 % more bytes). Less reduced, 4:2:0 keeps the source's own colour samples and
    the decoder rebuilds them as a player does; converting them to 4:4:4 here moves the
    chroma siting (the phone clip's game-of-life shot: 41 dB as 4:2:0, 27 dB as 4:4:4)."""
    return "yuvj444p" if 2 * size[0] <= display[0] else "yuvj420p"


def _command(src: Path, script: Path, work: Path) -> list[str]:
    # the graph goes in a file: one term per shot can outgrow a command-line argument
    return [
        *("ffmpeg", "-nostdin", "-v", "error", "-copyts", *runner.media_input(src)),
        *("-filter_complex_script", str(script)),
        *("-map", "[shots]", "-fps_mode", "passthrough", "-q:v", str(SHOT_QSCALE)),
        *("-start_number", "0", "-f", "image2", str(work / "f_%06d.jpg")),
        *("-map", "[sprite]", "-frames:v", "1", "-q:v", str(SPRITE_QSCALE)),
        *("-update", "1", "-f", "image2", str(work / SPRITE_NAME)),
    ]


def _place(
    work: Path,
    folder: Path,
    shots: Sequence[ShotSpan],
    picked: list[int],
    position: dict[int, int],
    at_ms: dict[int, int],
    size: tuple[int, int],
) -> list[ShotThumb]:
    """Rename the checked files into place, then drop shot files of an older set."""
    out = []
    for s, p in zip(shots, picked, strict=True):
        staged = work / f"shot_{s.seq:04d}.jpg"
        shutil.copyfile(work / f"f_{position[p]:06d}.jpg", staged)
        out.append(ShotThumb(s.seq, at_ms[p], folder / staged.name, *size))
    for staged in [*(work / t.path.name for t in out), work / SPRITE_NAME, work / INDEX_NAME]:
        staged.replace(folder / staged.name)  # rename(2): atomic per file, same filesystem
    keep = {t.path.name for t in out}
    for old in folder.glob("shot_*.jpg"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    return out


def _check_size(src: Path, path: Path, size: tuple[int, int]) -> None:
    got = jpeg_size(path)
    if got != size:
        raise MediaToolError(f"{src}: thumbnail {path.name} is {got}, expected {size}")


def jpeg_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header; None if it is not a readable JPEG."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
        # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        i += 2 + length
    return None
