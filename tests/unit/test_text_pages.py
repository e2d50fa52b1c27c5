"""GetTextDetection pages: the ones tests build conform to botocore's model, and the one
parser reads LINEs and WORDs (a WORD's parent is its line's text)."""

from __future__ import annotations

import pytest

from tests.botocore_shapes import output_shape, problems
from tests.text_support import frame_items, text_page
from worker.engines.port import Feature
from worker.results import TEXT_NAME_MAX, ResultParseError, parse_page


def test_built_pages_conform_to_get_text_detection() -> None:
    page = text_page(frame_items(500, ["NO PARKING", "Mon-Fri"]), next_token="t")
    assert problems(page, output_shape("GetTextDetection")) == []
    assert problems({"TextDetections": [{"Timestamp": "x"}]}, output_shape("GetTextDetection"))


def test_parser_reads_lines_and_words() -> None:
    page = text_page(frame_items(500, ["NO  PARKING", "Mon-Fri"]), next_token="t2")
    parsed = parse_page(Feature.TEXT, page)
    assert (parsed.next_token, parsed.model_version) == ("t2", "3.0")
    got = [(d.kind, d.name, d.parent, d.start_ms, d.confidence) for d in parsed.items]
    assert got == [
        ("text", "NO PARKING", None, 500, 97.5),  # spaces collapsed
        ("text", "NO", "NO PARKING", 500, 96.5),
        ("text", "PARKING", "NO PARKING", 500, 96.5),
        ("text", "Mon-Fri", None, 500, 97.5),
        ("text", "Mon-Fri", "Mon-Fri", 500, 96.5),
    ]
    line = parsed.items[0]
    assert line.bbox is not None and line.bbox.top == pytest.approx(0.1)
    assert line.data["Type"] == "LINE" and line.data["DetectedText"] == "NO  PARKING"


def test_a_long_line_is_cut_to_the_column_and_kept_whole_in_data() -> None:
    words = " ".join(["credits"] * 60)
    (line, *_) = parse_page(Feature.TEXT, text_page(frame_items(0, [words]))).items
    assert len(line.name) == TEXT_NAME_MAX and line.data["DetectedText"] == words


def test_an_unknown_text_type_is_a_parse_error() -> None:
    page = text_page(frame_items(0, ["A"]))
    page["TextDetections"][0]["TextDetection"]["Type"] = "PARAGRAPH"
    with pytest.raises(ResultParseError, match="PARAGRAPH"):
        parse_page(Feature.TEXT, page)
