"""Segments, text and the one ffmpeg run that renders a constructed programme.

Standard library and the ffmpeg/ffprobe binaries only (with libx264, libfreetype and the
DejaVu fonts: `apt-get install ffmpeg fonts-dejavu-core`). Adapted from
../shared/media/make_synthetic.py: a programme is a list of segments, each one shot of one
kind (Rekognition's technical-cue names) with a moving lavfi picture and a sound; what a
segment draws on top (boxes, lines of text) is data here, so the truth can say exactly where
and when every line is.

Unlike make_synthetic.py, all segments are generated, concatenated and encoded by one ffmpeg
process (no lossless intermediates): the filter graph runs beside x264's own threads, which
is what keeps a 1080p programme under a minute on two cores. x264 is deterministic for a
fixed thread count (its --non-deterministic switch is off), so the thread count is fixed,
never "auto".
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

SR = 48000  # audio sample rate of every programme
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
STYLES = ("card", "roll", "lower_third", "logo", "slate", "sign", "ticker")


class MediaError(RuntimeError):
    """ffmpeg failed, or a tool or font is missing (the message says which)."""


def run(cmd: Sequence[str], *, text: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=text, check=False)
    except FileNotFoundError as e:
        raise MediaError(f"{cmd[0]} not found: apt-get install ffmpeg") from e
    if r.returncode != 0:
        raise MediaError(f"failed: {' '.join(cmd)}\n{str(r.stderr)[-3000:]}")
    return r


def ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    return run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y", *args])


def ffmpeg_version() -> str:
    return run(["ffmpeg", "-version"]).stdout.split()[2]


def font(bold: bool) -> Path:
    p = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if p.exists():
        return p
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", "DejaVu Sans:bold" if bold else "DejaVu Sans"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except FileNotFoundError:
        out = ""
    if out and Path(out).exists() and "DejaVuSans" in out:
        return Path(out)
    raise MediaError("DejaVu Sans not found: apt-get install fonts-dejavu-core")


def ms(frame: int, fps: Fraction) -> int:
    """Integer milliseconds of the start of `frame` (nearest, half up)."""
    return int((Fraction(frame) * 1000 / fps + Fraction(1, 2)) // 1)


def rate_str(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


# --------------------------------------------------------------------------- work dir


class Work:
    """A scratch directory: text files for drawtext, images rendered once per build."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._n = 0

    def text(self, s: str) -> Path:
        """The string in a file (drawtext textfile=: no escaping of ':' ',' or quotes)."""
        self._n += 1
        p = self.path / f"text{self._n:03d}.txt"
        p.write_text(s, encoding="utf-8")
        return p

    def image(self, name: str, graph: str) -> Path:
        """The first frame of a lavfi graph as a PNG (rendered once)."""
        p = self.path / f"{name}.png"
        if not p.exists():
            ffmpeg("-f", "lavfi", "-i", graph, "-frames:v", "1", "-update", "1", str(p))
        return p


@dataclass(frozen=True)
class Ctx:
    """What a picture recipe needs: frame size, rate, scratch dir, a label prefix unique to
    its segment (for graphs with several chains)."""

    w: int
    h: int
    fps: Fraction
    work: Work
    tag: str

    @property
    def rate(self) -> str:
        return rate_str(self.fps)


Picture = Callable[[Ctx], str]  # lavfi graph whose last chain's output is left open
Sound = Callable[[], str]  # lavfi audio source graph


# --------------------------------------------------------------------------- drawn things


@dataclass(frozen=True)
class Text:
    """One line of text drawn in a segment. Frames are segment-local (0 = the segment's first
    frame); x/y are drawtext's position at local frame 0 in pixels (x None: centred), moving
    dx/dy pixels a frame. Alpha ramps up over fade_in frames and down over fade_out frames."""

    text: str
    style: str
    size: int
    y: int
    x: int | None = None
    dx: int = 0
    dy: int = 0
    first: int = 0
    last: int | None = None
    fade_in: int = 0
    fade_out: int = 0
    bold: bool = True
    color: str = "white"
    shadow: int = 0  # shadow offset in px (black, 60 %), for text over a picture

    def last_frame(self, seg_frames: int) -> int:
        return seg_frames - 1 if self.last is None else self.last


