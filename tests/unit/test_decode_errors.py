"""Decode errors: ffmpeg's stderr lines to counts, damaged frames, spans and a verdict."""

from __future__ import annotations

from fractions import Fraction

import pytest

from worker.engines.port import Feature
from worker.errors import InputError
from worker.media.decode_errors import (
    MAX_SPANS,
    PAGE_KEY,
    REORDER_FRAMES,
    DecodeErrorLog,
    DecodeReport,
    refuse_if_corrupt,
    split_level,
)
from worker.pipeline.timeline import VideoClock, build_ranges
from worker.results import DECODE_ERROR, parse_page

FRAME_MS = [k * 40 for k in range(1000)]  # 25 fps, 40 s


def feed(
    decoded: int, errors_before: dict[int, int], flagged: frozenset[int] = frozenset()
) -> DecodeErrorLog:
    """A log of `decoded` frames, with errors_before[k] error lines before frame k and
    ffmpeg's "corrupt decoded frame" line before each frame in `flagged`."""
    log = DecodeErrorLog()
    for k in range(decoded):
        for _ in range(errors_before.get(k, 0)):
            log.error()
        if k in flagged:
            log.corrupt()
        log.frame()
    for _ in range(errors_before.get(decoded, 0)):  # after the last frame
        log.error()
    return log


def test_split_level_reads_the_level_and_keeps_the_context() -> None:
    assert split_level("[h264 @ 0x55d4b1c0] [error] Invalid NAL unit size (7 > 5).") == (
        "error",
        "[h264 @ 0x55d4b1c0] Invalid NAL unit size (7 > 5).",
    )
    assert split_level("[error] Error while decoding stream #0:0: Invalid data") == (
        "error",
        "Error while decoding stream #0:0: Invalid data",
    )
    assert split_level("[info] Output #0, rawvideo, to 'pipe:':") == (
        "info",
        "Output #0, rawvideo, to 'pipe:':",
    )
    assert split_level("[Parsed_showinfo_1 @ 0x1] [info] n:   0 pts:      0")[0] == "info"
    assert split_level("frame=  10 fps=0.0") == (None, "frame=  10 fps=0.0")


def test_a_clean_decode_reports_nothing() -> None:
    report = feed(1000, {}).report(FRAME_MS, 1000, 40_000)
    assert report == DecodeReport(0, 0, 1000)
    assert report.ratio == 0


def test_one_lost_frame_is_one_damaged_frame_though_its_errors_spread() -> None:
    # ffmpeg's five lines about one undecodable packet, before three neighbouring frames
    report = feed(999, {300: 2, 301: 2, 303: 1}).report(FRAME_MS, 1000, 40_000)
    assert (report.errors, report.damaged_frames, report.frame_count) == (5, 1, 1000)
    [span] = report.spans
    assert (span.start_ms, span.end_ms, span.errors) == (12_000, 12_160, 5)
    assert span.note == "5 decode errors around 00:00:12.000"


def test_concealed_frames_far_apart_are_spans_of_their_own() -> None:
    report = feed(1000, {100: 1, 500: 1, 900: 2}).report(FRAME_MS, 1000, 40_000)
    assert (report.errors, report.damaged_frames) == (4, 3)
    assert [(s.start_ms, s.errors) for s in report.spans] == [(4000, 1), (20_000, 1), (36_000, 2)]
    assert report.spans[0].note == "1 decode error around 00:00:04.000"
    assert report.ratio == pytest.approx(0.003)


def test_a_run_of_damaged_frames_counts_each_and_reads_as_a_range() -> None:
    report = feed(1000, {k: 1 for k in range(200, 230)}).report(FRAME_MS, 1000, 40_000)
    assert report.damaged_frames == 30 - 3  # less the spread of the last one's report
    [span] = report.spans
    assert span.note == "30 decode errors between 00:00:08.000 and 00:00:09.200"


def test_lost_frames_count_where_few_errors_were_reported_for_them() -> None:
    # the middle of a file is garbage: 150 frames never come out, errors at a few places
    report = feed(850, {400: 300, 401: 200, 402: 240}).report(FRAME_MS, 1000, 40_000)
    assert (report.errors, report.damaged_frames) == (740, 150)
    assert report.ratio == pytest.approx(0.15)
    assert report.problem(0.01) == (
        "740 decode errors between 00:00:16.000 and 00:00:16.120 "
        "(15 % of frames damaged, over the 1 % limit); the file is corrupt"
    )


