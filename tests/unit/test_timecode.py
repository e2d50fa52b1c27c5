"""worker.timecode: the media truth's frame/ms convention, SMPTE timecode, HH:MM:SS.mmm."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.timecode import (
    format_hms,
    frame_to_ms,
    ms_to_frame,
    parse_hms,
    parse_rate,
    round_half_up,
    seconds_to_ms,
    smpte,
)

PAL = Fraction(25)
NTSC = Fraction(30000, 1001)
RATES = [PAL, NTSC, Fraction(24000, 1001), Fraction(60000, 1001), Fraction(10), Fraction(50)]
rates = st.sampled_from(RATES)
frames = st.integers(min_value=0, max_value=10 * 3600 * 60)


@pytest.mark.parametrize(
    ("frame", "ms"),
    [(0, 0), (1, 40), (75, 3000), (250, 10000), (1463, 58520)],
)
def test_frame_to_ms_at_25(frame: int, ms: int) -> None:
    assert frame_to_ms(frame, PAL) == ms


@pytest.mark.parametrize(
    ("frame", "ms"),
    # programme_1080p2997.truth.json: cuts at 30 -> 1001, 180 -> 6006, 1620 frames -> 54054
    [(0, 0), (1, 33), (2, 67), (15, 501), (30, 1001), (180, 6006), (300, 10010), (1620, 54054)],
)
def test_frame_to_ms_at_29_97(frame: int, ms: int) -> None:
    # frame 15 starts at 500.5 ms exactly: the truth rounds halves up
    assert frame_to_ms(frame, NTSC) == ms


def test_round_half_up() -> None:
    assert round_half_up(Fraction(1, 2)) == 1
    assert round_half_up(Fraction(3, 2)) == 2
    assert round_half_up(Fraction(-1, 2)) == 0
    assert round_half_up(Fraction(1001, 3)) == 334  # 333.67
    assert seconds_to_ms(Fraction(1075, 1000)) == 1075
    assert seconds_to_ms(0.0005) == 1


@given(frame=frames, fps=rates)
def test_ms_to_frame_inverts_frame_to_ms(frame: int, fps: Fraction) -> None:
    start = frame_to_ms(frame, fps)
    assert ms_to_frame(start, fps) == frame
    # the last ms before the next frame still shows this one
    assert ms_to_frame(frame_to_ms(frame + 1, fps) - 1, fps) == frame


@given(frame=frames, fps=rates)
def test_frame_starts_increase(frame: int, fps: Fraction) -> None:
    assert frame_to_ms(frame + 1, fps) > frame_to_ms(frame, fps)


def test_parse_rate() -> None:
    assert parse_rate("30000/1001") == NTSC
    assert parse_rate("25") == PAL
    assert parse_rate("25/1") == PAL
    for junk in ("0/1", "-25", "abc", ""):
        with pytest.raises(ValueError):
            parse_rate(junk)


def test_parse_rate_zero_denominator_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_rate("25/0")


@pytest.mark.parametrize(
    ("frame", "fps", "code"),
    [
        (0, PAL, "00:00:00:00"),
        (1463, PAL, "00:00:58:13"),
        (90_000, PAL, "01:00:00:00"),
        (24, Fraction(24000, 1001), "00:00:01:00"),  # 23.976 has no drop-frame form
        # 29.97 drop-frame: labels ;00 and ;01 are skipped at each minute but every tenth
        (1799, NTSC, "00:00:59;29"),
        (1800, NTSC, "00:01:00;02"),
        (17981, NTSC, "00:09:59;29"),
        (17982, NTSC, "00:10:00;00"),
        (107_892, NTSC, "01:00:00;00"),
        # 59.94 drops four labels
        (3599, Fraction(60000, 1001), "00:00:59;59"),
        (3600, Fraction(60000, 1001), "00:01:00;04"),
    ],
)
def test_smpte(frame: int, fps: Fraction, code: str) -> None:
    assert smpte(frame, fps) == code


def frame_of_timecode(code: str, fps: Fraction) -> int:
    """Reference SMPTE reading (SMPTE 12M counting), independent of the code under test."""
    hh, mm, ss, ff = (int(x) for x in re.split("[:;]", code))
    nominal = round(fps)
    frame = (hh * 3600 + mm * 60 + ss) * nominal + ff
    if ";" in code:
        minutes = hh * 60 + mm
        frame -= (2 if nominal == 30 else 4) * (minutes - minutes // 10)
    return frame


@given(frame=frames, fps=rates)
def test_smpte_round_trips_through_a_reference_reader(frame: int, fps: Fraction) -> None:
    code = smpte(frame, fps)
    drop = fps.denominator == 1001 and round(fps) in (30, 60)
    assert (";" in code) is drop
    assert frame_of_timecode(code, fps) == frame


@given(frame=frames)
def test_drop_frame_never_shows_skipped_labels(frame: int) -> None:
    _, mm, ss, ff = (int(x) for x in re.split("[:;]", smpte(frame, NTSC)))
    assert not (ss == 0 and ff in (0, 1) and mm % 10 != 0)
    assert ff < 30


def test_format_hms() -> None:
    assert format_hms(0) == "00:00:00.000"
    assert format_hms(3_723_004) == "01:02:03.004"
    assert format_hms(58_520) == "00:00:58.520"


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("01:02:03.004", 3_723_004),
        ("00:00:58.520", 58_520),
        ("1:30", 90_000),
        ("90", 90_000),
        ("0.5", 500),
        ("0.0005", 1),  # half a ms rounds up
        (" 00:00:01 ", 1000),
    ],
)
def test_parse_hms(text: str, ms: int) -> None:
    assert parse_hms(text) == ms


@pytest.mark.parametrize("text", ["", " ", "1::2", "1:2:3:4", "-1", "a:b", "1:2:x"])
def test_parse_hms_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hms(text)


@given(st.integers(min_value=0, max_value=99 * 3600 * 1000 + 3_599_999))
def test_hms_round_trip(ms: int) -> None:
    assert parse_hms(format_hms(ms)) == ms