@dataclass(frozen=True)
class Box:
    """A filled rectangle (a lower-third plate, a sign, a ticker band) on local frames
    first..last inclusive (None: to the end)."""

    x: int
    y: int
    w: int
    h: int
    color: str
    first: int = 0
    last: int | None = None


@dataclass
class Seg:
    kind: str  # ColorBars|BlackFrames|Slate|StudioLogo|OpeningCredits|Content|EndCredits
    frames: int
    picture: Picture
    label: str  # the picture, for the truth
    sound: Sound
    sound_label: str  # the sound, for the truth
    fade_out: int = 0  # frames of fade to black at the end
    texts: Sequence[Text] = ()
    boxes: Sequence[Box] = ()
    dark: bool | None = None  # mostly black (a cut between two dark shots is low-contrast)

    @property
    def is_dark(self) -> bool:
        return self.kind == "BlackFrames" if self.dark is None else self.dark


@dataclass
class Programme:
    name: str  # file stem; the file is name + "." + container
    container: str
    w: int
    h: int
    fps: Fraction
    segs: list[Seg]
    video_args: list[str]
    audio_args: list[str]
    title: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.name}.{self.container}"

    @property
    def frame_count(self) -> int:
        return sum(s.frames for s in self.segs)


def _lin(p0: int, d: int) -> str:
    return str(p0) if d == 0 else f"{p0}{d:+d}*n"


def drawtext(t: Text, seg_frames: int, work: Work) -> str:
    """The drawtext filter for one line (frame numbers in its expressions are segment-local:
    drawtext's n counts the frames it has seen)."""
    if t.style not in STYLES:
        raise ValueError(f"unknown text style {t.style!r}")
    last = t.last_frame(seg_frames)
    x = "(w-text_w)/2" if t.x is None else _lin(t.x, t.dx)
    opts = [
        f"fontfile={font(t.bold)}",
        f"textfile={work.text(t.text)}",
        f"fontsize={t.size}",
        f"fontcolor={t.color}",
        f"x='{x}'",
        f"y='{_lin(t.y, t.dy)}'",
        f"enable='between(n,{t.first},{last})'",
    ]
    ramps = []
    if t.fade_in:
        ramps.append(f"(n-{t.first}+1)/{t.fade_in + 1}")
    if t.fade_out:
        ramps.append(f"({last}-n+1)/{t.fade_out + 1}")
    if ramps:
        alpha = "1"
        for r in ramps:
            alpha = f"min({alpha},{r})"
        opts.append(f"alpha='{alpha}'")
    if t.shadow:
        opts += ["shadowcolor=black@0.6", f"shadowx={t.shadow}", f"shadowy={t.shadow}"]
    return "drawtext=" + ":".join(opts)


def drawbox(b: Box, seg_frames: int) -> str:
    last = seg_frames - 1 if b.last is None else b.last
    return (
        f"drawbox=x={b.x}:y={b.y}:w={b.w}:h={b.h}:color={b.color}:t=fill"
        f":enable='between(n,{b.first},{last})'"
    )


# --------------------------------------------------------------------------- pictures
# Busy moving pictures are rendered at half (or quarter) size and scaled up: the cost of the
# lavfi sources at 1080p would otherwise exceed the encoder's.


def black(ctx: Ctx) -> str:
    return f"color=c=black:s={ctx.w}x{ctx.h}:r={ctx.rate}"


def plain(color: str) -> Picture:
    return lambda ctx: f"color=c={color}:s={ctx.w}x{ctx.h}:r={ctx.rate}"


def bars(ctx: Ctx) -> str:
    return f"smptehdbars=s={ctx.w}x{ctx.h}:r={ctx.rate}"


def slate_plate(ground: str = "0x808080") -> Picture:
    """A grey slate with a dark panel in the middle (the lines are Text items)."""

    def f(ctx: Ctx) -> str:
        return (
            f"color=c={ground}:s={ctx.w}x{ctx.h}:r={ctx.rate},"
            "drawbox=x=iw*0.1:y=ih*0.18:w=iw*0.8:h=ih*0.64:color=0x303030@1:t=fill"
        )

    return f