def test_log_lines_errors_and_corrupt_frames() -> None:
    log = DecodeErrorLog()
    for raw in [
        "[h264 @ 0x55d4b1c0] [error] error while decoding MB 46 0, bytestream -13",
        "[h264 @ 0x55d4b1c0] [info] concealing 3600 DC, 3600 AC, 3600 MV errors in P frame",
        "[warning] file:/v/a.mp4: corrupt decoded frame in stream 0",
        "[warning] file:/v/corrupt decoded frame in stream 0.mp4: something else",
        "[info] file:/v/a.mp4: corrupt decoded frame in stream 0",  # not ffmpeg's warning
    ]:
        log.line(*split_level(raw))
    log.frame()
    log.frame()
    assert (log.errors, log.events, log.flagged) == (1, [(0, 1)], [0])


def test_a_concealed_frame_s_errors_go_with_it_though_printed_before_earlier_frames() -> None:
    # one decoding thread: the packet's error is printed as it is decoded, the frame comes
    # out three frames later (B-frame reordering), flagged corrupt
    report = feed(1000, {310: 1}, frozenset({313})).report(FRAME_MS, 1000, 40_000)
    assert (report.errors, report.damaged_frames) == (1, 1)
    [span] = report.spans
    assert (span.start_ms, span.end_ms, span.errors) == (313 * 40, 314 * 40, 1)


def test_flagged_frames_are_matched_in_order_and_each_counts() -> None:
    log = feed(1000, {300: 1, 301: 2}, frozenset({302, 304}))
    report = log.report(FRAME_MS, 1000, 40_000)
    assert (report.errors, report.damaged_frames) == (3, 2)  # adjacent, yet two frames
    [span] = report.spans
    assert (span.start_ms, span.end_ms, span.errors) == (302 * 40, 305 * 40, 3)


def test_a_flagged_frame_without_errors_or_out_of_reach_is_not_counted() -> None:
    assert feed(1000, {}, frozenset({5})).report(FRAME_MS, 1000, 40_000) == DecodeReport(0, 0, 1000)
    far = 100 + REORDER_FRAMES + 1
    report = feed(1000, {100: 1}, frozenset({50, far})).report(FRAME_MS, 1000, 40_000)
    assert [(s.start_ms, s.errors) for s in report.spans] == [(4000, 1)]
    assert report.damaged_frames == 1


def test_errors_after_the_last_frame_are_at_the_end() -> None:
    report = feed(1000, {1000: 2}).report(FRAME_MS, 1000, 40_000)
    [span] = report.spans
    assert (span.start_ms, span.end_ms, span.errors) == (39_960, 40_000, 2)


def test_spans_stay_few_however_many_places() -> None:
    errors = {k: 1 for k in range(0, 1000, 3)}  # 334 damaged frames, a frame apart
    sparse = {k: 1 for k in range(0, 1000, 5)}  # 200 places 160 ms apart
    for spread in (errors, sparse):
        report = feed(1000, spread).report(FRAME_MS, 1000, 40_000)
        assert 1 <= len(report.spans) <= MAX_SPANS
        assert sum(s.errors for s in report.spans) == report.errors == len(spread)


def test_the_report_survives_the_result_page() -> None:
    report = feed(999, {300: 2, 301: 3, 700: 1}).report(FRAME_MS, 1000, 40_000)
    assert DecodeReport.from_page(report.to_page()) == report


def test_refused_only_over_the_limit() -> None:
    report = DecodeReport(errors=40, damaged_frames=20, frame_count=1000)
    refuse_if_corrupt("a.mp4", report, 0.05)  # 2 %: accepted
    refuse_if_corrupt("a.mp4", report, None)  # no limit
    with pytest.raises(InputError) as err:
        refuse_if_corrupt("dir/a.mp4", report, 0.01)
    assert str(err.value).startswith("dir/a.mp4: 40 decode errors (2 % of frames damaged")
    assert str(err.value).endswith("over the 1 % limit); the file is corrupt")


def test_page_spans_are_detections_but_not_ranges() -> None:
    report = feed(999, {300: 5, 700: 1}).report(FRAME_MS, 1000, 40_000)
    page = {
        "JobStatus": "SUCCEEDED",
        "VideoMetadata": [{"FrameRate": 25.0, "DurationMillis": 40_000}],
        "Segments": [
            {
                "Type": "SHOT",
                "StartTimestampMillis": 0,
                "EndTimestampMillis": 39_960,
                "StartFrameNumber": 0,
                "EndFrameNumber": 999,
                "ShotSegment": {"Index": 0, "Confidence": 99.0},
            }
        ],
        PAGE_KEY: report.to_page(),
    }
    items = parse_page(Feature.SEGMENTS, page).items
    damage = [d for d in items if d.kind == DECODE_ERROR]
    assert [(d.start_ms, d.end_ms, d.data["errors"]) for d in damage] == [
        (12_000, 12_040, 5),
        (28_000, 28_040, 1),
    ]
    ranges = build_ranges(items, VideoClock(40_000, 1000, Fraction(25)))
    assert [r.kind for r in ranges] == ["shot"]
