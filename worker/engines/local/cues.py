"""Technical cues (Rekognition's names) from per-frame picture statistics and shots.

Every frame gets exactly one cue; runs of equal cues become segments:

- BlackFrames, per frame: at least `min_coverage` % of pixels have luma at most
  `max_pixel_threshold` of full range (frames arrive expanded to full range, so a
  limited-range source is judged on its 16..235 scale, as Rekognition does).
- ColorBars, per shot: a static, saturated picture whose top part is vertical
  stripes (columns constant down the rows, very different across them).
- Slate, per shot: a static, neutral-grey, mid-bright card with text, only in the
  run of non-programme shots at the start.
- StudioLogo, OpeningCredits, EndCredits, per shot: from the text read in the shot
  (text_evidence.StretchText; the rules and their reasons at _label). Credits are cards
  or rolls wherever they are (a cold open may come first), a logo is a short card of a few
  words first after the bars and slate. The older picture rule (white text strokes over a
  dark or smooth background) still finds credits in the leading and trailing runs where
  the text read does not say otherwise; with no text given (text=None) it is the only one.
- Content: everything else (a clip that is all title cards is just content).

Thresholds were read off the test media's per-shot statistics (synthetic
programmes, real clips, the constructed programmes of benchmarks/media); the margins are
noted where they are set, and benchmarks/cues.py scores the text rules leave-one-out.

Confidences come from the same statistics on evidence.py's scale (100 - 50/strength,
strength = how many times its threshold the weakest deciding statistic is): a cue is as
sure as its rule's weakest statistic, Content as sure as its shot is far from the nearest
other rule, and every frame not labelled BlackFrames is at most as sure as its lit-pixel
share is over the black limit (the darkest frames of a fade-out weigh less).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from worker.engines.local.evidence import (
    against,
    confidence,
    confidences,
    over,
    over_each,
    under,
    under_each,
)
from worker.engines.local.shots import Shot
from worker.engines.local.text_evidence import StretchText, TextEvidence

F64 = npt.NDArray[np.float64]

BLACK, BARS, SLATE, LOGO = "BlackFrames", "ColorBars", "Slate", "StudioLogo"
OPENING, ENDING, CONTENT = "OpeningCredits", "EndCredits", "Content"

_FEATURES = (
    *("nonblack", "luma", "sat", "dark", "white"),
    *("stroke", "textrows", "smooth", "edge", "vertical"),
)


@dataclass(frozen=True)
class Cue:
    type: str
    start: int
    end: int  # inclusive
    confidence: float


class CueFeatures:
    """Per-frame statistics, computed batch by batch (a few floats per frame)."""

    def __init__(self, max_pixel_threshold: float = 0.2, min_coverage: float = 99.0) -> None:
        self.black_level = max_pixel_threshold * 255.0
        self.min_nonblack = 1.0 - min_coverage / 100.0
        self._parts: dict[str, list[F64]] = {name: [] for name in _FEATURES}

    def add(self, planes: npt.NDArray[np.uint8]) -> None:
        frames = planes.astype(np.int16)
        y, u, v = frames[:, 0], frames[:, 1], frames[:, 2]
        pixels = y[0].size
        chroma = np.abs(u - 128) + np.abs(v - 128)
        dx = np.abs(np.diff(y, axis=2))
        dy = np.abs(np.diff(y, axis=1))
        strong = dx > 24  # a text stroke edge at ~96 px wide
        near = np.zeros(y.shape, dtype=bool)
        near[:, :, 1:] |= strong
        near[:, :, :-1] |= strong
        white = (y >= 110) & (chroma < 24)
        n_white = np.count_nonzero(white, axis=(1, 2))
        # colour bars: columns constant down the top 60 % of rows, varied across them
        top = frames[:, :, : max(1, frames.shape[2] * 3 // 5)].astype(np.float32)
        column_mean = top.mean(axis=2)
        down_var = (top * top).mean(axis=2) - column_mean * column_mean  # E[x^2] - E[x]^2
        column_spread = column_mean.std(axis=2).mean(axis=1)
        row_spread = np.sqrt(np.maximum(down_var, 0.0)).mean(axis=(1, 2))

        def share(mask: npt.NDArray[np.bool_]) -> F64:
            # count_nonzero: several times faster than mean() on booleans
            counts: F64 = np.count_nonzero(mask, axis=(1, 2)) / float(mask[0].size)
            return counts

        new = {
            "nonblack": share(y > self.black_level),
            "luma": y.mean(axis=(1, 2), dtype=np.float64),
            "sat": chroma.mean(axis=(1, 2), dtype=np.float64),
            "dark": share(y <= 40),
            "white": n_white / pixels,
            "stroke": np.count_nonzero(white & near, axis=(1, 2)) / np.maximum(n_white, 1),
            "textrows": np.count_nonzero(strong.sum(axis=2) >= 4, axis=1) / strong.shape[1],
            "smooth": share((dx[:, 1:, :] <= 4) & (dy[:, :, 1:] <= 4)),
            "edge": share(strong),
            "vertical": column_spread / (row_spread + 1.0),
        }
        for name, values in new.items():
            self._parts[name].append(np.asarray(values, dtype=np.float64))

    def arrays(self) -> dict[str, F64]:
        return {k: np.concatenate(v) if v else np.zeros(0) for k, v in self._parts.items()}

    def black(self) -> npt.NDArray[np.bool_]:
        return self.arrays()["nonblack"] <= self.min_nonblack + 1e-12

    def black_confidence(self) -> F64:
        """Per black frame: exactly at the coverage limit -> 50, no lit pixel -> 100."""
        nonblack = self.arrays()["nonblack"]
        if self.min_nonblack <= 0:
            return np.full(len(nonblack), 100.0)
        return confidences(under_each(nonblack, self.min_nonblack))

    def lit_confidence(self) -> F64:
        """Per frame, that it is not black: its lit-pixel share over the allowed share."""
        nonblack = self.arrays()["nonblack"]
        if self.min_nonblack <= 0:  # every lit pixel counts: only a frame with none is black
            return np.where(nonblack > 0, 100.0, 50.0)
        return confidences(over_each(nonblack, self.min_nonblack))


def _text_frames(f: dict[str, F64]) -> npt.NDArray[np.bool_]:
    """Frames showing white text strokes over a dark or a smooth background.

    Content shots of the test media: stroke share <= 0.45 or dark share < 0.5 or
    saturated or textured; credits: stroke share >= 0.8.
    """
    words = (f["white"] >= 0.005) & (f["stroke"] >= 0.5)
    on_dark = (f["dark"] >= 0.5) & (f["sat"] <= 12)
    on_plain = (f["smooth"] >= 0.8) & (f["textrows"] <= 0.45) & (f["edge"] >= 0.01)
    return words & (on_dark | on_plain)


def _text_strength(f: dict[str, F64]) -> F64:
    """_text_frames' rule as a strength per frame (>= 1 where it holds)."""
    words = np.minimum(over_each(f["white"], 0.005), over_each(f["stroke"], 0.5))
    on_dark = np.minimum(over_each(f["dark"], 0.5), under_each(f["sat"], 12))
    on_plain = np.minimum.reduce(
        [over_each(f["smooth"], 0.8), under_each(f["textrows"], 0.45), over_each(f["edge"], 0.01)]
    )
    strength: F64 = np.minimum(words, np.maximum(on_dark, on_plain))
    return strength


