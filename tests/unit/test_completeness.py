"""worker.media.completeness: box sizes and demuxed tails that prove a file is whole."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

from worker.media.completeness import Packet, box_overrun, looks_like_iso_bmff, tail_problem

TB = Fraction(1, 12800)  # 25 fps: 512 ticks a frame


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def write(tmp_path: Path, data: bytes) -> tuple[Path, int]:
    path = tmp_path / "f.mp4"
    path.write_bytes(data)
    return path, len(data)


def test_whole_boxes_pass(tmp_path: Path) -> None:
    path, size = write(
        tmp_path, box(b"ftyp", b"isom") + box(b"moov", b"x" * 20) + box(b"mdat", b"y" * 100)
    )
    assert looks_like_iso_bmff(path)
    assert box_overrun(path, size) is None


def test_a_box_past_the_end_is_truncation(tmp_path: Path) -> None:
    whole = box(b"ftyp", b"isom") + box(b"moov", b"x" * 20) + box(b"mdat", b"y" * 100)
    path, size = write(tmp_path, whole[:-30])
    assert (
        box_overrun(path, size) == "truncated: the mdat box needs 30 bytes more than the file has"
    )


def test_64_bit_box_sizes_are_followed(tmp_path: Path) -> None:
    large = struct.pack(">I4sQ", 1, b"mdat", 16 + 50) + b"z" * 50
    path, size = write(tmp_path, box(b"ftyp", b"isom") + large)
    assert box_overrun(path, size) is None
    path, size = write(tmp_path, box(b"ftyp", b"isom") + large[:-1])
    assert box_overrun(path, size) == "truncated: the mdat box needs 1 bytes more than the file has"


def test_size_zero_runs_to_the_end(tmp_path: Path) -> None:
    path, size = write(tmp_path, box(b"ftyp", b"isom") + struct.pack(">I4s", 0, b"mdat") + b"q" * 9)
    assert box_overrun(path, size) is None


def test_stray_bytes_after_the_last_box(tmp_path: Path) -> None:
    path, size = write(tmp_path, box(b"ftyp", b"isom") + b"\0\0\0")
    assert box_overrun(path, size) == "truncated: 3 stray bytes at the end"


def test_text_is_not_iso_bmff(tmp_path: Path) -> None:
    path, _ = write(tmp_path, b"this is not a video, just some text\n")
    assert not looks_like_iso_bmff(path)


def video_tail(count: int, start_frame: int = 0) -> tuple[list[Packet], list[tuple[int, int]]]:
    packets = [Packet(0, (start_frame + i) * 512, 512, 1000 + i * 100) for i in range(count)]
    return packets, sorted((p.pts or 0, p.duration) for p in packets)


def test_tail_reaching_the_exact_end_passes() -> None:
    packets, frames = video_tail(75, start_frame=1388)  # frames 1388-1462 of 1463
    assert tail_problem(10**6, packets, frames, TB, Fraction(58520, 1000), exact=True) is None


def test_tail_one_frame_short_of_an_exact_end_is_truncation() -> None:
    packets, frames = video_tail(74, start_frame=1388)  # the last frame was dropped
    problem = tail_problem(10**6, packets, frames, TB, Fraction(58520, 1000), exact=True)
    assert problem == "truncated: the header promises 58.52 s of video, the data ends at 58.48 s"


def test_an_estimated_end_allows_some_slack() -> None:
    packets, frames = video_tail(50, start_frame=1388)  # 1 s short of 58.52 s
    assert tail_problem(10**6, packets, frames, TB, Fraction(58520, 1000), exact=False) is None
    packets, frames = video_tail(50, start_frame=400)  # stops at 18 s
    assert tail_problem(10**6, packets, frames, TB, Fraction(58520, 1000), exact=False)


def test_no_packets_at_the_end_is_truncation() -> None:
    problem = tail_problem(10**6, [], [], TB, Fraction(58520, 1000), exact=True)
    assert problem == "truncated: the header promises 58.52 s of video, the end is missing"


def test_packets_past_the_file_end_are_truncation() -> None:
    packets, frames = video_tail(75, start_frame=1388)
    problem = tail_problem(5000, packets, frames, TB, Fraction(58520, 1000), exact=True)
    assert problem == "truncated: packets reference bytes past the end of the file"
