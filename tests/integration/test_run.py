"""`vidx run` end to end on the embedded default: timeline, cues, content range, clips."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from worker.media.frames import decode_frame_at, psnr
from worker.media.probe import probe
from worker.timecode import format_hms

pytestmark = pytest.mark.integration


def vidx(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIDX_DATA_DIR": str(data_dir)}
    for key in ("VIDX_BROKER_URL", "VIDX_DATABASE_URL"):
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def ok(res: subprocess.CompletedProcess[str]) -> Any:
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def row_counts(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "vidx.db") as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


@pytest.fixture(scope="module")
def programme(media: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """programme_720p25.mp4 indexed once with every clip; shared by the checks below."""
    data = tmp_path_factory.mktemp("prog")
    src = media / "synthetic" / "programme_720p25.mp4"
    summary = ok(vidx(["run", str(src), "--clips", "shots,content", "--json"], data))
    doc = ok(vidx(["timeline", summary["video_id"], "--format", "json"], data))
    truth = json.loads((media / "synthetic" / "programme_720p25.truth.json").read_text())
    return {"data": data, "src": src, "summary": summary, "doc": doc, "truth": truth}


def test_summary_and_status(programme: dict[str, Any]) -> None:
    s = programme["summary"]
    assert s["status"] == "INDEXED"
    assert s["features"]["segments"]["status"] == "SUCCEEDED"
    st = ok(vidx(["status", s["video_id"], "--json"], programme["data"]))
    assert st == {
        "video_id": s["video_id"],
        "status": "INDEXED",
        "features": {"segments": {"status": "SUCCEEDED", "message": None}},
    }


def test_timeline_matches_truth(programme: dict[str, Any]) -> None:
    doc, truth = programme["doc"], programme["truth"]
    assert doc["schema"] == "vidx.timeline/1"
    assert doc["notes"] == [] and programme["summary"]["notes"] == []  # decodes cleanly
    assert doc["video"]["fps"] == "25/1" and doc["video"]["frame_count"] == truth["frame_count"]
    assert doc["video"]["duration_ms"] == truth["duration_ms"]
    starts = [s["start_frame"] for s in doc["shots"]]
    assert starts == [s["start_frame"] for s in truth["shots"]]
    assert [s["index"] for s in doc["shots"]] == list(range(len(starts)))
    a, b = doc["content_range_ms"]
    ta, tb = truth["content_range_ms"]
    assert abs(a - ta) <= 500 and abs(b - tb) <= 500
    found = {(c["type"], c["start_ms"] // 500, c["end_ms"] // 500) for c in doc["technical_cues"]}
    for cue in truth["technical_cues"]:
        if cue["type"] in ("ColorBars", "BlackFrames", "EndCredits"):
            match = [
                c
                for c in doc["technical_cues"]
                if c["type"] == cue["type"]
                and abs(c["start_ms"] - cue["start_ms"]) <= 500
                and abs(c["end_ms"] - cue["end_ms"]) <= 500
            ]
            assert match, (cue, found)


def _duration_ms(path: Path) -> int:
    return int(probe(path).duration_ms)


def test_clips_match_shots_and_content(programme: dict[str, Any]) -> None:
    doc = programme["doc"]
    frame_ms = 40
    clips = {(c["kind"], c["index"]): c for c in doc["clips"]}
    assert len(clips) == len(doc["shots"]) + 1
    for shot in doc["shots"]:
        clip = clips[("shot", shot["index"])]
        path = Path(clip["path"])
        assert path.parent == programme["data"].resolve() / "clips" / doc["video"]["id"]
        assert abs(_duration_ms(path) - (shot["end_ms"] - shot["start_ms"])) <= frame_ms
    content = clips[("content", 0)]
    a, b = doc["content_range_ms"]
    assert (content["start_ms"], content["end_ms"]) == (a, b)
    assert abs(_duration_ms(Path(content["path"])) - (b - a)) <= frame_ms


@pytest.mark.parametrize("shot_index", [4, 9, 13])
def test_first_frame_of_clip_is_the_source_frame_at_the_cut(
    programme: dict[str, Any], shot_index: int
) -> None:
    doc = programme["doc"]
    shot = doc["shots"][shot_index]
    clip = next(c for c in doc["clips"] if c["kind"] == "shot" and c["index"] == shot_index)
    src_first = decode_frame_at(programme["src"], shot["start_ms"])
    clip_first = decode_frame_at(Path(clip["path"]), 0)
    assert psnr(src_first, clip_first) >= 40
    # and it is not merely similar to the frame before the cut
    before = decode_frame_at(programme["src"], shot["start_ms"] - 40)
    assert psnr(before, clip_first) < psnr(src_first, clip_first)


def test_run_twice_same_id_same_rows(media: Path, tmp_path: Path) -> None:
    src = media / "synthetic" / "no_audio.mp4"
    first = ok(vidx(["run", str(src), "--json"], tmp_path))
    counts = row_counts(tmp_path)
    second = ok(vidx(["run", str(src), "--json"], tmp_path))
    assert second["video_id"] == first["video_id"]
    assert row_counts(tmp_path) == counts
    assert counts["videos"] == 1 and counts["clips"] == first["clips"] == 5
    # a copy under another name is the same content: the same video
    copy = tmp_path / "renamed copy.mp4"
    copy.write_bytes(src.read_bytes())
    third = ok(vidx(["run", str(copy), "--json"], tmp_path))
    assert third["video_id"] == first["video_id"]
    assert row_counts(tmp_path) == counts


def test_query_formats(programme: dict[str, Any]) -> None:
    vid = programme["summary"]["video_id"]
    args = ["query", "--video", vid, "--kind", "shot", "--from", "00:00:10", "--to", "00:00:30"]
    rows = ok(vidx([*args, "--format", "json"], programme["data"]))
    expected = [
        s for s in programme["doc"]["shots"] if s["end_ms"] > 10_000 and s["start_ms"] < 30_000
    ]
    assert [(r["start_ms"], r["end_ms"]) for r in rows] == [
        (s["start_ms"], s["end_ms"]) for s in expected
    ]
    csv_out = vidx([*args, "--format", "csv"], programme["data"])
    assert csv_out.returncode == 0
    assert csv_out.stdout.splitlines()[0].startswith("video_id,kind,name")
    assert len(csv_out.stdout.splitlines()) == len(rows) + 1
    table = vidx(args, programme["data"])  # not a terminal: a header, then a line per range
    assert table.returncode == 0
    assert [line.split("\t")[3:5] for line in table.stdout.splitlines()[1:]] == [
        [format_hms(r["start_ms"]), format_hms(r["end_ms"])] for r in rows
    ]
    cues = ok(
        vidx(
            ["query", "--kind", "cue", "--name", "EndCredits", "--format", "json"],
            programme["data"],
        )
    )
    assert [c["name"] for c in cues] == ["EndCredits"]
    bad = vidx(["query", "--from", "junk"], programme["data"])
    assert bad.returncode != 0 and "not a time" in bad.stderr
    missing = vidx(["timeline", "nope"], programme["data"])
    assert missing.returncode != 0 and "no video" in missing.stderr


@pytest.mark.parametrize("mode", ["copy", "smart"])
def test_clip_modes_through_the_cli(media: Path, tmp_path: Path, mode: str) -> None:
    src = media / "synthetic" / "programme_720p25.mp4"
    truth = json.loads((media / "synthetic" / "programme_720p25.truth.json").read_text())
    summary = ok(vidx(["run", str(src), "--clips", "none", "--json"], tmp_path))
    out = ok(
        vidx(["clips", summary["video_id"], "--at", "shots", "--mode", mode, "--json"], tmp_path)
    )
    clips = out["clips"]
    assert len(clips) == len(truth["shots"])
    keyframes = set(truth["verification"]["keyframes"])
    for clip, shot in zip(clips, truth["shots"], strict=True):
        assert (clip["start_ms"], clip["end_ms"]) == (shot["start_ms"], shot["end_ms"])
        if mode == "copy":  # starts at the keyframe at or before the cut: drift reported
            kf = max(k for k in keyframes if k <= shot["start_frame"])
            assert clip.get("drift_ms", 0) == (shot["start_frame"] - kf) * 40
        else:
            assert "drift_ms" not in clip
    status = ok(vidx(["status", summary["video_id"], "--json"], tmp_path))
    assert status["status"] == "INDEXED"