def mandel(
    start_x: float = -0.743643887037151,
    start_y: float = 0.131825904205330,
    end_scale: float = 0.3,
    end_pts: int = 60,
    hue: int = 0,
    dim: float = 0,
) -> Picture:
    """Mandelbrot zoom, rendered at quarter size."""

    def f(ctx: Ctx) -> str:
        g = (
            f"mandelbrot=s={ctx.w // 4}x{ctx.h // 4}:r={ctx.rate}:maxiter=200"
            f":start_x={start_x}:start_y={start_y}:end_pts={end_pts}:end_scale={end_scale}"
            f",scale={ctx.w}:{ctx.h}"
        )
        if hue:
            g += f",hue=h={hue}"
        if dim:
            g += f",eq=brightness={-dim}"
        return g

    return f


def life(
    seed: int,
    colors: tuple[str, str, str],
    cell: int = 8,
    settle: int = 60,
    gen_rate: int | None = None,
    dim: float = 0,
) -> Picture:
    """Conway's life (random start; the first `settle` generations are skipped).
    gen_rate: generations a second when not one a frame. colors: life, death, mold."""

    def f(ctx: Ctx) -> str:
        r = str(gen_rate) if gen_rate else ctx.rate
        g = (
            f"life=s={ctx.w // cell}x{ctx.h // cell}:r={r}:mold=25:ratio=0.2:seed={seed}"
            f":life_color={colors[0]}:death_color={colors[1]}:mold_color={colors[2]},"
            f"trim=start_frame={settle},setpts=PTS-STARTPTS,scale={ctx.w}:{ctx.h}:flags=neighbor"
        )
        if gen_rate:
            g += f",fps={ctx.rate}"
        if dim:
            g += f",eq=brightness={-dim}"
        return g

    return f


