"""Technical cue accuracy of the local engine, in-sample and leave-one-out (issue 14).

    .venv/bin/python benchmarks/cues.py [--fresh]

Scores `cues.classify` on every programme with cue truth: the three constructed
development programmes (`benchmarks/media/`) and the shared synthetic programmes. A
programme passes when its cues are the truth's, in order, each boundary within 500 ms (as
tests/integration/test_segments_accuracy.py checks); every other shared file must get no
cue its truth lacks (false credits, logos, slates).

Leave-one-out: each tunable threshold of the text rules (cues.TUNABLE) is chosen on the
other files only (the middle of the longest run of grid values passing most of them; the
shipped value gets no preference), then the held-out file is scored with it. The
in-sample part also prints, per threshold, how many files each grid value passes.

The per-frame measures and the text evidence of each file come from the segment job's own
decode (as `segments.analyse` runs it), computed once and cached in test-artifacts/cue-inputs
(a pickle per file, keyed by its size and mtime); --fresh recomputes them.
"""

from __future__ import annotations

import argparse
import json
import pickle
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks.media import NAMES, ensure, load_truth
from worker.engines.local import cues
from worker.engines.local.segments import Decoded, FrameMeasures, SegmentParams, with_text_reader
from worker.engines.local.text_evidence import TextEvidence
from worker.engines.local.vision import one_pass
from worker.media.probe import probe

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"
CACHE = REPO / "test-artifacts" / "cue-inputs"
SHARED_PROGRAMMES = ("synthetic/programme_720p25.mp4", "synthetic/programme_1080p2997.mov")
OTHERS = (
    "synthetic/programme_prores.mov",
    "synthetic/programme.webm",
    "synthetic/vfr_phone.mp4",
    "synthetic/no_audio.mp4",
    "real/bikes.mp4",
    "real/bigbuckbunny.mp4",
    "real/testvideo.mp4",
    "real/fades.mp4",
    "real/counter.mp4",
    "real/delayed_start.mp4",
    "ml/objects_dev_720p25.mp4",
)
TOLERANCE_MS = 500
CACHE_VERSION = 2  # bumped when Inputs changes shape


@dataclass
class Inputs:
    """What classify reads, for one file."""

    name: str
    decoded: Decoded
    text: TextEvidence | None
    truth: dict[str, Any]


def _compute(path: Path, truth: dict[str, Any]) -> Inputs:
    """The segment job's own decode (segments.analyse): every frame tiny, the text read."""
    info = probe(path)
    params = SegmentParams()
    measures = FrameMeasures(params)
    runs, reader = with_text_reader([], params)
    one_pass(path, info, runs, frames=measures)
    assert reader is not None
    decoded = Decoded.of(measures, params.min_shot_confidence)
    return Inputs(path.name, decoded, reader.evidence, truth)


def inputs(path: Path, truth: dict[str, Any], fresh: bool) -> Inputs:
    stat = path.stat()
    cached = CACHE / f"{path.stem}-{stat.st_size}-{int(stat.st_mtime)}-{CACHE_VERSION}.pkl"
    if cached.exists() and not fresh:
        loaded: Inputs = pickle.loads(cached.read_bytes())
        return replace(loaded, truth=truth)
    got = _compute(path, truth)
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(pickle.dumps(got))
    return got


def files(fresh: bool) -> tuple[list[Inputs], list[Inputs]]:
    """(programmes with cue truth, other files) as classify's inputs."""
    programmes = [inputs(ensure(n), load_truth(n), fresh) for n in NAMES]
    for name in SHARED_PROGRAMMES:
        p = MEDIA / name
        programmes.append(inputs(p, json.loads(p.with_suffix(".truth.json").read_text()), fresh))
    others = []
    for name in OTHERS:
        p = MEDIA / name
        others.append(inputs(p, json.loads(p.with_suffix(".truth.json").read_text()), fresh))
    return programmes, others


def found_cues(x: Inputs) -> list[tuple[str, int, int, float]]:
    """(type, start ms, end ms half-open, confidence) as the response reports them."""
    frame_ms = x.decoded.frame_ms
    n = len(frame_ms)
    duration = frame_ms[-1] + (frame_ms[-1] - frame_ms[-2] if n > 1 else 0)
    out = []
    for c in x.decoded.cues(x.text):
        end = frame_ms[c.end + 1] if c.end + 1 < n else duration
        out.append((c.type, frame_ms[c.start], end, c.confidence))
    return out