@dataclass(frozen=True)
class _ShotStats:
    shot: Shot
    all_black: bool
    bars: float  # 0 = not bars, else a confidence
    slate: float
    credits: float
    content: float  # the confidence if it is labelled Content


def _median(values: F64) -> float:
    return float(np.median(values)) if len(values) else 0.0


def _shot_stats(
    shot: Shot,
    f: dict[str, F64],
    text: npt.NDArray[np.bool_],
    text_strength: F64,
    black: npt.NDArray[np.bool_],
    motion: F64,
    seconds: float,
) -> _ShotStats:
    sl = slice(shot.start, shot.end + 1)
    keep = ~black[sl]
    if not keep.any():
        return _ShotStats(shot, True, 0.0, 0.0, 0.0, 50.0)

    def med(name: str) -> float:
        return _median(f[name][sl][keep])

    motion_med = _median(motion[sl][1:])
    still = motion_med <= 0.5  # compression noise only
    # each rule's strength: how far its weakest statistic is past the threshold
    still_s = under(motion_med, 0.5)
    bars_s = min(still_s, over(med("vertical"), 4.5), over(med("sat"), 20))
    grey = (under(med("sat"), 3), over(med("luma"), 40), under(med("luma"), 220))
    card = (over(med("edge"), 0.03), over(med("smooth"), 0.5))
    slate_s = min(still_s, over(seconds, 1.0), *grey, *card)
    bars = 0.0
    # bars: vertical >= 7.5 on both programmes, <= 3.2 elsewhere; static; saturated
    if still and med("vertical") >= 4.5 and med("sat") >= 20:
        bars = confidence(bars_s)
    slate = 0.0
    # slate: pure grey card (sat 0.0); the greyest real footage measured has sat >= 4
    grey_card = still and seconds >= 1.0 and med("sat") <= 3 and 40 <= med("luma") <= 220
    if grey_card and med("edge") >= 0.03 and med("smooth") >= 0.5:
        slate = confidence(slate_s)
    shown = text[sl][keep]
    share = float(shown.mean())
    # credits: the share of frames with text, and how clearly the median one shows it
    clarity = _median(text_strength[sl][keep][shown])
    credits_s = min(over(share, 0.4), over(float(keep.sum()), 5), clarity)
    credits = confidence(credits_s) if share >= 0.4 and keep.sum() >= 5 else 0.0
    content = confidence(against(bars_s, slate_s, credits_s))
    return _ShotStats(shot, False, bars, slate, credits, content)


