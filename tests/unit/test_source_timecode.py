"""start_timecode: a file's first-frame label from ffprobe's stream and format tags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.export_support import RATES
from worker.media.source_timecode import start_timecode

VIDEO: dict[str, Any] = {"codec_type": "video", "tags": {"encoder": "Lavc libx264"}}


def tmcd(label: str) -> dict[str, Any]:
    return {"codec_type": "data", "codec_tag_string": "tmcd", "tags": {"timecode": label}}


def test_the_video_streams_tag_first() -> None:
    video = {"codec_type": "video", "tags": {"timecode": "10:00:00:00"}}
    streams = [video, tmcd("11:00:00:00")]
    fmt = {"tags": {"timecode": "12:00:00:00"}}
    assert start_timecode(fmt, streams, video, RATES["25"]) == "10:00:00:00"


def test_then_a_tmcd_data_stream_then_the_container() -> None:
    assert start_timecode({}, [VIDEO, tmcd("11:00:00:00")], VIDEO, RATES["25"]) == "11:00:00:00"
    mkv = {"tags": {"TIMECODE": "12:00:00:00"}}  # Matroska's tags are upper case
    assert start_timecode(mkv, [VIDEO], VIDEO, RATES["25"]) == "12:00:00:00"


def test_none_without_a_tag() -> None:
    assert start_timecode({"tags": {}}, [VIDEO], VIDEO, RATES["25"]) is None
    assert (
        start_timecode({}, [{"codec_type": "video"}], {"codec_type": "video"}, RATES["25"]) is None
    )


@pytest.mark.parametrize(
    ("label", "rate", "stored"),
    [
        ("01:00:00;00", "29.97", "01:00:00;00"),  # drop-frame kept
        ("01:00:00:00", "29.97", "01:00:00:00"),  # a 29.97 file may count non-drop
        ("01:00:00,00", "29.97", "01:00:00;00"),  # ',' and '.' are other spellings
        ("01:00:00.12", "25", "01:00:00:12"),
        (" 09:59:50:00 ", "25", "09:59:50:00"),
    ],
)
def test_labels_are_kept_in_their_count(label: str, rate: str, stored: str) -> None:
    assert start_timecode({}, [VIDEO, tmcd(label)], VIDEO, RATES[rate]) == stored


@pytest.mark.parametrize(
    ("label", "rate"),
    [
        ("10:00:00;00", "25"),  # drop-frame at a rate that has none
        ("10:00:00:25", "25"),  # no frame 25 at 25 fps
        ("00:01:00;00", "29.97"),  # a label drop-frame skips
        ("garbage", "25"),
    ],
)
def test_a_label_we_cannot_count_from_is_no_timecode(label: str, rate: str) -> None:
    assert start_timecode({}, [VIDEO, tmcd(label)], VIDEO, RATES[rate]) is None
