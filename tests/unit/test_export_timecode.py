"""frame_of_smpte: the inverse of smpte for every rate the exports write, drop-frame included."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.export_support import RATES, frame_of_timecode
from worker.timecode import frame_of_smpte, is_drop_frame, nominal_rate, smpte

NTSC = RATES["29.97"]
frames = st.integers(min_value=0, max_value=24 * 3600 * 60 - 1)
rates = st.sampled_from(list(RATES.values()))


@pytest.mark.parametrize(
    ("code", "rate", "frame"),
    [
        ("00:00:00:00", "25", 0),
        ("01:00:00:00", "25", 90_000),
        ("00:00:58:13", "25", 1463),
        ("01:00:00:00", "24", 86_400),
        ("00:00:01:00", "30", 30),
        ("00:00:01:00", "23.976", 24),  # counted non-drop at 24
        ("00:00:59;29", "29.97", 1799),
        ("00:01:00;02", "29.97", 1800),  # ;00 and ;01 skipped at minute 1
        ("00:09:59;29", "29.97", 17981),
        ("00:10:00;00", "29.97", 17982),  # but not at minute 10
        ("00:10:00;01", "29.97", 17983),
        ("00:11:00;02", "29.97", 17982 + 1800),
        ("01:00:00;00", "29.97", 107_892),
        ("00:01:00;04", "59.94", 3600),
    ],
)
def test_known_timecodes(code: str, rate: str, frame: int) -> None:
    assert frame_of_smpte(code, RATES[rate]) == frame
    assert smpte(frame, RATES[rate]) == code


@given(frame=frames, fps=rates)
def test_round_trip_every_rate(frame: int, fps: Fraction) -> None:
    code = smpte(frame, fps)
    assert frame_of_smpte(code, fps) == frame
    assert frame_of_timecode(code, fps) == frame  # agrees with an independent reader


@given(minute=st.integers(min_value=1, max_value=24 * 60 - 1), offset=st.integers(-3, 3))
def test_drop_frame_minute_boundaries(minute: int, offset: int) -> None:
    """Frames around every minute start: the labels skipped there never appear or parse."""
    first = frame_of_timecode(f"{minute // 60:02d}:{minute % 60:02d}:00;00", NTSC)
    if minute % 10:
        first += 2  # the minute's first label is ;02
    frame = first + offset
    code = smpte(frame, NTSC)
    assert frame_of_smpte(code, NTSC) == frame
    if offset == 0:
        assert code.endswith(":00;02" if minute % 10 else ":00;00")
    if offset == -1:
        assert code.endswith(":59;29")


@pytest.mark.parametrize(
    ("code", "rate", "problem"),
    [
        ("00:01:00;00", "29.97", "skips"),
        ("00:01:00;01", "29.97", "skips"),
        ("00:01:00:02", "29.97", "separator"),
        ("00:00:00;00", "25", "separator"),
        ("00:00:00:25", "25", "out of range"),
        ("00:60:00:00", "25", "out of range"),
        ("00:00:00;30", "29.97", "out of range"),
        ("12:34", "25", "not an SMPTE timecode"),
        ("aa:bb:cc:dd", "25", "not an SMPTE timecode"),
    ],
)
def test_refused(code: str, rate: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        frame_of_smpte(code, RATES[rate])


def test_nominal_rate_and_drop_frame() -> None:
    assert [nominal_rate(r) for r in RATES.values()] == [25, 24, 30, 30, 60, 24]
    assert [is_drop_frame(r) for r in RATES.values()] == [False] * 3 + [True, True, False]
    assert nominal_rate(Fraction(25, 2)) == 13  # rounds half up, never to an even neighbour
