"""build_ranges: typed ranges from parsed detections, and the rows the store writes of them."""

from __future__ import annotations

from fractions import Fraction

from models import AnalysisJob
from worker.pipeline.timeline import VideoClock, build_ranges
from worker.read_model import Range
from worker.results import ParsedDetection
from worker.store import _range_row

CLOCK = VideoClock(10_000, 250, Fraction(25))


def label(name: str, at: int, conf: float, parents: list[str] | None = None) -> ParsedDetection:
    data = {} if parents is None else {"Parents": parents}
    return ParsedDetection("label", name, at, confidence=conf, data=data)


def test_runs_of_detections_merge_and_are_numbered_by_kind_and_time() -> None:
    rows = [
        label("Dog", 5000, 80.0, ["Animal"]),
        label("Cat", 0, 90.0, []),
        label("Dog", 0, 70.0, ["Animal"]),
        label("Dog", 500, 95.0, ["Animal"]),  # within the gap: the same run as 0
        ParsedDetection("face", "Face", 1000, confidence=99.0),
    ]
    ranges = build_ranges(rows, CLOCK)
    assert all(isinstance(r, Range) for r in ranges)
    # listed by (kind, name) group, numbered in time order within each kind
    assert [(r.kind, r.name, r.start_ms, r.seq) for r in ranges] == [
        ("face", "Face", 1000, 0),
        ("label", "Cat", 0, 1),
        ("label", "Dog", 0, 2),
        ("label", "Dog", 5000, 3),
    ]
    dog = ranges[2]
    assert (dog.end_ms, dog.max_confidence, dog.detections) == (540, 95.0, 2)  # + one frame
    assert dog.parents == ("Animal",) and ranges[1].parents == ()
    assert ranges[0].parents is None  # only labels have parents


def test_shots_end_where_the_next_one_starts() -> None:
    shots = [
        ParsedDetection(
            "shot", "Shot", 0, 3000, start_frame=0, end_frame=74, confidence=99.0, data={"index": 0}
        ),
        ParsedDetection(
            "shot",
            "Shot",
            3000,
            9990,
            start_frame=75,
            end_frame=249,
            confidence=98.0,
            data={"index": 1},
        ),
    ]
    first, last = build_ranges(shots, CLOCK)
    assert (first.seq, first.start_ms, first.end_ms, first.start_frame) == (0, 0, 3000, 0)
    assert (last.seq, last.end_ms) == (1, 10_000)  # the last frame: the video's end
    assert first.parents is None and first.detections == 1


def test_the_stored_row_keeps_the_json_column_as_before() -> None:
    job = AnalysisJob(id=7, video_id="v1")
    dog = Range("label", "Dog", None, 2, 0, 540, None, None, 95.0, 2, ("Animal",))
    assert _range_row(job, dog) == {
        "job_id": 7,
        "video_id": "v1",
        "kind": "label",
        "name": "Dog",
        "parent": None,
        "seq": 2,
        "start_ms": 0,
        "end_ms": 540,
        "start_frame": None,
        "end_frame": None,
        "max_confidence": 95.0,
        "detections": 2,
        "data": {"parents": ["Animal"]},
    }
    bare = Range("label", "Cat", None, 1, 0, 40, None, None, 90.0, 1, ())
    assert _range_row(job, bare)["data"] == {"parents": []}
    cue = Range("cue", "ColorBars", None, 0, 0, 3000, 0, 74, 98.0, 1)
    assert _range_row(job, cue)["data"] == {}


def test_text_ranges_are_runs_of_one_line_and_words_are_not_ranges() -> None:
    def text(name: str, at: int, kind: str, parent: str | None = None) -> ParsedDetection:
        return ParsedDetection(
            "text", name, at, parent=parent, confidence=90.0, data={"Type": kind}
        )

    rows = [
        text("NO PARKING", 0, "LINE"),
        text("NO", 0, "WORD", "NO PARKING"),
        text("NO PARKING", 500, "LINE"),
        text("PARKING", 500, "WORD", None),  # its line was on the previous page
        text("NO PARKING", 4000, "LINE"),  # 3.5 s later: another run
    ]
    ranges = build_ranges(rows, CLOCK)
    assert [(r.kind, r.name, r.start_ms, r.end_ms, r.detections) for r in ranges] == [
        ("text", "NO PARKING", 0, 540, 2),
        ("text", "NO PARKING", 4000, 4040, 1),
    ]
