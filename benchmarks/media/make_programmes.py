#!/usr/bin/env python3
"""Build the development programmes (credit styles the shared media do not have), each with
exact truth: media-truth/1 plus a `text` list of every line drawn (README.md here).

    python3 benchmarks/media/make_programmes.py [--only NAME ...] [--out DIR] [--verify]
    python3 benchmarks/media/make_programmes.py --write-truth [--only NAME ...]

Default: build each programme into DIR ($VIDX_DEV_MEDIA, else <repo>/test-artifacts/dev-media)
and check frame count and duration against the committed truth (NAME.truth.json next to this
file). --verify also decodes each file again and checks its cuts (histogram difference,
scdet) and black ranges (blackdetect) against the truth. --write-truth rebuilds, measures the
text, verifies, and writes the truth files (only when the verification passes).

Standard library + ffmpeg (libx264, drawtext) + fonts-dejavu-core. Deterministic: the same
ffmpeg gives the same bytes (fixed seeds, fixed x264 thread count, bitexact muxing).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repo root on the path for benchmarks.media
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.media import check, render, truth
from benchmarks.media.render import (
    Box,
    Programme,
    Seg,
    Text,
    black,
    cellauto_pan,
    chord,
    gradients,
    life,
    logo_card,
    logo_growing,
    mandel,
    noise,
    rgbzoom,
    sierpinski,
    silence,
    sine,
    slate_plate,
    spectrum,
    still,
    tone,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
AUDIO = ["-c:a", "aac", "-b:a", "96k", "-ac", "2", "-ar", str(render.SR)]


def x264(preset: str, crf: int, gop: list[str]) -> list[str]:
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high",
            "-pix_fmt", "yuv420p", *gop, "-threads", "2"]  # fmt: skip


def cards(
    pairs: list[tuple[str, str]],
    every: int,
    role_y: int,
    name_y: int,
    sizes: tuple[int, int],
    x: int | None = None,
    fade: int = 6,
    pad: int = 4,
) -> list[Text]:
    """Credit cards, one every `every` frames: a role line (regular) over a name line (bold),
    fading in and out; an empty role leaves the name alone."""
    out = []
    for k, (role, name) in enumerate(pairs):
        a, b = k * every + pad, (k + 1) * every - pad - 1
        common = {"x": x, "first": a, "last": b, "fade_in": fade, "fade_out": fade, "shadow": 2}
        if role:
            out.append(Text(role, "card", sizes[0], role_y, bold=False, **common))  # type: ignore[arg-type]
        out.append(Text(name, "card", sizes[1], name_y, **common))  # type: ignore[arg-type]
    return out


def roll(lines: list[str], y0: int, spacing: int, speed: int, sizes: tuple[int, int]) -> list[Text]:
    """A roll: one Text per non-empty line, `spacing` px apart, moving up `speed` px a frame;
    upper-case lines are headings (sizes[0]), the rest sizes[1]."""
    return [
        Text(s, "roll", sizes[0] if s.isupper() else sizes[1], y0 + i * spacing, dy=-speed)
        for i, s in enumerate(lines)
        if s
    ]


# --------------------------------------------------------------------------- 1: logo + titles

ROLL_1 = [
    "CAST",
    "Helen Marsh   CLAIRE DUVALL",
    "Tom Brennan   OSCAR LINDQVIST",
    "The Ferryman   AUGUST MBEKI",
    "",
    "CREW",
    "Director   MARGOT ELLISON",
    "Writer   TOBIAS RENFREW",
    "Director of Photography   ANIKA VOSS",
    "Editor   PRIYA NANDAKUMAR",
    "Sound Recordist   FELIX OYELARAN",
    "Production Designer   LOUISA CRANE",
    "Composer   MATTEO SILVESTRI",
    "Colourist   JUNE HARTIGAN",
    "",
    "Produced by",
    "NORTHLIGHT PICTURES",
    "",
    "Copyright 2026 Northlight Pictures",
]


def logo_titles_720p25() -> Programme:
    h = 720
    segs = [
        Seg("StudioLogo", 75, logo_card("0x1e3a8a", "peak", (245, 208, 111), 220, 150),
            "studio logo card, still: a gold ring-and-peak mark above the company name on flat "
            "blue", *chord((261.63, 329.63, 392.0)),
            texts=[Text("NORTHLIGHT PICTURES", "logo", h // 10, 420)]),
        Seg("OpeningCredits", 150, mandel(),
            "opening credits: three white role/name cards fading in and out, centred, over a "
            "moving mandelbrot zoom (a content-like picture)", *chord((220.0, 277.18, 329.63)),
            texts=cards([("Directed by", "MARGOT ELLISON"), ("Written by", "TOBIAS RENFREW"),
                         ("Director of Photography", "ANIKA VOSS")],
                        50, 282, 318, (27, 48))),
        Seg("Content", 100, sierpinski((1.0, 0.85, 0.55), 3),
            "Sierpinski carpet, cream on black, panning", *noise("pink", 0.08, 1)),
        Seg("Content", 150, life(7, ("#FFD700", "#B22222", "#0B3D91")),
            "game of life, yellow/red on blue; lower third (name strap on a 55 % black plate) "
            "on frames 25-124 of the shot", *noise("brown", 0.15, 2),
            boxes=[Box(64, 576, 680, 112, "black@0.55", 25, 124)],
            texts=[Text("DR. HELEN MARSH", "lower_third", 40, 588, x=88, first=25, last=124),
                   Text("Marine Biologist, Portside Institute", "lower_third", 26, 642, x=88,
                        first=25, last=124, bold=False)]),
        Seg("Content", 100, cellauto_pan(110, 3, (0.1, 0.9, 1.0)),
            "cellular automaton (rule 110), cyan, panning up", *noise("white", 0.03, 3)),
        Seg("Content", 125, rgbzoom(0.004), "RGB test bands, slow zoom in", *sine(220)),
        Seg("Content", 100, gradients(["0xff7f00", "0x0050ff", "0xffe000"], 5),
            "rotating orange/blue/yellow gradient", *sine(660, 0.4)),
        Seg("EndCredits", 250,
            still(gradients(["0x3a1c71", "0xd76d77", "0x2c3e50"], 8), 0, 0.12, 3),
            "end credits rolling up (3 px a frame) over a still, dimmed, blurred gradient "
            "picture; the screen is full of lines from the first frame",
            *chord((196.0, 246.94, 293.66)),
            texts=roll(ROLL_1, 48, 56, 3, (44, 36))),
        Seg("BlackFrames", 50, black, "black", *silence()),
    ]  # fmt: skip
    return Programme(
        "logo_titles_720p25", "mp4", 1280, h, Fraction(25), segs,
        x264("veryfast", 26, ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0"]), AUDIO,
        title="NORTHLIGHT: logo card, titles over picture, lower third, roll (720p25)",
        notes=[
            "The failing case of issue 14: a StudioLogo card (a drawn mark and the company name "
            "on a flat ground), then OpeningCredits as white role/name cards drawn over a "
            "moving, content-like picture (not black), content with a lower third that is NOT "
            "credits (kind Content, credit false), an EndCredits roll over a still picture, "
            "black.",
            "Fixed 2 s GOP (keyframe every 50 frames, no scene-cut keyframes).",
        ],
    )  # fmt: skip


# --------------------------------------------------------------------------- 2: logo animation

END_CARDS_2 = [
    ["CAST", "Inspector Rhys Okafor   IDRIS KALLAND", "Dr. Lena Brandt   MEI TANAKA-ROSS",
     "Harbourmaster Quill   SAUL ABERNATHY", "Young Ada   PIPPA ELLWOOD",
     "The Stranger   DMITRI SOKOLOV"],
    ["CREW", "Created by   NAOMI VALE", "Producer   GRETA LINDHOLM",
     "Director   AMADOU KEITA", "Editor   YUSUF DEMIR", "Composer   HALLIE BROOKS"],
    ["MADE BY", "HALCYON ARC MEDIA", "Filmed on location", "in the Tidewater Estuary",
     "No estuaries were harmed", "Copyright 2026 Halcyon Arc Media"],
]  # fmt: skip


def end_card(lines: list[str], h: int) -> list[Text]:
    """A still list of names over black, centred, cut (no fades)."""
    step = h // 9
    top = (h - step * (len(lines) - 1)) // 2 - h // 30
    return [
        Text(s, "card", h // 15 if i == 0 else h // 18, top + i * step) for i, s in enumerate(lines)
    ]


def logo_anim_1080p25() -> Programme:
    h = 1080
    end = [
        Seg("EndCredits", 50, black, f"end credits card {k + 1} of 3: a still list of names "
            "centred over black (cut to the next card)", *chord((196.0, 246.94, 293.66)),
            texts=end_card(lines, h), dark=True)
        for k, lines in enumerate(END_CARDS_2)
    ]  # fmt: skip
    segs = [
        Seg("StudioLogo", 63,
            logo_growing("0x1d5c57", "arc", (255, 255, 255), 360, 190, 38, 420, 0.25),
            "studio logo animation (2.52 s): a white arc-and-dot mark grows from a quarter size "
            "while it moves from the left to the centre (frames 0-38), the company name fades "
            "in below it (frames 24-41), on flat teal", *chord((293.66, 369.99, 440.0)),
            texts=[Text("HALCYON ARC MEDIA", "logo", h // 10, 640, first=24, fade_in=18)]),
        Seg("Content", 100, life(19, ("#00FFFF", "#FF00FF", "#202020"), cell=12),
            "cold open: game of life, cyan/magenta on dark grey", *noise("brown", 0.15, 12)),
        Seg("Content", 90, rgbzoom(0.003, hue=90),
            "cold open: RGB test bands (hue shifted), slow zoom in", *noise("pink", 0.08, 11)),
        Seg("OpeningCredits", 125, mandel(-0.75, 0.1, 0.5, 40, hue=120),
            "opening credits after the cold open: three titles in the lower area, left-aligned "
            "(no plate), fading in and out over a moving mandelbrot (hue rotated)",
            *chord((174.61, 220.0, 261.63)),
            texts=cards([("created by", "NAOMI VALE"),
                         ("starring", "IDRIS KALLAND   MEI TANAKA-ROSS"),
                         ("", "THE TIDEWATER FILES")],
                        41, 815, 868, (h // 26, h // 15), x=144)),
        Seg("Content", 100, cellauto_pan(90, 5, (1.0, 0.2, 0.8), speed=3),
            "cellular automaton (rule 90), magenta, panning up", *sine(550, 0.4)),
        Seg("Content", 100, sierpinski((0.55, 1.0, 0.6), 11),
            "Sierpinski carpet, green on black, panning", *noise("white", 0.03, 13)),
        Seg("Content", 90, gradients(["0x00c853", "0xd50000", "0xffffff"], 9, 0.04),
            "rotating green/red/white gradient", *sine(350)),
        Seg("Content", 110, spectrum(0.006),
            "colour spectrum, scrolling; last 20 frames fade to black", *sine(250),
            fade_out=20),
        *end,
        Seg("BlackFrames", 40, black, "black", *silence()),
    ]  # fmt: skip
    return Programme(
        "logo_anim_1080p25", "mp4", 1920, h, Fraction(25), segs,
        x264("superfast", 27, ["-g", "250"]), AUDIO,
        title="HALCYON ARC: logo animation, cold open, lower-area titles, end cards (1080p25)",
        notes=[
            "Cold open: two Content shots come BEFORE the OpeningCredits. content_range_ms "
            "follows the schema's rule (first frame of the first Content shot to the end of the "
            "last), so it starts at the cold open (2520 ms, right after the logo) and CONTAINS "
            "the opening credits: Rekognition-style trimming removes only leading "
            "bars/black/slate/logo/credits, and a cold open ends the leading part. The "
            "programme without its titles is content_runs[0] + content_runs[1] (the cold open, "
            "then the main part); a trimmer that cut from the end of the OpeningCredits would "
            "lose the cold open.",
            "Opening titles sit in the lower area (y 0.75-0.86) without a plate, as lower "
            "thirds do: only their timing, the shot kind and the words tell them apart.",
            "End credits: three still cards of names over black, cut from one to the next "
            "(low-contrast cuts); the last content shot fades to black into the first card.",
            "x264 GOP 250 with scene-cut keyframes (keyframes mostly on cuts).",
        ],
    )  # fmt: skip


# --------------------------------------------------------------------------- 3: bars + title

ROLL_3 = [
    "HARBOUR LIGHTS",
    "",
    "Presenter   OLIVIA CHASTAIN",
    "Reporter   BENEDICT ASANTE",
    "",
    "PRODUCTION",
    "Series Producer   RAFAEL MONTOYA",
    "Camera   SIGRID HALVORSEN",
    "Camera   KOFI MENSAH-BOATENG",
    "Sound   ELODIE MARCHETTI",
    "Graphics   TOMASZ WIERZBICKI",
    "Editor   ROSALIND ACHTERBERG",
    "",
    "Executive Producer",
    "WINIFRED OYELOWO",
    "",
    "A Portside Television production",
]

TICKER = ["FERRY SERVICE RESUMES AT 06:00", "HARBOUR FESTIVAL POSTPONED"]


def bars_titles_720p25() -> Programme:
    h = 720
    tick_y, tick_size, tick_speed = 652, 28, 4
    segs = [
        Seg("ColorBars", 75, render.bars, "SMPTE HD colour bars", *tone(1000)),
        Seg("BlackFrames", 25, black, "black", *silence()),
        Seg("Slate", 50, slate_plate(),
            "slate card on grey: HARBOUR LIGHTS / EP 104   TAKE 2 / 2026-03-14", *silence(),
            texts=[Text("HARBOUR LIGHTS", "slate", h // 12, 186),
                   Text("EP 104   TAKE 2", "slate", h // 12, 316),
                   Text("2026-03-14", "slate", h // 12, 446)]),
        Seg("OpeningCredits", 100, cellauto_pan(30, 9, (1.0, 0.55, 0.15), speed=1),
            "title card: the programme title large and an episode line, fading in and out, "
            "over a slowly panning orange cellular automaton", *chord((220.0, 277.18, 329.63)),
            texts=[Text("HARBOUR LIGHTS", "card", h // 7, 262, first=4, last=95, fade_in=8,
                        fade_out=8, shadow=3),
                   Text("Episode 4: The Night Ferry", "card", h // 18, 400, first=14, last=95,
                        fade_in=8, fade_out=8, shadow=2, bold=False)]),
        Seg("Content", 125, life(31, ("#FFFFFF", "#FF6600", "#003300")),
            "game of life, white/orange on dark green", *noise("pink", 0.08, 21)),
        Seg("Content", 100, sierpinski((0.4, 0.7, 1.0), 17, "triangle"),
            "Sierpinski triangle, blue on black, panning", *noise("white", 0.03, 23)),
        Seg("Content", 125, mandel(),
            "mandelbrot zoom with an EXIT sign burned in (frames 10-109 of the shot): white "
            "EXIT on a green plate, upper right; text that is NOT credits", *sine(500, 0.5),
            boxes=[Box(990, 80, 190, 84, "0x00843d", 10, 109)],
            texts=[Text("EXIT", "sign", h // 12, 92, x=1012, first=10, last=109)]),
        Seg("Content", 175, rgbzoom(0.003, hue=200),
            "RGB test bands (hue shifted), slow zoom in, with a news ticker: a dark red band in "
            f"the bottom 10 % whose items crawl left {tick_speed} px a frame; NOT credits",
            *noise("brown", 0.12, 22),
            boxes=[Box(0, 640, 1280, 56, "0x8b0000@0.85")],
            texts=[Text(s, "ticker", tick_size, tick_y, x=x0, dx=-tick_speed)
                   for s, x0 in zip(TICKER, (500, 1200), strict=True)]),
        Seg("Content", 100, spectrum(0.004), "colour spectrum, scrolling", *sine(330)),
        Seg("EndCredits", 225, life(5, ("#4B86B4", "#7A4E5A", "#2A4D69"), cell=16, gen_rate=5,
                                    dim=0.1),
            "end credits rolling up (3 px a frame) over a moving picture: a slow, dimmed game "
            "of life", *chord((196.0, 246.94, 293.66)),
            texts=roll(ROLL_3, 60, 56, 3, (44, 36))),
        Seg("BlackFrames", 50, black, "black", *silence()),
    ]  # fmt: skip
    return Programme(
        "bars_titles_720p25", "mp4", 1280, h, Fraction(25), segs,
        x264("veryfast", 26, ["-g", "50"]), AUDIO,
        title="HARBOUR LIGHTS: bars, slate, title card, on-screen text, roll (720p25)",
        notes=[
            "ColorBars + 1 kHz tone, black, Slate (its lines are text of style slate), an "
            "OpeningCredits title card (large programme title) over a moving picture, content "
            "with burned-in text that is NOT credits (an EXIT sign, a news ticker crawling "
            "left: each ticker item is one text entry, listed while wholly inside the picture), "
            "an EndCredits roll over a moving picture, black.",
            "x264 GOP 50 with scene-cut keyframes.",
        ],
    )  # fmt: skip


PROGRAMMES: dict[str, Callable[[], Programme]] = {
    "logo_titles_720p25": logo_titles_720p25,
    "logo_anim_1080p25": logo_anim_1080p25,
    "bars_titles_720p25": bars_titles_720p25,
}

# --------------------------------------------------------------------------- build, truth


def default_dir() -> Path:
    env = os.environ.get("VIDX_DEV_MEDIA")
    return Path(env) if env else REPO / "test-artifacts" / "dev-media"


def truth_path(name: str) -> Path:
    return HERE / f"{name}.truth.json"


def fingerprint() -> str:
    """What the built bytes depend on: the generator's code and the ffmpeg version."""
    h = hashlib.sha256()
    for mod in ("render.py", "make_programmes.py"):
        h.update((HERE / mod).read_bytes())
    h.update(render.ffmpeg_version().encode())
    return h.hexdigest()


