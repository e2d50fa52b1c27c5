"""Damaged copies of the test media, made at test time: files that probe cleanly (the
container and its sample index are intact) but whose video does not decode cleanly.

Measured with Debian 12's ffmpeg 5.1 on programme_720p25.mp4 (1463 frames):
- `garbage_middle`: the middle third of the mdat payload overwritten with random bytes
  -> 740 decode errors, 149 frames lost, between 16.3 s and 22.6 s: refused;
- `broken_frame`: one frame's NAL length set past the packet -> 5 errors, that frame
  lost;
- `zeroed_slices`: slice data of a few frames zeroed after the slice header -> one
  "error while decoding MB" each, every frame still decodes (concealed).

`cpu_load` keeps every core busy, for checking the counts do not depend on scheduling.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class Packet:
    pts_s: Fraction
    pos: int
    size: int
    key: bool


def video_packets(src: Path) -> list[Packet]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-of", "json",
         "-show_entries", "stream=time_base:packet=pts,pos,size,flags", str(src)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    time_base = Fraction(data["streams"][0]["time_base"])
    return [
        Packet(int(p["pts"]) * time_base, int(p["pos"]), int(p["size"]), "K" in p["flags"])
        for p in data["packets"]
    ]


def mdat_payload(src: Path) -> tuple[int, int]:
    """[start, end) of the top-level mdat box's payload."""
    size = src.stat().st_size
    with src.open("rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            box_size, kind = struct.unpack(">I4s", f.read(8))
            header = 8
            if box_size == 1:
                box_size, header = struct.unpack(">Q", f.read(8))[0], 16
            if kind == b"mdat":
                return pos + header, pos + box_size
            pos += box_size
    raise ValueError(f"{src}: no mdat box")


def _patched(src: Path, dst: Path, patches: list[tuple[int, bytes]]) -> Path:
    shutil.copyfile(src, dst)
    with dst.open("r+b") as f:
        for offset, data in patches:
            f.seek(offset)
            f.write(data)
    return dst


def garbage_middle(src: Path, dst: Path, seed: int = 7) -> Path:
    start, end = mdat_payload(src)
    third = (end - start) // 3
    return _patched(src, dst, [(start + third, random.Random(seed).randbytes(third))])


def _packet_at(src: Path, at_s: float, key: bool | None = None) -> Packet:
    return min(
        (p for p in video_packets(src) if p.pts_s >= at_s and (key is None or p.key == key)),
        key=lambda p: p.pts_s,
    )


def broken_frame(src: Path, dst: Path, at_s: float) -> tuple[Path, Packet]:
    """The first non-key frame from `at_s` on fails to decode: its first NAL unit's
    length field says more bytes than the packet holds."""
    packet = _packet_at(src, at_s, key=False)
    return _patched(src, dst, [(packet.pos, b"\x7f\xff\xff\xff")]), packet


def zeroed_slices(src: Path, dst: Path, at_s: list[float]) -> tuple[Path, list[Packet]]:
    """The frames at `at_s` keep their slice headers (the first 40 bytes) but lose their
    picture data: decoded with concealment, an error each."""
    packets = [_packet_at(src, t) for t in at_s]
    patches = [(p.pos + 40, bytes(p.size - 40)) for p in packets]
    return _patched(src, dst, patches), packets


@contextmanager
def cpu_load(processes: int | None = None) -> Iterator[None]:
    """One ffmpeg generating and discarding 1080p test frames per core (or `processes`),
    each stopped by its own pid on the way out."""
    count = processes or os.cpu_count() or 2
    command = ["ffmpeg", "-nostdin", "-v", "quiet", "-f", "lavfi",
               "-i", "testsrc2=size=1920x1080", "-f", "null", "-"]  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            procs.append(subprocess.Popen(command, stdin=subprocess.DEVNULL))
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
