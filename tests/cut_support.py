"""Shared by the clip-cutting tests: a cut shot with its truth, stream facts, ffmpeg lookup."""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from worker.media.cut import CutResult
from worker.media.info import MediaInfo
from worker.media.probe import probe

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
MIN_PSNR_DB = 40.0


def load_source(name: str) -> tuple[Path, MediaInfo, dict[str, Any]]:
    """A test video under ../shared/media, its probe and its truth file."""
    path = MEDIA / name
    truth = json.loads((path.parent / f"{path.stem}.truth.json").read_text())
    return path, probe(path), truth


@dataclass(frozen=True)
class ShotCut:
    """One truth shot of a source and the clip cut from it."""

    src: Path
    info: MediaInfo
    truth: dict[str, Any]
    shot: dict[str, Any]
    result: CutResult

    def src_ms(self, frame: int) -> Fraction:
        """Start of a source frame, ms from the first frame (exact)."""
        if self.truth["cfr"]:
            return Fraction(frame * 1000) / self.info.fps
        return Fraction(str(self.truth["frame_pts_ms"][frame]))

    @property
    def frames(self) -> int:
        return int(self.shot["end_frame_inclusive"]) - int(self.shot["start_frame"]) + 1

    def longest_frame_ms(self) -> Fraction:
        """Longest frame of the shot: the tolerance for durations."""
        first, last = self.shot["start_frame"], self.shot["end_frame_inclusive"]
        starts = [self.src_ms(f) for f in range(first, last + 1)] + [Fraction(self.shot["end_ms"])]
        return max(b - a for a, b in itertools.pairwise(starts))


def streams_of(path: Path) -> dict[str, dict[str, Any]]:
    data = ffmpeg.probe(str(path), v="error")
    return {s["codec_type"]: s for s in data["streams"]}


def ffmpeg_writing_to(folder: Path) -> list[tuple[int, int]]:
    """(pid, parent pid) of every ffmpeg process whose arguments name `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline[0].endswith(b"ffmpeg") and any(str(folder).encode() in a for a in cmdline):
            found.append((int(entry.name), int(stat.rsplit(")", 1)[1].split()[1])))
    return found


def child_ffmpeg_writing_to(folder: Path) -> int | None:
    """Pid of an ffmpeg this test process started that writes into `folder`."""
    ours = [pid for pid, parent in ffmpeg_writing_to(folder) if parent == os.getpid()]
    return ours[0] if ours else None
