"""The one validator of a clip request (kinds, mode, codec, minimum length), shared by
`vidx clips`, `vidx run`/`submit`, the service and the clips step."""

from __future__ import annotations

import pytest

from worker.errors import VidxError
from worker.pipeline.clip_request import check_request, parse_kinds, split_kinds


def test_kinds_are_split_on_commas_and_checked() -> None:
    assert split_kinds(" shots, ,content ") == ["shots", "content"]
    assert split_kinds(None) == [] and parse_kinds("") == []
    assert parse_kinds("content,shots") == ["content", "shots"]
    assert split_kinds("shots,scenes") == ["shots", "scenes"]  # split only
    with pytest.raises(
        VidxError, match=r"unknown clip kind 'scenes' \(choose from: shots, content\)"
    ):
        parse_kinds("shots,scenes")


@pytest.mark.parametrize(
    ("kinds", "mode", "codec", "min_length", "message"),
    [
        (
            ["x"],
            "fast",
            "vp9",
            -1,
            "unknown clip mode 'fast' \\(choose from: copy, accurate, smart\\)",
        ),
        (
            ["x"],
            "copy",
            "vp9",
            -1,
            "unknown clip codec 'vp9' \\(choose from: auto, h264, prores\\)",
        ),
        (["x"], "copy", "auto", -1, "minimum clip length must be 0 \\(off\\) or more ms, not -1"),
        (["shots", "x"], "copy", "auto", None, "unknown clip kind 'x'"),
    ],
)
def test_a_request_is_refused_for_its_first_fault(
    kinds: list[str], mode: str, codec: str, min_length: int | None, message: str
) -> None:
    with pytest.raises(VidxError, match=message):
        check_request(kinds, mode, codec, min_length)


def test_a_good_request_passes() -> None:
    check_request(["shots", "content"], "smart", "prores", 0)
    check_request([], "copy", "auto")
