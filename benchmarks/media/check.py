"""Decode a built programme again and compare it with its truth, as make_synthetic.py's
verification does: frame count and timestamps, cuts by a histogram difference and by ffmpeg's
scdet, black ranges by blackdetect. One decode pass feeds all three (plus a packet listing
for keyframes), so checking costs about one playback at decoding speed.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from benchmarks.media.render import MediaError, ffmpeg_version, run

HIST_THRESHOLD = 0.25
SMALL_W, SMALL_H = 64, 36
_BIN = bytes(b // 16 for b in range(256))


def probe(path: Path) -> dict[str, Any]:
    out = run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)])
    return dict(json.loads(out.stdout))


def stream_facts(path: Path) -> dict[str, Any]:
    """ffprobe facts of the file as written (the truth's `encoded`)."""
    d = probe(path)
    v = [s for s in d["streams"] if s["codec_type"] == "video"]
    a = [s for s in d["streams"] if s["codec_type"] == "audio"]
    facts: dict[str, Any] = {
        "container": d["format"]["format_name"],
        "size_bytes": int(d["format"]["size"]),
        "duration_s": float(d["format"].get("duration", "nan")),
    }
    if v:
        keys = (
            "codec_name",
            "profile",
            "pix_fmt",
            "width",
            "height",
            "r_frame_rate",
            "avg_frame_rate",
            "nb_frames",
            "time_base",
        )
        facts["video"] = {k: v[0].get(k) for k in keys}
    akeys = ("codec_name", "profile", "sample_rate", "channels", "channel_layout")
    facts["audio"] = {k: a[0].get(k) for k in akeys} if a else None
    return facts


def hist(frame: bytes) -> list[float]:
    """16-bin histograms of R, G and B, as fractions."""
    out: list[float] = []
    for c in range(3):
        ch = frame[c::3].translate(_BIN)
        n = len(ch)
        out.extend(ch.count(bytes([k])) / n for k in range(16))
    return out


def hist_diffs(frames: list[bytes]) -> list[float]:
    """Histogram difference (0..1) of each frame to the previous one (0 for the first)."""
    hs = [hist(f) for f in frames]
    return [0.0] + [
        sum(abs(x - y) for x, y in zip(hs[i], hs[i - 1], strict=True)) / 6
        for i in range(1, len(hs))
    ]


def decode_pass(
    path: Path,
) -> tuple[list[float], list[bytes], list[int], list[tuple[float, float]]]:
    """One decode: frame pts (s), 64x36 RGB frames, scdet cuts (threshold 10), blackdetect
    ranges (d=0.1, pic_th=0.98, pix_th=0.1) as (start s, end s)."""
    with tempfile.TemporaryDirectory(prefix="vidx-check-") as tmp:
        meta = Path(tmp) / "meta.txt"
        graph = (
            f"[0:v]split=2[a][b];[a]scale={SMALL_W}:{SMALL_H}:flags=area,format=rgb24[s];"
            f"[b]scdet=threshold=10,metadata=print:file={meta},"
            "blackdetect=d=0.1:pic_th=0.98:pix_th=0.1,nullsink"
        )
        r = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostdin", "-v", "info", "-i", str(path),
             "-filter_complex", graph, "-map", "[s]", "-fps_mode", "passthrough",
             "-f", "rawvideo", "-"],
            capture_output=True, check=False,
        )  # fmt: skip
        if r.returncode != 0:
            raise MediaError(f"decoding {path} failed: {r.stderr.decode(errors='replace')[-2000:]}")
        lines = meta.read_text(encoding="utf-8").splitlines()
    fs = SMALL_W * SMALL_H * 3
    small = [r.stdout[i : i + fs] for i in range(0, len(r.stdout) - fs + 1, fs)]
    pts: list[float] = []
    cuts: list[int] = []
    for line in lines:
        if line.startswith("frame:"):
            pts.append(float(line.rsplit("pts_time:", 1)[1]))
        elif line.startswith("lavfi.scd.time"):
            cuts.append(len(pts) - 1)
    black = []
    for line in r.stderr.decode(errors="replace").splitlines():
        m = re.search(r"black_start:(\S+) black_end:(\S+)", line)
        if m:
            black.append((float(m.group(1)), float(m.group(2))))
    return pts, small, cuts, black


def keyframes(path: Path) -> list[int]:
    """Indices (presentation order) of the video keyframes, from the packets (no decode)."""
    out = run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pts,flags",
            "-of",
            "json",
            str(path),
        ]
    ).stdout
    packets = json.loads(out).get("packets", [])
    order = sorted(range(len(packets)), key=lambda i: int(packets[i]["pts"]))
    return [rank for rank, i in enumerate(order) if packets[i]["flags"].startswith("K")]


def _nearest(pts: list[float], t: float) -> int:
    return min(range(len(pts)), key=lambda i: abs(pts[i] - t))


def _near(a: int, b: int, tol: int = 1) -> bool:
    return abs(a - b) <= tol