def errors(x: Inputs) -> list[str]:
    """What is wrong with the file's cues (empty: it passes)."""
    found = [c for c in found_cues(x) if c[3] >= 50.0]
    truth = x.truth.get("technical_cues") or []
    if not any(c["type"] in {"StudioLogo", "OpeningCredits", "EndCredits", "Slate"} for c in truth):
        # no programme: only the cues its truth has, Content and BlackFrames may appear
        allowed = {c["type"] for c in truth} | {"Content", "BlackFrames"}
        return [f"{k} {s}-{e}" for k, s, e, _ in found if k not in allowed]
    kinds = [c[0] for c in found]
    want = [c["type"] for c in truth]
    if kinds != want:
        return [" ".join(f"{k}:{s}-{e}" for k, s, e, _ in found)]
    out = []
    for (kind, start, end, _), t in zip(found, truth, strict=True):
        if abs(start - t["start_ms"]) > TOLERANCE_MS or abs(end - t["end_ms"]) > TOLERANCE_MS:
            out.append(f"{kind} {start}-{end} (truth {t['start_ms']}-{t['end_ms']})")
    return out


def worst_ms(x: Inputs) -> int | None:
    """The largest boundary error (ms) of a programme whose cue types match its truth."""
    found = [c for c in found_cues(x) if c[3] >= 50.0]
    truth = x.truth.get("technical_cues") or []
    if [c[0] for c in found] != [c["type"] for c in truth] or not truth:
        return None
    return max(
        max(abs(s - t["start_ms"]), abs(e - t["end_ms"]))
        for (_, s, e, _), t in zip(found, truth, strict=True)
    )


@contextmanager
def tuned(name: str, value: float) -> Iterator[None]:
    old = getattr(cues, name)
    setattr(cues, name, value)
    try:
        yield
    finally:
        setattr(cues, name, old)


def passing(files_: Sequence[Inputs]) -> int:
    return sum(not errors(x) for x in files_)


def scores_of(name: str, grid: Sequence[float], files_: Sequence[Inputs]) -> list[int]:
    out = []
    for v in grid:
        with tuned(name, v):
            out.append(passing(files_))
    return out


def choose(name: str, grid: Sequence[float], train: Sequence[Inputs]) -> float:
    """The middle of the longest run of grid values passing the most of `train` (the
    shipped value gets no preference)."""
    scores = scores_of(name, grid, train)
    best = max(scores)
    runs: list[list[float]] = []
    for v, s in zip(grid, scores, strict=True):
        if s == best:
            if runs and grid.index(v) == grid.index(runs[-1][-1]) + 1:
                runs[-1].append(v)
            else:
                runs.append([v])
    run = max(runs, key=len)
    return float(run[len(run) // 2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="recompute the cached inputs")
    parser.add_argument("--show", action="store_true", help="print every file's cues")
    args = parser.parse_args()
    programmes, others = files(args.fresh)
    everything = programmes + others
    if args.show:
        for x in everything:
            print(x.name)
            for k, s, e, c in found_cues(x):
                print(f"    {k:15s} {s:6d}-{e:6d} {c:6.2f}")
    print("in-sample (shipped thresholds):")
    for x in everything:
        problems = errors(x)
        worst = worst_ms(x)
        ok = "ok" if worst is None else f"ok, boundaries within {worst} ms"
        print(f"  {x.name:28s} {ok if not problems else 'FAIL ' + '; '.join(problems)}")
    blind = [replace(x, text=None) for x in everything]
    failed = [x.name for x in blind if errors(x)]
    print(f"\nthe pixel rules alone (no text): {len(blind) - len(failed)}/{len(blind)}")
    print(f"  failing: {', '.join(failed) or 'none'}")
    print("\nfiles passing per grid value (the others at their shipped values):")
    for name, grid in cues.TUNABLE.items():
        row = ", ".join(
            f"{v:g}:{n}" for v, n in zip(grid, scores_of(name, grid, everything), strict=True)
        )
        print(f"  {name:13s} (shipped {getattr(cues, name):g}) {row}")
    print("\nleave-one-out (each threshold chosen on the other files):")
    loo_pass = 0
    for k, held in enumerate(everything):
        train = everything[:k] + everything[k + 1 :]
        chosen = {n: choose(n, grid, train) for n, grid in cues.TUNABLE.items()}
        with _all(chosen):
            problems = errors(held)
        loo_pass += not problems
        shown = ", ".join(f"{n}={v:g}" for n, v in chosen.items())
        status = "ok" if not problems else "FAIL " + "; ".join(problems)
        print(f"  {held.name:28s} {status}  [{shown}]")
    print(
        f"\nin-sample {passing(everything)}/{len(everything)}, "
        f"leave-one-out {loo_pass}/{len(everything)}"
    )


@contextmanager
def _all(values: dict[str, float]) -> Iterator[None]:
    olds = {n: getattr(cues, n) for n in values}
    for n, v in values.items():
        setattr(cues, n, v)
    try:
        yield
    finally:
        for n, v in olds.items():
            setattr(cues, n, v)


if __name__ == "__main__":
    main()
