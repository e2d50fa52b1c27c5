"""The media-truth/1 record of a programme, from its plan (exact by construction), plus the
`text` list: every line drawn, where its ink is and on which frames it is readable.

Ink boxes are measured, not guessed: each distinct line is drawn alone on black by the same
drawtext (font, size, x rule) and the pixels brighter than INK_LEVEL bound it. drawtext puts
glyphs at integer offsets from its x/y, so the box moves with x/y exactly.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from benchmarks.media.render import MediaError, Programme, Seg, Text, Work, font, ms, rate_str

GENERATOR = "benchmarks/media/make_programmes.py"
INK_LEVEL = 0x40  # 64 of 255: a pixel at least a quarter covered by a glyph
CREDIT_KINDS = ("OpeningCredits", "EndCredits")
_INK = re.compile(rb"[\x40-\xff]")  # a byte >= INK_LEVEL


@dataclass(frozen=True)
class Ink:
    """A line's ink box relative to drawtext's x/y (left is absolute for centred lines)."""

    left: int
    top: int
    width: int
    height: int


def _key(t: Text) -> tuple[str, int, bool, bool]:
    return (t.text, t.size, t.bold, t.x is None)


def measure(p: Programme, work: Work) -> dict[tuple[str, int, bool, bool], Ink]:
    """Draw every distinct line alone (one frame each) and find its ink box."""
    keys = sorted({_key(t) for s in p.segs for t in s.texts})
    if not keys:
        return {}
    margin = 16
    canvas_h = 3 * max(k[1] for k in keys)
    chain = [f"color=c=black:s={p.w}x{canvas_h}:r=25,format=rgb24"]
    for i, (s, size, bold, centred) in enumerate(keys):
        x = "(w-text_w)/2" if centred else str(margin)
        chain.append(
            f"drawtext=fontfile={font(bold)}:textfile={work.text(s)}:fontsize={size}"
            f":fontcolor=white:x='{x}':y={size}:enable='eq(n,{i})'"
        )
    chain.append(f"trim=end_frame={len(keys)}")
    script = work.path / f"{p.name}.measure.txt"
    script.write_text(",".join(chain), encoding="utf-8")
    r = subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-filter_complex_script", str(script),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=False,
    )  # fmt: skip
    size_b = p.w * canvas_h * 3
    if r.returncode != 0 or len(r.stdout) != size_b * len(keys):
        raise MediaError(f"measuring text failed: {r.stderr.decode(errors='replace')[-2000:]}")
    out = {}
    for i, key in enumerate(keys):
        red = r.stdout[i * size_b : (i + 1) * size_b : 3]  # white text: any channel
        rows = [red[y * p.w : (y + 1) * p.w] for y in range(canvas_h)]
        lit = [y for y, row in enumerate(rows) if max(row) >= INK_LEVEL]
        if not lit:
            raise MediaError(f"no ink for {key[0]!r}")
        x0 = min(_INK.search(rows[y]).start() for y in lit)  # type: ignore[union-attr]
        x1 = max(p.w - 1 - _INK.search(rows[y][::-1]).start() for y in lit)  # type: ignore[union-attr]
        origin_x = 0 if key[3] else margin
        out[key] = Ink(x0 - origin_x, lit[0] - key[1], x1 - x0 + 1, lit[-1] - lit[0] + 1)
    return out


def _ratio(v: int, whole: int) -> float:
    return round(v / whole, 4)


def text_entries(
    p: Programme, inks: dict[tuple[str, int, bool, bool], Ink]
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    start = 0
    for si, seg in enumerate(p.segs):
        for t in seg.texts:
            entries.append(_entry(p, si, seg, start, t, inks[_key(t)]))
        start += seg.frames
    entries.sort(key=lambda e: (e["start_frame"], e["box_px"][1], e["box_px"][0]))
    return entries


def _entry(p: Programme, si: int, seg: Seg, start: int, t: Text, ink: Ink) -> dict[str, Any]:
    if seg.fade_out and t.last_frame(seg.frames) >= seg.frames - seg.fade_out:
        raise ValueError(f"{t.text!r} is drawn in the fade-out of segment {si}")
    last = t.last_frame(seg.frames)
    left0 = ink.left if t.x is None else t.x + ink.left
    top0 = t.y + ink.top

    def inside(n: int) -> bool:
        x, y = left0 + t.dx * n, top0 + t.dy * n
        return x >= 0 and y >= 0 and x + ink.width <= p.w and y + ink.height <= p.h

    shown = [n for n in range(t.first, last + 1) if inside(n)]
    if not shown:
        raise ValueError(f"{t.text!r} (segment {si}) is never wholly inside the picture")
    a, b = start + shown[0], start + shown[-1]
    oa, ob = max(a, start + t.first + t.fade_in), min(b, start + last - t.fade_out)
    x, y = left0 + t.dx * shown[0], top0 + t.dy * shown[0]
    return {
        "text": t.text,
        "style": t.style,
        "credit": seg.kind in CREDIT_KINDS,
        "kind": seg.kind,
        "shot_index": si,
        "start_frame": a,
        "end_frame_inclusive": b,
        "start_ms": ms(a, p.fps),
        "end_ms": ms(b + 1, p.fps),
        "full_opacity_frames": [oa, ob],
        "top": _ratio(y, p.h),
        "box": {
            "left": _ratio(x, p.w),
            "top": _ratio(y, p.h),
            "width": _ratio(ink.width, p.w),
            "height": _ratio(ink.height, p.h),
        },
        "box_px": [x, y, ink.width, ink.height],
        "motion_px_per_frame": [t.dx, t.dy],
        "font": "DejaVu Sans Bold" if t.bold else "DejaVu Sans",
        "font_size_px": t.size,
        "font_size_frac": _ratio(t.size, p.h),
    }


def truth_for(p: Programme, inks: dict[tuple[str, int, bool, bool], Ink]) -> dict[str, Any]:
    """Shots, cuts, technical cues, fades, content range and runs as make_synthetic.py writes
    them (media-truth/1), then `text`."""
    fps = p.fps
    shots: list[dict[str, Any]] = []
    cuts: list[dict[str, Any]] = []
    fades: list[dict[str, Any]] = []
    start, content_idx = 0, 0
    for i, seg in enumerate(p.segs):
        a, b = start, start + seg.frames - 1
        sh: dict[str, Any] = {
            "index": i,
            "kind": seg.kind,
            "is_content": seg.kind == "Content",
            "start_frame": a,
            "end_frame_inclusive": b,
            "duration_frames": seg.frames,
            "start_ms": ms(a, fps),
            "end_ms": ms(b + 1, fps),
            "description": seg.label,
            "audio": seg.sound_label,
        }
        if seg.kind == "Content":
            sh["content_index"] = content_idx
            content_idx += 1
        shots.append(sh)
        if i > 0:
            prev = p.segs[i - 1]
            cuts.append(
                {
                    "frame": a,
                    "ms": ms(a, fps),
                    "transition": "after_fade_out" if prev.fade_out else "hard",
                    "low_contrast": bool((prev.is_dark or prev.fade_out) and seg.is_dark),
                    "from": prev.kind,
                    "to": seg.kind,
                }
            )
        if seg.fade_out:
            fa = b - seg.fade_out + 1
            fades.append(
                {
                    "type": "FadeOut",
                    "to": "black",
                    "start_frame": fa,
                    "end_frame_inclusive": b,
                    "start_ms": ms(fa, fps),
                    "end_ms": ms(b + 1, fps),
                    "note": "ffmpeg fade: frame start_frame is at full level, each later frame "
                    "darker by 1/n; the last frame is at 1/n of full level",
                }
            )
        start += seg.frames
    cues: list[dict[str, Any]] = []
    for sh in shots:
        if cues and cues[-1]["type"] == sh["kind"]:
            cues[-1]["end_frame_inclusive"] = sh["end_frame_inclusive"]
            cues[-1]["end_ms"] = sh["end_ms"]
        else:
            cues.append(
                {
                    "type": sh["kind"],
                    "start_frame": sh["start_frame"],
                    "end_frame_inclusive": sh["end_frame_inclusive"],
                    "start_ms": sh["start_ms"],
                    "end_ms": sh["end_ms"],
                }
            )
    content = [s for s in shots if s["is_content"]]
    runs = [c for c in cues if c["type"] == "Content"]
    silent: list[list[int]] = []
    for s in shots:
        if s["audio"] != "silence":
            continue
        if silent and silent[-1][1] == s["start_ms"]:
            silent[-1][1] = s["end_ms"]
        else:
            silent.append([s["start_ms"], s["end_ms"]])
    keys = ("content_index", "index", "start_frame", "end_frame_inclusive", "start_ms", "end_ms")
    return {
        "schema": "media-truth/1",
        "file": p.file,
        "constructed": True,
        "generator": GENERATOR,
        "title": p.title,
        "fps": {"rational": rate_str(fps), "float": round(float(fps), 6)},
        "cfr": True,
        "frame_count": start,
        "duration_ms": ms(start, fps),
        "width": p.w,
        "height": p.h,
        "shots": shots,
        "content_shots": [{k: s[k] for k in (*keys, "description")} for s in content],
        "cuts": cuts,
        "technical_cues": cues,
        "fades": fades,
        "content_range_ms": [content[0]["start_ms"], content[-1]["end_ms"]] if content else None,
        "content_range_frames": (
            [content[0]["start_frame"], content[-1]["end_frame_inclusive"]] if content else None
        ),
        "content_runs": [
            {k: r[k] for k in ("start_frame", "end_frame_inclusive", "start_ms", "end_ms")}
            for r in runs
        ],
        "audio_silence_ranges_ms": silent,
        "notes": p.notes,
        "text": text_entries(p, inks),
    }


def fps_of(truth: dict[str, Any]) -> Fraction:
    return Fraction(truth["fps"]["rational"])
