"""`vidx timeline --format json|csv|vtt|edl|otio` on indexed media, each read back by its
own parser and compared with the timeline document."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import urllib.parse
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pytest
import webvtt

from models import Video
from tests.conftest import FIXTURES, RECORDED, make_context
from tests.export_support import frame_of_timecode, parse_edl, render, vtt_ms
from tests.import_support import metadata_of, whole
from tests.integration.test_run import vidx
from worker.context import AppContext
from worker.export import FORMATS
from worker.pipeline.importer import import_pages
from worker.query import timeline
from worker.read_json import timeline_json
from worker.timecode import parse_rate, smpte

pytestmark = pytest.mark.integration

VIDEOS = ["programme_720p25.mp4", "programme_1080p2997.mov"]


def ok(res: subprocess.CompletedProcess[str]) -> str:
    """The command's stdout as text (test_run's `ok` parses it as JSON)."""
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.fixture(scope="module")
def indexed(media: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both programmes indexed by `vidx run` (local engine); the 25 fps one also gets the
    recorded Rekognition labels, faces and moderation (partly past its end) imported."""
    data = tmp_path_factory.mktemp("export")
    ids = {}
    for name in VIDEOS:
        src = str(media / "synthetic" / name)
        summary = json.loads(ok(vidx(["run", src, "--clips", "none", "--json"], data)))
        ids[name] = summary["video_id"]
    # in this process: the CLI's import is tested elsewhere, and each `vidx` start costs ~1 s
    ctx = make_context(data)
    with ctx.db.session() as s:  # import takes only results of the video's own size
        meta = metadata_of(s.get_one(Video, ids[VIDEOS[0]]))
    for rel, feature, _ in RECORDED[1:]:
        import_pages(ctx, feature, [whole(rel, data / "pages", meta)], ids[VIDEOS[0]])
    with ctx.db.session() as s:
        docs = {name: timeline_json(timeline(s, vid)) for name, vid in ids.items()}
    yield {"data": data, "ids": ids, "docs": docs}
    ctx.db.engine.dispose()


def export(indexed: dict[str, Any], name: str, fmt: str) -> tuple[dict[str, Any], str]:
    """`vidx timeline ID --format FMT -o FILE`; the document read from the database, the file."""
    data, vid = indexed["data"], indexed["ids"][name]
    out = data / f"{vid}.{FORMATS[fmt].extension}"
    assert ok(vidx(["timeline", vid, "--format", fmt, "-o", str(out)], data)) == ""
    return indexed["docs"][name], out.read_text(encoding="utf-8")


def detections(doc: dict[str, Any]) -> int:
    return sum(len(doc[k]) for k in ("technical_cues", "labels", "moderation", "faces"))


