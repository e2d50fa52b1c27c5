"""Is all of a file's data there? Cheap checks for files cut short.

A file cut short with its index (the MP4 moov box) in front still probes cleanly and
promises every frame; decoding it all to find out would cost a full decode. Two checks
cost almost nothing instead:

- ISO BMFF (MP4/MOV): walk the top-level boxes (a few 8-16 byte reads). Each box
  states its size, so a box running past the end of the file (truncated_faststart.mp4:
  the mdat) is proof of truncation.
- Any container: the demuxer (no decoding) returns the packets of the last few seconds
  the header promises. A whole file has packets up to the promised end, a truncated
  one none, or it stops early. Where the end comes from an index of every sample
  (MP4/MOV) the data must reach it to within half a frame; a frame cut short is
  dropped by the demuxer (+discardcorrupt), so its loss shows. Elsewhere (Matroska's
  DURATION tag, durations estimated from a bitrate) the promise is looser, and so is
  the check: the data must reach to within 2 s or 5% of it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

ISO_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp"}
LOOSE_SLACK_S = Fraction(2)  # how far short of an estimated end the data may stop
LOOSE_SLACK = Fraction(5, 100)
MAX_BOXES = 1_000_000  # fragmented MP4 has two boxes per fragment; stop a runaway walk


@dataclass(frozen=True)
class Packet:
    stream_index: int
    pts: int | None
    duration: int
    end_byte: int | None  # pos + size: first byte after the packet

    @classmethod
    def from_ffprobe(cls, raw: dict[str, Any]) -> Packet:
        pos, size, pts = raw.get("pos"), raw.get("size"), raw.get("pts")
        return cls(
            stream_index=int(raw["stream_index"]),
            pts=int(pts) if pts is not None else None,
            duration=int(raw.get("duration") or 0),
            end_byte=int(pos) + int(size) if pos is not None and size is not None else None,
        )


def looks_like_iso_bmff(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(8)
    return len(head) == 8 and head[4:8] in ISO_BMFF_BOXES


def box_overrun(path: Path, size: int) -> str | None:
    """The problem if a top-level ISO BMFF box runs past the end of the file."""
    with path.open("rb") as f:
        pos = 0
        for _ in range(MAX_BOXES):
            if pos >= size:
                return None
            f.seek(pos)
            header = f.read(16)
            if len(header) < 8:
                return f"truncated: {len(header)} stray bytes at the end"
            box_size, kind = struct.unpack(">I4s", header[:8])
            if box_size == 0:
                return None  # "extends to the end of the file"
            if box_size == 1:  # 64-bit size follows the type
                if len(header) < 16:
                    return "truncated: a box header is cut short"
                box_size = struct.unpack(">Q", header[8:16])[0]
            if box_size < 8:
                return None  # not a box structure we can follow; leave it to ffprobe
            if pos + box_size > size:
                name = kind.decode("latin-1")
                missing = pos + box_size - size
                return f"truncated: the {name} box needs {missing} bytes more than the file has"
            pos += box_size
    return None


def tail_problem(
    size: int,
    packets: list[Packet],
    frames: list[tuple[int, int]],
    time_base: Fraction,
    claimed_end: Fraction | None,
    exact: bool,
) -> str | None:
    """The problem if the demuxed tail shows missing data. `frames` are the video's
    (pts, duration) in presentation order; `exact`: `claimed_end` (seconds) comes from
    an index listing every sample rather than an estimate."""
    promised = f"{float(claimed_end):.2f} s" if claimed_end is not None else "more"
    if not frames:
        return f"truncated: the header promises {promised} of video, the end is missing"
    if any(p.end_byte is not None and p.end_byte > size for p in packets):
        return "truncated: packets reference bytes past the end of the file"
    if claimed_end is None:
        return None
    data_end = sum(frames[-1]) * time_base
    interval = frames[-1][0] - frames[-2][0] if len(frames) > 1 else frames[-1][1]
    slack = interval * time_base / 2 if exact else max(LOOSE_SLACK_S, claimed_end * LOOSE_SLACK)
    if data_end < claimed_end - slack:
        return (
            f"truncated: the header promises {promised} of video, "
            f"the data ends at {float(data_end):.2f} s"
        )
    return None