# ---------------------------------------------------------------- text rules
# What the text read in a shot says (text_evidence.StretchText, one picture a second).
# Read off the evidence of the development programmes (benchmarks/scouting/cues) and
# scored leave-one-out by benchmarks/cues.py, which re-chooses each TUNABLE threshold
# without the programme it scores.
TEXT_SHARE = 0.4  # of a shot's pictures, the share showing text, for any text rule
CARD_LINES = 2  # credit and title cards hold at least this many lines (median picture)
CREDIT_CARDS = 2  # a shot of credit cards shows at least this many cards
ROLL_LINES = 3  # a roll shows at least this many lines
BLOCK_LINES = 4  # a single still card of this many lines, at the end: end credits
LOGO_WORDS = 4  # a studio logo card shows at most this many words (on fewer than CARD_LINES)
LOGO_SECONDS = 6.0  # and lasts at most this long
OVERLAY = 0.5  # text in place in this share of the next shot's pictures: an overlay
TUNABLE: dict[str, list[float]] = {
    "TEXT_SHARE": [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
    "ROLL_LINES": [2, 3, 4, 5, 6],
    "BLOCK_LINES": [3, 4, 5, 6, 8],
    "LOGO_WORDS": [2, 3, 4, 5, 6, 8],
    "LOGO_SECONDS": [3.0, 4.0, 5.0, 6.0, 8.0, 10.0],
    "OVERLAY": [0.3, 0.4, 0.5, 0.6, 0.7],
}


@dataclass(frozen=True)
class _TextCall:
    """Strengths (>= 1: the rule holds) of what a shot's text says it is."""

    credits: float  # two or more cards of lines, or a roll
    block: float  # one card of many lines
    title: float  # a card of two or more lines, not in the lower band
    logo: float  # a short card of a few words on one line
    small: bool  # little text (one card, one line, a few words): a logo, a sign, not credits
    overlay: bool  # the same places hold text in the next shot


def _at_least(count: float, least: float) -> float:
    """Strength of `count >= least` for counts: the boundary half way to the next lower."""
    return over(count, least - 0.5)


def _at_most(count: float, most: float) -> float:
    return under(count, most + 0.5)


_NO_TEXT = _TextCall(0.0, 0.0, 0.0, 0.0, False, False)


def _text_call(e: StretchText, seconds: float, overlay: float) -> _TextCall:
    if e.with_text == 0:
        return _NO_TEXT
    # text shown in enough pictures, and read surely: the doubt (100 - the lines' median
    # confidence) at most 50 %, as the evidence keeps them
    shown = min(over(e.share, TEXT_SHARE), under(100.0 - e.confidence, 50.0))
    cards = min(shown, _at_least(e.cards, CREDIT_CARDS), _at_least(e.lines, CARD_LINES))
    roll = min(shown, _at_least(e.rolls, 2), _at_least(e.lines, ROLL_LINES))
    return _TextCall(
        credits=max(cards, roll),
        block=min(shown, _at_least(e.lines, BLOCK_LINES)),
        # a title card: not in the lower band, where a name and a role are a lower third
        title=0.0 if e.low_band else min(shown, _at_least(e.lines, CARD_LINES)),
        # one line (two or more make a title card), a few words, short
        logo=min(shown, _at_most(e.words, LOGO_WORDS), under(seconds, LOGO_SECONDS))
        if e.lines < CARD_LINES
        else 0.0,
        small=e.share >= TEXT_SHARE
        and e.cards <= 1
        and e.lines < CARD_LINES
        and e.words <= LOGO_WORDS,
        overlay=overlay >= OVERLAY,
    )


def classify(
    shots: list[Shot],
    features: dict[str, F64],
    black: npt.NDArray[np.bool_],
    black_confidence: F64,
    motion: F64,
    frame_ms: list[int],
    lit_confidence: F64 | None = None,
    text: TextEvidence | None = None,
) -> list[Cue]:
    """Cue segments covering every frame, in time order.

    `motion` is the per-frame change score (shots.ChangeScores), `frame_ms` each
    frame's start time; the programme's duration decides what "near the start" is.
    `black_confidence` / `lit_confidence` (CueFeatures): per frame, that it is / is not
    black; a frame labelled by its shot is at most as sure as it is not black. `text`:
    the lines read in the video (None: the pixel rules alone).
    """
    n = len(black)
    if n == 0 or not shots:
        return []
    duration = frame_ms[-1] + (frame_ms[-1] - frame_ms[-2] if n > 1 else 0)
    text_frames = _text_frames(features)
    text_strength = _text_strength(features)
    spans = [(frame_ms[s.start], frame_ms[s.end + 1] if s.end + 1 < n else duration) for s in shots]
    stats = [
        _shot_stats(shot, features, text_frames, text_strength, black, motion, (b - a) / 1000.0)
        for shot, (a, b) in zip(shots, spans, strict=True)
    ]
    calls = _text_calls(stats, spans, text)
    labels = _label(stats, calls, spans, duration)

    lit = np.full(n, 100.0) if lit_confidence is None else lit_confidence
    per_frame: list[tuple[str, float]] = [("", 0.0)] * n
    for s, (kind, conf) in zip(stats, labels, strict=True):
        for i in range(s.shot.start, s.shot.end + 1):
            per_frame[i] = (kind, min(conf, float(lit[i])))
    for start, end in _runs(black):
        if _fade_tail(start, end, shots, frame_ms):
            continue
        for i in range(start, end + 1):
            per_frame[i] = (BLACK, float(black_confidence[i]))
    return _merge(per_frame)


def _text_calls(
    stats: list[_ShotStats], spans: list[tuple[int, int]], text: TextEvidence | None
) -> list[_TextCall]:
    if text is None:
        return [_NO_TEXT] * len(stats)
    calls = []
    for k, (a, b) in enumerate(spans):
        # the next shot that is not all black: does it hold text where this one did?
        nxt = next((spans[j] for j in range(k + 1, len(stats)) if not stats[j].all_black), None)
        overlay = text.repeated((a, b), nxt) if nxt is not None else 0.0
        calls.append(_text_call(text.of(a, b), (b - a) / 1000.0, overlay))
    return calls


def _label(
    stats: list[_ShotStats],
    calls: list[_TextCall],
    spans: list[tuple[int, int]],
    duration: int,
) -> list[tuple[str, float]]:
    """Each shot's cue and confidence (all-black shots: Content here, black frame by frame).

    Credits are read from text wherever they are (a cold open may come first): cards or a
    roll in the first half with content after them are OpeningCredits; in the run of
    shots after the last content shot, and in the last third, EndCredits (there one still
    card of many lines also counts). The pixel rules' credits (white strokes over a dark
    or plain picture) count only in the leading and trailing runs and only when the text
    read there is not little text (a logo, a sign). A StudioLogo is the first shot after
    bars, black and slate: short, one card of a few words on one line, followed by more;
    a title card there (two lines or more, not in the lower band) opens the credits. Text that stays
    in place into the next shot is an overlay: never a logo or a title.
    """
    count = len(stats)
    labels: list[tuple[str, float]] = [(CONTENT, s.content) for s in stats]

    def technical(s: _ShotStats, k: int) -> bool:
        return s.all_black or s.bars > 0 or (s.slate > 0 and spans[k][0] <= duration / 3)

    first = 0  # the first shot after the leading bars, black and slate
    while first < count and technical(stats[first], first):
        first += 1
    pixel = [s.credits > 0 and not c.small for s, c in zip(stats, calls, strict=True)]

    logo = first < count - 1 and calls[first].logo >= 1 and not calls[first].overlay
    title = first + int(logo)
    credits = [
        c.credits >= 1 or (k == title and c.title >= 1 and not c.overlay)
        for k, c in enumerate(calls)
    ]

    def special(k: int) -> bool:
        s = stats[k]
        return (
            technical(s, k)
            or pixel[k]
            or credits[k]
            or calls[k].block >= 1
            or (logo and k == first)
        )

    lead = 0
    while lead < count and special(lead):
        lead += 1
    trail = count
    while trail > lead and special(trail - 1):
        trail -= 1
    if lead >= trail:  # nothing but cards and black: a clip of title cards is content
        return [(BARS, s.bars) if s.bars > 0 else labels[k] for k, s in enumerate(stats)]
    last_content = trail - 1  # the trailing run starts right after it

    for k, (s, c) in enumerate(zip(stats, calls, strict=True)):
        start, end = spans[k]
        text_credits = c.credits if credits[k] and c.credits >= 1 else c.title
        if s.bars > 0:
            labels[k] = (BARS, s.bars)
        elif s.all_black:
            continue  # labelled frame by frame
        elif k < first and s.slate > 0:
            labels[k] = (SLATE, s.slate)
        elif logo and k == first:
            labels[k] = (LOGO, confidence(c.logo))
        elif k < last_content and start <= duration / 2 and credits[k]:
            labels[k] = (OPENING, confidence(text_credits))
        elif k < lead and pixel[k] and start <= duration / 3:
            labels[k] = (OPENING, s.credits)
        elif k >= trail and end >= duration * 2 / 3:
            if credits[k] or c.block >= 1:
                labels[k] = (ENDING, confidence(max(text_credits, c.block)))
            elif pixel[k]:
                labels[k] = (ENDING, s.credits)
    return labels


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def _fade_tail(start: int, end: int, shots: list[Shot], frame_ms: list[int]) -> bool:
    """The darkest frames of a fade-out that is then cut away from (not to black).

    They pass the black test, but they are the end of the faded shot: the truth of
    the programmes ends Content at the cut, not where the fade dips under 20 %
    luma. Long black after a fade (>= 1 s), a fade-out that ends the file and black
    between a fade-out and a fade-in stay BlackFrames.
    """
    shot = shots[bisect.bisect_right([s.start for s in shots], start) - 1]
    if start == shot.start or end != shot.end or end + 1 >= len(frame_ms):
        return False
    return frame_ms[end + 1] - frame_ms[start] < 1000


def _merge(per_frame: list[tuple[str, float]]) -> list[Cue]:
    cues: list[Cue] = []
    start = 0
    for i in range(1, len(per_frame) + 1):
        if i == len(per_frame) or per_frame[i][0] != per_frame[start][0]:
            kind = per_frame[start][0]
            confs = [c for _, c in per_frame[start:i]]
            cues.append(Cue(kind, start, i - 1, round(float(np.mean(confs)), 3)))
            start = i
    return cues