@pytest.mark.parametrize("name", VIDEOS)
def test_json_and_csv(indexed: dict[str, Any], name: str) -> None:
    doc, text = export(indexed, name, "json")
    assert json.loads(text) == doc and doc["shots"]
    _, text = export(indexed, name, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(doc["shots"]) + detections(doc)
    shots = [r for r in rows if r["kind"] == "shot"]
    assert [(int(r["start_ms"]), int(r["end_ms"])) for r in shots] == [
        (s["start_ms"], s["end_ms"]) for s in doc["shots"]
    ]


@pytest.mark.parametrize("name", VIDEOS)
def test_webvtt(indexed: dict[str, Any], name: str) -> None:
    doc, text = export(indexed, name, "vtt")
    cues = list(webvtt.from_string(text, strict=True))
    by_id = {c.identifier: c for c in cues}
    assert len(by_id) == len(cues) == len(doc["shots"]) + detections(doc)
    for s in doc["shots"]:
        cue = by_id[f"shot-{s['index']}"]
        assert (vtt_ms(cue.start_time), vtt_ms(cue.end_time)) == (s["start_ms"], s["end_ms"])
    for i, label in enumerate(doc["labels"]):
        cue = by_id[f"label-{i}"]
        assert cue.text == f"{label['name']} ({label['max_confidence']:.1f}%)"
        assert vtt_ms(cue.start_time) == label["start_ms"]
    starts = [vtt_ms(c.start_time) for c in cues]
    assert starts == sorted(starts)
    assert all(vtt_ms(c.end_time) > vtt_ms(c.start_time) for c in cues)
    if name == VIDEOS[0]:
        assert doc["labels"] and doc["faces"] and doc["moderation"]


@pytest.mark.parametrize("name", VIDEOS)
def test_edl(indexed: dict[str, Any], name: str) -> None:
    doc, text = export(indexed, name, "edl")
    fps = parse_rate(doc["video"]["fps"])
    edl = parse_edl(text)
    drop = fps == Fraction(30000, 1001)
    assert edl.fcm == ("DROP FRAME" if drop else "NON-DROP FRAME")
    assert len(edl.events) == len(doc["shots"])
    record = frame_of_timecode("01:00:00;00" if drop else "01:00:00:00", fps)
    # files without a timecode: sources from 00:00:00:00, record from 01:00:00:00
    assert doc["video"]["start_timecode"] is None
    assert doc["video"]["audio_channels"] == 2
    for ev, s in zip(edl.events, doc["shots"], strict=True):
        assert ev.reel == doc["video"]["id"][:8]
        assert ev.track == "AA/V"  # both programmes have stereo sound
        assert frame_of_timecode(ev.src_in, fps) == s["start_frame"]
        assert frame_of_timecode(ev.src_out, fps) == s["end_frame"] + 1
        assert frame_of_timecode(ev.rec_in, fps) == record
        record = frame_of_timecode(ev.rec_out, fps)
    # the last shot ends at the last frame
    assert frame_of_timecode(edl.events[-1].src_out, fps) == doc["video"]["frame_count"]
    tl = otio.adapters.read_from_string(text, "cmx_3600", rate=float(fps))
    assert [t.name for t in tl.tracks] == ["V", "A1", "A2"]
    for track in tl.tracks:
        assert [c.source_range.start_time.to_frames() for c in track.find_clips()] == [
            s["start_frame"] for s in doc["shots"]
        ]


@pytest.mark.parametrize("name", VIDEOS)
def test_otio(indexed: dict[str, Any], name: str) -> None:
    doc, text = export(indexed, name, "otio")
    fps = parse_rate(doc["video"]["fps"])
    tl = otio.adapters.read_from_string(text, "otio_json")
    (track,) = tl.video_tracks()
    clips = track.find_clips()
    assert len(clips) == len(doc["shots"])
    for clip, s in zip(clips, doc["shots"], strict=True):
        assert clip.source_range.start_time.rate == float(fps)
        assert clip.source_range.start_time.value == s["start_frame"]
        assert clip.source_range.duration.value == s["end_frame"] - s["start_frame"] + 1
    assert clips[0].media_reference.target_url == Path(doc["video"]["source"]).as_uri()
    markers = list(tl.tracks.markers)  # on the timeline, where FCP 7 XML keeps them
    assert len(markers) == detections(doc)
    names = sorted(m.name for m in markers)
    expected = [c["type"] for c in doc["technical_cues"]] + [x["name"] for x in doc["labels"]]
    expected += [x["name"] for x in doc["moderation"]] + ["Face"] * len(doc["faces"])
    assert names == sorted(expected)


def test_bad_format_and_failed_export_write_nothing(indexed: dict[str, Any]) -> None:
    data, vid = indexed["data"], indexed["ids"][VIDEOS[0]]
    out = data / "bad.xml"
    res = vidx(["timeline", vid, "--format", "xml", "-o", str(out)], data)
    assert res.returncode == 1 and not out.exists()
    assert res.stderr == (
        "vidx: error: unknown timeline format 'xml' (formats: json, csv, vtt, edl, otio)\n"
    )
    keep = data / "keep.edl"
    keep.write_text("previous")
    res = vidx(["timeline", "nosuchvideo", "--format", "edl", "-o", str(keep)], data)
    assert res.returncode == 1 and "nosuchvideo" in res.stderr
    assert keep.read_text() == "previous"
    assert sorted(p.name for p in data.iterdir() if p.name.startswith(".keep")) == []


def test_exports_from_each_database(ctx: AppContext, tmp_path: Path) -> None:
    """Recorded Rekognition results read from SQLite and PostgreSQL and exported. Their
    shots carry times and SMPTE but no frame numbers: the EDL's source timecodes must be
    Rekognition's own StartTimecodeSMPTE."""
    seg_page = json.loads((FIXTURES / RECORDED[0][0]).read_text())
    seg = import_pages(ctx, RECORDED[0][1], [FIXTURES / RECORDED[0][0]])
    with ctx.db.session() as s:  # the other recordings are of other videos
        meta = metadata_of(s.get_one(Video, seg.video_id))
    for rel, feature, _ in RECORDED[1:]:
        import_pages(ctx, feature, [whole(rel, tmp_path, meta)], seg.video_id)
    with ctx.db.session() as s:
        doc = timeline_json(timeline(s, seg.video_id))
    assert doc["shots"] and doc["labels"] and doc["faces"] and doc["moderation"]
    shots = [x for x in seg_page["Segments"] if x["Type"] == "SHOT"]
    events = parse_edl(render(doc, "edl")).events
    assert [e.src_in for e in events] == [x["StartTimecodeSMPTE"] for x in shots]
    # EndTimecodeSMPTE is the shot's last frame; an EDL out point is the frame after it
    fps = parse_rate(doc["video"]["fps"])
    assert [frame_of_timecode(e.src_out, fps) for e in events] == [
        frame_of_timecode(x["EndTimecodeSMPTE"], fps) + 1 for x in shots
    ]
    cues = list(webvtt.from_string(render(doc, "vtt"), strict=True))
    assert len(cues) == len(doc["shots"]) + detections(doc)
    tl = otio.adapters.read_from_string(render(doc, "otio"), "otio_json")
    assert [c.source_range.start_time.to_timecode() for c in tl.find_clips()] == [
        x["StartTimecodeSMPTE"] for x in shots
    ]
    assert len(tl.tracks.markers) == detections(doc)


# --- files with a start timecode (tmcd track), with and without sound -------------------

# (copy made from a shared programme, its timecode, frames copied, audio channels)
TIMECODED = {
    # MOV with a non-ASCII name: the first 12 s of the 25 fps programme, stereo AAC
    "Été à Zürich 10h.mov": ("programme_720p25.mp4", "10:00:00:00", 12, 2),
    # MP4 without sound
    "no_audio_tc.mp4": ("no_audio.mp4", "09:59:50:00", None, None),
    # 29.97 drop-frame: the first 10 s; 00:00:59;28 + 2 frames is 00:01:00;02 (;00, ;01 skipped)
    "ntsc_df.mov": ("programme_1080p2997.mov", "00:00:59;28", 10, 2),
}


@pytest.fixture(scope="module")
def timecoded(media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Timecoded copies (`ffmpeg -c copy -timecode`) indexed by `vidx run`; their timelines."""
    src_dir = tmp_path_factory.mktemp("timecoded")
    data = src_dir / "data"
    docs = {}
    for name, (shared, label, seconds, _) in TIMECODED.items():
        out = src_dir / name
        cut = ["-t", str(seconds)] if seconds else []
        copy = ["-map", "0", "-c", "copy", "-timecode", label, str(out)]
        subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(media / "synthetic" / shared), *cut, *copy],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        summary = json.loads(ok(vidx(["run", str(out), "--clips", "none", "--json"], data)))
        doc = json.loads(ok(vidx(["timeline", summary["video_id"]], data)))
        docs[name] = doc
    return {"data": data, "docs": docs, "dir": src_dir}


@pytest.mark.parametrize("name", TIMECODED)
def test_timecode_and_audio_are_probed_and_in_the_timeline(
    timecoded: dict[str, Any], name: str
) -> None:
    _, label, _, channels = TIMECODED[name]
    video = timecoded["docs"][name]["video"]
    assert (video["start_timecode"], video["audio_channels"]) == (label, channels)
    assert Path(video["source"]) == (timecoded["dir"] / name).resolve()


@pytest.mark.parametrize("name", TIMECODED)
def test_edl_of_a_timecoded_file(timecoded: dict[str, Any], name: str) -> None:
    _, label, _, channels = TIMECODED[name]
    doc = timecoded["docs"][name]
    text = ok(vidx(["timeline", doc["video"]["id"], "--format", "edl"], timecoded["data"]))
    fps = parse_rate(doc["video"]["fps"])
    edl = parse_edl(text)
    drop = ";" in label
    assert edl.fcm == ("DROP FRAME" if drop else "NON-DROP FRAME")
    first = frame_of_timecode(label, fps)
    assert len(edl.events) == len(doc["shots"]) > 1
    assert edl.events[0].src_in == edl.events[0].rec_in == label
    record = first
    for ev, s in zip(edl.events, doc["shots"], strict=True):
        assert ev.track == ("AA/V" if channels else "V")
        assert all((";" in c) is drop for c in (ev.src_in, ev.src_out, ev.rec_in, ev.rec_out))
        assert frame_of_timecode(ev.src_in, fps) == first + s["start_frame"]
        assert frame_of_timecode(ev.src_out, fps) == first + s["end_frame"] + 1
        assert frame_of_timecode(ev.rec_in, fps) == record
        record = frame_of_timecode(ev.rec_out, fps)
        assert f"* FROM CLIP NAME: {name}" in ev.comments
        assert f"* SOURCE FILE: {name}" in ev.comments
    last = frame_of_timecode(edl.events[-1].src_out, fps)
    assert last == first + doc["video"]["frame_count"]
    # otio-cmx3600-adapter reads the same source timecodes and names, with the sound tracks
    tl = otio.adapters.read_from_string(text, "cmx_3600", rate=float(fps))
    assert [t.name for t in tl.tracks] == (["V", "A1", "A2"] if channels else ["V"])
    clips = tl.video_tracks()[0].find_clips()
    assert [c.source_range.start_time.value for c in clips] == [
        first + s["start_frame"] for s in doc["shots"]
    ]
    assert {c.name for c in clips} == {name}


def test_drop_frame_labels_skipped_in_a_real_file(timecoded: dict[str, Any]) -> None:
    doc = timecoded["docs"]["ntsc_df.mov"]
    text = ok(vidx(["timeline", doc["video"]["id"], "--format", "edl"], timecoded["data"]))
    codes = [c for ev in parse_edl(text).events for c in (ev.src_in, ev.src_out)]
    assert codes[0] == "00:00:59;28" and codes[-1] > "00:01:00;02"
    assert not any(c.startswith(("00:01:00;00", "00:01:00;01")) for c in codes)


@pytest.mark.parametrize("name", TIMECODED)
def test_otio_of_a_timecoded_file(timecoded: dict[str, Any], name: str) -> None:
    _, label, _, channels = TIMECODED[name]
    doc = timecoded["docs"][name]
    vid, data = doc["video"]["id"], timecoded["data"]
    text = ok(vidx(["timeline", vid, "--format", "otio"], data))
    fps = parse_rate(doc["video"]["fps"])
    first = frame_of_timecode(label, fps)
    tl = otio.adapters.read_from_string(text, "otio_json")
    # the timeline starts where the EDL's record side does: at the file's timecode
    rec_in = parse_edl(ok(vidx(["timeline", vid, "--format", "edl"], data))).events[0].rec_in
    assert tl.global_start_time.value == first == frame_of_timecode(rec_in, fps)
    assert len(tl.audio_tracks()) == (1 if channels else 0)
    source = Path(doc["video"]["source"])
    for track in tl.tracks:
        clips = track.find_clips()
        assert len(clips) == len(doc["shots"])
        for clip, s in zip(clips, doc["shots"], strict=True):
            ref = clip.media_reference
            assert ref.available_range.start_time.value == first
            assert ref.available_range.duration.value == doc["video"]["frame_count"]
            assert clip.source_range.start_time.value == first + s["start_frame"]
            assert clip.source_range.start_time.to_timecode(
                float(fps), drop_frame=";" in label
            ) == smpte_of(first + s["start_frame"], fps, label)
            url = urllib.parse.urlsplit(ref.target_url)
            assert ref.target_url.isascii() and url.scheme == "file"
            assert Path(urllib.parse.unquote(url.path)) == source


def smpte_of(frame: int, fps: Fraction, label: str) -> str:
    return smpte(frame, fps, drop=";" in label)


@pytest.mark.parametrize("name", TIMECODED)
def test_otio_survives_fcp7_xml(timecoded: dict[str, Any], name: str) -> None:
    """otio -> FCP 7 XML -> otio (otio-fcp-adapter), as an editor's conversion would go:
    clips, their source ranges with the timecode, and the markers are all still there."""
    doc = timecoded["docs"][name]
    text = ok(vidx(["timeline", doc["video"]["id"], "--format", "otio"], timecoded["data"]))
    tl = otio.adapters.read_from_string(text, "otio_json")
    back = otio.adapters.read_from_string(otio.adapters.write_to_string(tl, "fcp_xml"), "fcp_xml")
    assert back.global_start_time.value == tl.global_start_time.value
    assert len(back.tracks) == len(tl.tracks)
    for ours, theirs in zip(tl.tracks, back.tracks, strict=True):
        assert theirs.kind == ours.kind
        a, b = list(ours.find_clips()), list(theirs.find_clips())
        assert len(b) == len(a) == len(doc["shots"])
        assert [c.source_range for c in b] == [c.source_range for c in a]
    markers = list(back.tracks.markers)
    assert len(markers) == len(doc["technical_cues"]) > 0
    assert [m.name for m in markers] == [m.name for m in tl.tracks.markers]
