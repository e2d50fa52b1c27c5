"""The development programmes of benchmarks/media: each builds on first use (once; cached
across sessions by its stamp), its container facts match the committed truth, decoding it
again finds the truth's cuts and black ranges, and the committed truth is what the plan gives
(text boxes measured again). The text list is checked for what scoring relies on."""

from __future__ import annotations

import hashlib
import json
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from benchmarks.media import (
    NAMES,
    DevMediaError,
    check,
    ensure,
    load_truth,
    make_programmes,
    render,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Built = tuple[str, Path, dict[str, Any]]


@pytest.fixture(scope="session", params=NAMES)
def built(request: pytest.FixtureRequest) -> Built:
    name = str(request.param)
    return name, ensure(name), load_truth(name)


def test_probe_matches_truth(built: Built) -> None:
    name, path, truth = built
    d = check.probe(path)
    (v,) = [s for s in d["streams"] if s["codec_type"] == "video"]
    (a,) = [s for s in d["streams"] if s["codec_type"] == "audio"]
    assert path.name == truth["file"] == f"{name}.mp4"
    assert int(v["nb_frames"]) == truth["frame_count"]
    assert (v["width"], v["height"]) == (truth["width"], truth["height"])
    assert v["r_frame_rate"] == v["avg_frame_rate"] == truth["fps"]["rational"] == "25/1"
    seconds = Fraction(v["duration_ts"]) * Fraction(v["time_base"])
    assert seconds * 1000 == truth["duration_ms"] == render.ms(truth["frame_count"], Fraction(25))
    assert (v["codec_name"], v["pix_fmt"]) == ("h264", "yuv420p")
    assert (a["codec_name"], int(a["sample_rate"]), a["channels"]) == ("aac", 48000, 2)
    stamp = json.loads(make_programmes.stamp_path(path).read_text(encoding="utf-8"))
    assert stamp["fingerprint"] == make_programmes.fingerprint()


def test_decoding_again_finds_the_truth(built: Built) -> None:
    _, path, truth = built
    rep = check.verify(path, truth)
    assert rep["ok"], rep["problems"]
    assert rep["decoded_frames"] == truth["frame_count"]
    assert rep["max_pts_error_ms"] == 0
    assert any(not c["low_contrast"] for c in truth["cuts"])
    assert rep["hard_cuts_missed_by_hist"] == rep["hard_cuts_missed_by_scdet"] == []
    assert rep["scdet_cuts_not_in_truth"] == []
    black = [(b["start_frame"], b["end_frame_inclusive"]) for b in rep[
        "blackdetect_d0.1_pic0.98_pix0.1"]]  # fmt: skip
    cues = [(c["start_frame"], c["end_frame_inclusive"]) for c in truth["technical_cues"]
            if c["type"] == "BlackFrames"]  # fmt: skip
    assert black == cues


def test_committed_truth_is_the_plan(built: Built) -> None:
    name, _, truth = built
    committed = {k: v for k, v in truth.items() if k not in ("encoded", "verification")}
    assert committed == make_programmes.plan_truth(name), (
        f"benchmarks/media/{name}.truth.json is stale: "
        f"python3 benchmarks/media/make_programmes.py --write-truth --only {name}"
    )
    assert truth["verification"]["ok"]
    assert truth["generator"] == "benchmarks/media/make_programmes.py"


def _shot(truth: dict[str, Any], e: dict[str, Any]) -> dict[str, Any]:
    return dict(truth["shots"][e["shot_index"]])


def test_text_entries_are_consistent(built: Built) -> None:
    _, _, truth = built
    w, h, fps = truth["width"], truth["height"], Fraction(truth["fps"]["rational"])
    assert truth["text"]
    for e in truth["text"]:
        shot = _shot(truth, e)
        assert e["style"] in render.STYLES
        assert e["kind"] == shot["kind"]
        assert e["credit"] is (shot["kind"] in ("OpeningCredits", "EndCredits"))
        a, b = e["start_frame"], e["end_frame_inclusive"]
        assert shot["start_frame"] <= a <= b <= shot["end_frame_inclusive"], e
        assert (e["start_ms"], e["end_ms"]) == (render.ms(a, fps), render.ms(b + 1, fps))
        oa, ob = e["full_opacity_frames"]
        assert a <= oa <= ob <= b
        x, y, bw, bh = e["box_px"]
        dx, dy = e["motion_px_per_frame"]
        for f in (a, b):  # wholly inside the picture over the whole range
            left, top = x + dx * (f - a), y + dy * (f - a)
            assert 0 <= left <= left + bw <= w and 0 <= top <= top + bh <= h, e["text"]
        assert e["top"] == e["box"]["top"] == round(y / h, 4)
        assert 0.3 * e["font_size_px"] < bh <= 1.3 * e["font_size_px"], e["text"]


def _texts(truth: dict[str, Any], style: str) -> list[dict[str, Any]]:
    return [e for e in truth["text"] if e["style"] == style]


@pytest.mark.parametrize("name", NAMES)
def test_each_programme_has_what_the_issue_needs(name: str) -> None:
    truth = load_truth(name)
    h = truth["height"]
    kinds = [c["type"] for c in truth["technical_cues"]]
    credits = [e for e in truth["text"] if e["credit"]]
    not_credits = [e for e in truth["text"] if not e["credit"]]
    names = [e for e in credits if e["style"] == "card" and e["font"] == "DejaVu Sans Bold"]
    assert credits and not_credits
    assert kinds[-2:] == ["EndCredits", "BlackFrames"]
    assert any(e["kind"] == "OpeningCredits" for e in credits)
    assert any(e["kind"] == "EndCredits" for e in credits)
    for e in names:  # credit names: 1/20 to 1/14 of the frame height
        assert h / 20 <= e["font_size_px"] <= h / 14 or e["font_size_px"] >= h / 8, e["text"]
    if name == "logo_titles_720p25":
        assert kinds == ["StudioLogo", "OpeningCredits", "Content", "EndCredits", "BlackFrames"]
        (logo,) = _texts(truth, "logo")
        assert logo["kind"] == "StudioLogo" and logo["font_size_px"] == h // 10
        strap = _texts(truth, "lower_third")
        assert len(strap) == 2 and all(e["kind"] == "Content" for e in strap)
        assert min(e["top"] for e in strap) >= 0.8
        assert all(e["end_ms"] - e["start_ms"] == 4000 for e in strap)
        assert all(e["kind"] == "EndCredits" for e in _texts(truth, "roll"))
    elif name == "logo_anim_1080p25":
        assert (truth["width"], h) == (1920, 1080)
        assert kinds[:4] == ["StudioLogo", "Content", "OpeningCredits", "Content"]
        cold, main = truth["content_runs"]
        assert truth["content_range_ms"] == [cold["start_ms"], main["end_ms"]]
        opening = [e for e in credits if e["kind"] == "OpeningCredits"]
        assert all(e["top"] >= 0.75 for e in opening)
        (logo,) = _texts(truth, "logo")
        assert logo["full_opacity_frames"][0] > logo["start_frame"]  # fades in
        end_cuts = [c for c in truth["cuts"] if c["to"] == "EndCredits"]
        assert len(end_cuts) == 3 and all(c["low_contrast"] for c in end_cuts)
    else:
        assert kinds[:5] == ["ColorBars", "BlackFrames", "Slate", "OpeningCredits", "Content"]
        assert {e["text"] for e in _texts(truth, "sign")} == {"EXIT"}
        assert len(_texts(truth, "ticker")) == 2
        assert all(e["kind"] == "Slate" for e in _texts(truth, "slate"))
        title = max(credits, key=lambda e: e["font_size_px"])
        assert title["kind"] == "OpeningCredits" and title["font_size_px"] >= h // 8


def test_ensure_refuses_a_damaged_file(tmp_path: Path) -> None:
    """A cached file with a current stamp whose bytes were damaged afterwards (here cut to
    half: no moov atom) is refused with the programme named, not returned."""
    src = ensure("bars_titles_720p25")
    damaged = tmp_path / src.name
    damaged.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    shutil.copyfile(make_programmes.stamp_path(src), make_programmes.stamp_path(damaged))
    with pytest.raises(DevMediaError, match=r"(?s)bars_titles_720p25.*moov atom not found"):
        ensure("bars_titles_720p25", tmp_path)
    with pytest.raises(DevMediaError, match="unknown programme 'no_such_programme'"):
        ensure("no_such_programme", tmp_path)


def test_ensure_rebuilds_a_stale_file(tmp_path: Path) -> None:
    """A stamp from other generator code means rebuild; the build is deterministic: the same
    bytes as the session's copy, and as the build the committed truth was written from when
    the ffmpeg is the same."""
    name = "bars_titles_720p25"
    truth = load_truth(name)
    path = tmp_path / f"{name}.mp4"
    path.write_bytes(b"left over from an older generator")
    make_programmes.stamp_path(path).write_text('{"fingerprint": "old"}\n', encoding="utf-8")
    assert not make_programmes.is_current(name, path)
    assert ensure(name, tmp_path) == path
    assert make_programmes.is_current(name, path)
    assert not make_programmes.is_current("logo_titles_720p25", path)
    assert path.read_bytes() == ensure(name).read_bytes()
    if truth["verification"]["tool"] == "ffmpeg " + render.ffmpeg_version():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == truth["encoded"]["sha256"]