def cellauto_pan(
    rule: int, seed: int, gain: tuple[float, float, float], speed: int = 2, cell: int = 16
) -> Picture:
    """A still cellular-automaton pattern (rendered once) panned slowly upward."""

    def f(ctx: Ctx) -> str:
        cw, ch = -(-ctx.w // cell), (-(-ctx.h // cell)) * 4
        png = ctx.work.image(
            f"cell_{rule}_{seed}_{cw}x{ch}",
            f"cellauto=s={cw}x{ch}:rule={rule}:seed={seed}:random_fill_ratio=0.5:scroll=0"
            f":full=1,select=eq(n\\,{ch - 1})",
        )
        maxy = ch * cell - ctx.h
        r, g, b = gain
        return (
            f"{held(png, ctx)},format=rgb24,"
            f"lutrgb=r=val*{r}:g=val*{g}:b=val*{b},scale={cw * cell}:{ch * cell}:flags=neighbor,"
            f"gblur=sigma=1.5,crop={ctx.w}:{ctx.h}:0:'min(n*{speed},{maxy})'"
        )

    return f


def sierpinski(gain: tuple[float, float, float], seed: int, kind: str = "carpet") -> Picture:
    """A Sierpinski fractal panning about (white on black, tinted by `gain`), at half size,
    softened so its 1-pixel steps do not look like cuts to scdet. (No testsrc2: it draws a
    time code and a frame counter, text the truth would not list.)"""

    def f(ctx: Ctx) -> str:
        r, g, b = gain
        return (
            f"sierpinski=s={ctx.w // 2}x{ctx.h // 2}:r={ctx.rate}:seed={seed}:jump=40:type={kind},"
            f"format=rgb24,lutrgb=r=val*{r}:g=val*{g}:b=val*{b},gblur=sigma=1.5,scale={ctx.w}:{ctx.h}"
        )

    return f


def rgbzoom(rate: float = 0.004, hue: int = 0) -> Picture:
    def f(ctx: Ctx) -> str:
        w, h = ctx.w // 2, ctx.h // 2
        g = (
            f"rgbtestsrc=s={w}x{h}:r={ctx.rate},zoompan=z='1+{rate}*on':x='iw/2-(iw/zoom/2)'"
            f":y='ih/2-(ih/zoom/2)':d=1:s={w}x{h}:fps={ctx.rate},scale={ctx.w}:{ctx.h}"
        )
        if hue:
            g += f",hue=h={hue}"
        return g

    return f


def gradients(colors: Sequence[str], seed: int, speed: float = 0.03) -> Picture:
    def f(ctx: Ctx) -> str:
        cols = ":".join(f"c{i}={c}" for i, c in enumerate(colors))
        return (
            f"gradients=s={ctx.w // 2}x{ctx.h // 2}:r={ctx.rate}:{cols}:nb_colors={len(colors)}"
            f":speed={speed}:seed={seed},scale={ctx.w}:{ctx.h}"
        )

    return f


def spectrum(speed: float = 0.004) -> Picture:
    def f(ctx: Ctx) -> str:
        return (
            f"colorspectrum=s={ctx.w // 2}x{ctx.h // 2}:r={ctx.rate}:type=all,scroll=h={speed},"
            f"scale={ctx.w}:{ctx.h}"
        )

    return f


def held(png: Path, ctx: Ctx) -> str:
    """An image repeated as a stream at the programme's rate. The time base is set to one
    frame so each pts is exactly N: setpts=N/(25)/TB truncates (504/25*25 evaluates to
    503.99999, so frame 504 got frame 503's pts)."""
    tb = f"{ctx.fps.denominator}/{ctx.fps.numerator}"
    return f"movie={png},loop=loop=-1:size=1,settb=expr={tb},setpts=N"


def still(inner: Picture, frame: int, dim: float, blur: float) -> Picture:
    """One frame of another picture, dimmed and blurred, held (a freeze-frame)."""

    def f(ctx: Ctx) -> str:
        name = re.sub(r"[^a-z0-9]+", "_", f"still_{ctx.tag}_{frame}")
        src = inner(ctx) + f",trim=start_frame={frame},eq=brightness={-dim},gblur=sigma={blur}"
        png = ctx.work.image(name, src)
        return held(png, ctx)

    return f


def logo_mark(ctx: Ctx, name: str, size: int, shape: str, rgb: tuple[int, int, int]) -> Path:
    """A flat logo shape on a transparent square, rendered once: 'peak' (a ring around a
    triangle) or 'arc' (the upper half of a thick ring over a dot)."""
    c = size / 2
    r_out, r_in = 0.48 * size, 0.40 * size
    ring = f"between(hypot(X-{c},Y-{c}),{r_in},{r_out})"
    if shape == "peak":
        top, base = 0.25 * size, 0.68 * size
        inside = f"between(Y,{top},{base})*lte(abs(X-{c}),(Y-{top})*0.75)"
        a = f"255*max({ring},{inside})"
    else:
        dot = f"lte(hypot(X-{c},Y-{0.62 * size}),{0.13 * size})"
        a = f"255*max({ring}*lte(Y,{c}),{dot})"
    geq = f"geq=r={rgb[0]}:g={rgb[1]}:b={rgb[2]}:a='{a}'"
    return ctx.work.image(name, f"color=c=black@0:s={size}x{size},format=rgba,{geq}")


def logo_card(ground: str, shape: str, rgb: tuple[int, int, int], size: int, top: int) -> Picture:
    """A still logo card: the mark centred horizontally at `top` on a flat ground."""

    def f(ctx: Ctx) -> str:
        png = logo_mark(ctx, f"logo_{shape}_{size}", size, shape, rgb)
        t = ctx.tag
        return (
            f"color=c={ground}:s={ctx.w}x{ctx.h}:r={ctx.rate}[{t}bg];"
            f"{held(png, ctx)}[{t}lg];"
            f"[{t}bg][{t}lg]overlay=x=(W-w)/2:y={top}:format=auto"
        )

    return f


def logo_growing(
    ground: str,
    shape: str,
    rgb: tuple[int, int, int],
    size: int,
    top: int,
    frames: int,
    x0: int,
    scale0: float,
) -> Picture:
    """A logo animation: the mark grows from scale0 to full size while it moves from x0 to
    the centre over `frames` frames, then holds; its centre line stays at top + size/2."""

    def f(ctx: Ctx) -> str:
        png = logo_mark(ctx, f"logo_{shape}_{size}", size, shape, rgb)
        t = ctx.tag
        k = f"min(1,n/{frames})"
        side = f"2*trunc({size}*({scale0}+(1-{scale0})*{k})/2)"
        cx = ctx.w // 2
        return (
            f"color=c={ground}:s={ctx.w}x{ctx.h}:r={ctx.rate}[{t}bg];"
            f"{held(png, ctx)},"
            f"scale=w='{side}':h='{side}':eval=frame[{t}lg];"
            f"[{t}bg][{t}lg]overlay=x='{x0}+({cx}-{x0})*{k}-w/2':y='{top + size // 2}-h/2'"
            ":format=auto:eval=frame"
        )

    return f


# --------------------------------------------------------------------------- sounds


def tone(freq: int = 1000) -> tuple[Sound, str]:  # -18 dBFS line-up tone
    return (lambda: f"sine=frequency={freq}:sample_rate={SR}"), f"{freq} Hz line-up tone, -18 dBFS"


def silence() -> tuple[Sound, str]:
    return (lambda: f"anullsrc=r={SR}:cl=stereo"), "silence"


def noise(color: str, amp: float, seed: int) -> tuple[Sound, str]:
    return (lambda: f"anoisesrc=r={SR}:c={color}:a={amp}:seed={seed}"), f"{color} noise"


def sine(freq: int, vol: float = 0.5) -> tuple[Sound, str]:
    return (lambda: f"sine=frequency={freq}:sample_rate={SR},volume={vol}"), f"{freq} Hz sine"


def chord(freqs: Sequence[float], amp: float = 0.04) -> tuple[Sound, str]:
    e = "+".join(f"{amp}*sin(2*PI*{x}*t)" for x in freqs)
    return (lambda: f"aevalsrc='{e}':s={SR}"), "soft chord " + "/".join(f"{x:g}" for x in freqs)


# --------------------------------------------------------------------------- building


def segment_graph(p: Programme, i: int, start: int, work: Work) -> str:
    """The video and audio chains of segment i, ending in [v{i}] and [a{i}]."""
    seg = p.segs[i]
    ctx = Ctx(p.w, p.h, p.fps, work, f"s{i}")
    n = seg.frames
    v = seg.picture(ctx)
    for b in seg.boxes:
        v += "," + drawbox(b, n)
    for t in seg.texts:
        v += "," + drawtext(t, n, work)
    v += f",trim=end_frame={n},setpts=PTS-STARTPTS,format=yuv420p,setsar=1"
    if seg.fade_out:
        v += f",fade=t=out:s={n - seg.fade_out}:n={seg.fade_out}"
    # the exact number of samples covering these frames (cumulative rounding)
    s0 = int(Fraction(start) * SR / p.fps + Fraction(1, 2))
    s1 = int(Fraction(start + n) * SR / p.fps + Fraction(1, 2))
    a = (
        f"{seg.sound()},aformat=sample_fmts=s16:sample_rates={SR}:channel_layouts=stereo,"
        f"atrim=end_sample={s1 - s0},asetpts=PTS-STARTPTS"
    )
    if seg.fade_out:
        ns = int(Fraction(seg.fade_out) * SR / p.fps)
        a += f",afade=t=out:ss={s1 - s0 - ns}:ns={ns}"
    return f"{v}[v{i}];\n{a}[a{i}];\n"


def build(p: Programme, out: Path, work: Work) -> int:
    """Render, concatenate and encode every segment in one ffmpeg run; returns frames."""
    graph, start = "", 0
    for i, seg in enumerate(p.segs):
        graph += segment_graph(p, i, start, work)
        start += seg.frames
    k = len(p.segs)
    graph += "".join(f"[v{i}][a{i}]" for i in range(k)) + f"concat=n={k}:v=1:a=1[vc][a];"
    # frame n at exactly n/fps: concat's microsecond time base back to one frame, and no
    # frame rate conversion on output (-r re-stamps every frame, which hides a pts that is
    # off; passthrough keeps it for check.verify to see, and -xerror fails on one that
    # repeats or goes backwards)
    graph += f"[vc]settb=expr={p.fps.denominator}/{p.fps.numerator}[v]"
    script = work.path / f"{p.name}.graph.txt"
    script.write_text(graph, encoding="utf-8")
    ffmpeg(
        "-filter_complex_script", str(script),
        "-map", "[v]", "-map", "[a]",
        "-fps_mode", "passthrough", "-frames:v", str(start), "-xerror",
        *p.video_args, *p.audio_args,
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact",
        "-flags:a", "+bitexact",
        str(out),
    )  # fmt: skip
    return start