def stamp_path(out: Path) -> Path:
    """The build stamp next to a built file: NAME.build.json (the generator fingerprint)."""
    return out.with_name(out.name.rsplit(".", 1)[0] + ".build.json")


def is_current(name: str, out: Path) -> bool:
    """`out` exists and its stamp says this generator (and ffmpeg) built programme `name`."""
    try:
        stamp = json.loads(stamp_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    want = {"name": name, "fingerprint": fingerprint()}
    return out.exists() and isinstance(stamp, dict) and want.items() <= stamp.items()


def build(name: str, out: Path) -> float:
    """Build programme `name` to `out` (atomically: a temporary file renamed) and stamp it;
    returns the seconds taken."""
    t0 = time.monotonic()
    p = PROGRAMMES[name]()
    stamp_path(out).unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="vidx-prog-") as tmp:
        part = out.with_name(f".{out.name}.part{os.getpid()}.{p.container}")
        try:
            render.build(p, part, render.Work(Path(tmp)))
            part.replace(out)
        finally:
            part.unlink(missing_ok=True)
    took = time.monotonic() - t0
    stamp = {"name": name, "fingerprint": fingerprint(), "build_seconds": round(took, 1)}
    stamp_path(out).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    return took


def plan_truth(name: str) -> dict[str, Any]:
    """The truth the plan gives (text boxes measured), without `encoded` and `verification`."""
    p = PROGRAMMES[name]()
    with tempfile.TemporaryDirectory(prefix="vidx-prog-") as tmp:
        return truth.truth_for(p, truth.measure(p, render.Work(Path(tmp))))