def verify(path: Path, truth: dict[str, Any]) -> dict[str, Any]:
    """What decoding `path` measures, compared with `truth`; `ok` and `problems` say whether
    it matches (the truth's `verification` record)."""
    rep: dict[str, Any] = {"tool": "ffmpeg " + ffmpeg_version()}
    problems: list[str] = []
    pts, small, sc, black = decode_pass(path)
    n = len(pts)
    rep["decoded_frames"] = n
    if n != truth["frame_count"] or len(small) != n:
        problems.append(f"decoded {n} frames ({len(small)} pictures), truth {truth['frame_count']}")
    rep["first_video_pts_ms"] = round(pts[0] * 1000, 3) if pts else None
    fps = Fraction(truth["fps"]["rational"])
    worst = max((abs(pts[i] - pts[0] - float(i / fps)) for i in range(n)), default=0.0)
    rep["max_pts_error_ms"] = round(worst * 1000, 3)
    if worst > 0.0005:
        problems.append(f"pts deviate from i/fps by {worst * 1000:.3f} ms")
    rep["keyframes"] = keyframes(path)
    hd = hist_diffs(small)
    hc = [i for i, v in enumerate(hd) if v >= HIST_THRESHOLD]
    rep["hist_cuts"] = hc
    rep["scdet_cuts_threshold10"] = sc
    truth_cuts = [c["frame"] for c in truth["cuts"]]
    hard = [
        c["frame"] for c in truth["cuts"] if c["transition"] == "hard" and not c["low_contrast"]
    ]
    in_fade = [(f["start_frame"], f["end_frame_inclusive"]) for f in truth["fades"]]

    def explained(x: int) -> bool:
        return any(_near(c, x) for c in truth_cuts) or any(a <= x <= z + 1 for a, z in in_fade)

    rep["hist_diff_at_cuts"] = {str(c): round(hd[c], 3) for c in truth_cuts if c < len(hd)}
    rep["hard_cuts_missed_by_hist"] = [c for c in hard if not any(_near(c, x) for x in hc)]
    rep["hist_cuts_not_in_truth"] = [x for x in hc if not explained(x)]
    rep["hist_cuts_inside_fades"] = [
        x for x in hc if not any(_near(c, x) for c in truth_cuts) and explained(x)
    ]
    rep["hard_cuts_missed_by_scdet"] = [c for c in hard if not any(_near(c, x) for x in sc)]
    rep["scdet_cuts_not_in_truth"] = [x for x in sc if not explained(x)]
    cutset = set(truth_cuts)
    inside = [
        hd[i]
        for i in range(1, len(hd))
        if i not in cutset and not any(a <= i <= z + 1 for a, z in in_fade)
    ]
    rep["max_intra_shot_hist_diff_outside_fades"] = round(max(inside, default=0.0), 3)
    rep["min_hard_cut_hist_diff"] = round(min((hd[c] for c in hard if c < len(hd)), default=0), 3)
    if rep["hard_cuts_missed_by_hist"]:
        problems.append(f"hard cuts missed by histogram: {rep['hard_cuts_missed_by_hist']}")
    if rep["hist_cuts_not_in_truth"]:
        problems.append(f"histogram cuts inside shots: {rep['hist_cuts_not_in_truth']}")
    problems += _check_black(rep, truth, pts, black)
    rep["problems"] = problems
    rep["ok"] = not problems
    return rep


def _check_black(
    rep: dict[str, Any], truth: dict[str, Any], pts: list[float], black: list[tuple[float, float]]
) -> list[str]:
    problems: list[str] = []
    n = len(pts)
    bd: list[dict[str, Any]] = []
    for s, e in black:
        fs = _nearest(pts, s)
        # ffmpeg 5.1 reports a black range running to the end as the last frame's pts
        fe = n - 1 if abs(e - pts[-1]) < 1e-3 else _nearest(pts, e) - 1
        bd.append(
            {"start_frame": fs, "end_frame_inclusive": fe, "black_start_s": s, "black_end_s": e}
        )
    rep["blackdetect_d0.1_pic0.98_pix0.1"] = bd
    tb = [c for c in truth["technical_cues"] if c["type"] == "BlackFrames"]
    fades = [(f["start_frame"], f["end_frame_inclusive"]) for f in truth["fades"]]
    for c in tb:
        m = [
            b
            for b in bd
            if _near(b["start_frame"], c["start_frame"])
            and _near(b["end_frame_inclusive"], c["end_frame_inclusive"])
        ]
        if not m:  # a black segment right after a fade-out may merge with the fade's dark tail
            m = [
                b
                for b in bd
                if b["start_frame"] <= c["start_frame"] + 1
                and _near(b["end_frame_inclusive"], c["end_frame_inclusive"])
                and any(a <= b["start_frame"] <= z + 1 for a, z in fades)
            ]
        if not m:
            cue = f"{c['start_frame']}-{c['end_frame_inclusive']}"
            problems.append(f"BlackFrames {cue} not found by blackdetect")
    for b in bd:
        ok = any(
            c["start_frame"] - 1 <= b["start_frame"]
            and b["end_frame_inclusive"] <= c["end_frame_inclusive"] + 1
            for c in tb
        )
        ok = ok or any(a <= b["start_frame"] <= z + 1 for a, z in fades)
        if not ok:
            problems.append(
                f"blackdetect range {b['start_frame']}-{b['end_frame_inclusive']} not in truth"
            )
    return problems