def load_truth(name: str) -> dict[str, Any]:
    return dict(json.loads(truth_path(name).read_text(encoding="utf-8")))


def probe_problems(path: Path, t: dict[str, Any]) -> list[str]:
    """Container-level facts (no decode) that must match the truth."""
    d = check.probe(path)
    v = [s for s in d["streams"] if s["codec_type"] == "video"]
    if not v:
        return [f"{path}: no video stream"]
    s = v[0]
    got = {
        "frame_count": int(s.get("nb_frames", -1)),
        "duration_ms": round(float(Fraction(s["duration_ts"]) * Fraction(s["time_base"])) * 1000),
        "width": s["width"],
        "height": s["height"],
        "fps": s["r_frame_rate"],
    }
    want = {k: t[k] for k in ("frame_count", "duration_ms", "width", "height")}
    want["fps"] = t["fps"]["rational"]
    return [f"{path.name}: {k} {got[k]} != truth {want[k]}" for k in want if got[k] != want[k]]


def write_truth(name: str, path: Path) -> dict[str, Any]:
    t = plan_truth(name)
    t["encoded"] = check.stream_facts(path)
    t["encoded"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    t["verification"] = check.verify(path, t)
    if t["verification"]["ok"]:
        with truth_path(name).open("w", encoding="utf-8") as f:
            json.dump(t, f, indent=1)
            f.write("\n")
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--only", nargs="*", choices=list(PROGRAMMES), help="default: all")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default: $VIDX_DEV_MEDIA or <repo>/test-artifacts/dev-media",
    )
    ap.add_argument("--verify", action="store_true", help="decode again: cuts and black ranges")
    ap.add_argument("--write-truth", action="store_true", help="write NAME.truth.json here")
    a = ap.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        print("ffmpeg not found: apt-get install ffmpeg fonts-dejavu-core", file=sys.stderr)
        return 2
    out_dir = a.out or default_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for name in a.only or list(PROGRAMMES):
        path = out_dir / PROGRAMMES[name]().file
        took = build(name, path)
        size = path.stat().st_size
        line = f"{path.name}: built in {took:.1f} s, {size} bytes"
        if a.write_truth:
            t = write_truth(name, path)
            rep = t["verification"]
            line += f", {t['frame_count']} frames, {len(t['text'])} text lines"
        else:
            t = load_truth(name)
            problems = probe_problems(path, t)
            if a.verify:
                rep = check.verify(path, t)
                problems += rep["problems"]
            rep = {"ok": not problems, "problems": problems}
        line += ", ok" if rep["ok"] else ", PROBLEMS: " + "; ".join(rep["problems"])
        if not rep["ok"]:
            failed.append(name)
        print(line, flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
