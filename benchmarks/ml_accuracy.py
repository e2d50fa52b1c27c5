"""Local model features: accuracy on the shared media in-sample and leave-one-out, for the one
tuned number of each (labels THRESHOLD, faces MESH_GATE, moderation GATE).

    .venv/bin/python benchmarks/ml_accuracy.py [--features labels,faces,moderation] [--media DIR]

The real engine functions run with the module constant patched over a grid
(`unittest.mock.patch.object`; the engines read it at call time). No engine code changes.
Each (feature, value, file) runs once per process (cached).

Units, scored as ml/README.md scores the dev set, on the items' Timestamps (as the
integration tests do; no ranges are built here):
- labels (`detect_labels`, MinConfidence 50): the 12 dev shots; a hit when an item in
  [start_ms + 500, end_ms - 500) has a name in the shot's `labels_any` (any case).
  Grid 0.10-0.50 step 0.05; score = hits.
- faces (`detect_faces`, DEFAULT attributes): the dev shots marked `some` (found: a face item
  in the shot's middle 2 s) and `none` (false: a face item there), `ignore` shots not scored;
  plus whole files without a face, each one `none` unit (false: any face item): the files of
  test_local_faces.py's pattern/cartoon test (the 720p programme, the WebM, the no-audio file,
  Big Buck Bunny). Grid 0.1-0.9 step 0.1; score = found - false.
- moderation (`detect_moderation` with GATE=0 and MinConfidence 0: every sampled picture's
  open_nsfw probability): the 8 safe files of test_local_moderation.py, each one unit, its
  score the highest probability of its pictures; at a gate g >= 0.5 the file has a false
  positive when that score is >= g. Grid 0.5-0.9 step 0.1.

Selection rule: labels and faces take the grid values with the best score and the middle of
them (median; the lower middle on an even count); moderation takes the smallest grid value at
least the worst unit's score + 0.15 (the largest grid value when none is). In-sample: the rule
on all units, scored on all. Leave-one-out: for each unit the rule on the others, the held-out
unit scored at that value, summed over units. The shipped constant's own score is given too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from unittest.mock import patch

from worker.engines.local import faces, labels, moderation
from worker.engines.local.faces import detect_faces, load_models
from worker.engines.local.labels import detect_labels, shipped_classifier, taxonomy
from worker.engines.local.moderation import detect_moderation, open_nsfw
from worker.media.probe import probe

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
DEV = "ml/objects_dev_720p25.mp4"
# test_local_faces.py's test_no_face_on_patterns_and_cartoons
FACELESS = [
    "synthetic/programme_720p25.mp4",
    "synthetic/programme.webm",
    "synthetic/no_audio.mp4",
    "real/bigbuckbunny.mp4",
]
# test_local_moderation.py's SAFE
SAFE = [
    "ml/objects_dev_720p25.mp4",
    "real/bigbuckbunny.mp4",
    "real/bikes.mp4",
    "real/testvideo.mp4",
    "synthetic/programme_720p25.mp4",
    "synthetic/vfr_phone.mp4",
    "synthetic/programme.webm",
    "synthetic/no_audio.mp4",
]
LABEL_GRID = tuple(round(0.10 + 0.05 * i, 2) for i in range(9))
FACE_GRID = tuple(round(0.1 * i, 1) for i in range(1, 10))
MODERATION_GRID = (0.5, 0.6, 0.7, 0.8, 0.9)
MARGIN = 0.15  # moderation: the gate stays this far above the worst safe score
FEATURES = ("labels", "faces", "moderation")


@dataclass
class Unit:
    """One scored shot or file: its share of the score and what it is, at each grid value."""

    name: str
    points: dict[float, int]
    result: dict[float, str]
    score: float = 0.0  # moderation: the file's highest open_nsfw probability


Rule = Callable[[Sequence[Unit], Sequence[float]], float]


@dataclass
class Outcome:
    feature: str
    constant: str
    shipped: float
    grid: Sequence[float]
    units: list[Unit]
    chosen: float = 0.0
    loo_values: list[float] = field(default_factory=list)

    def total(self, value: float, units: Sequence[Unit] | None = None) -> int:
        return sum(u.points[value] for u in (self.units if units is None else units))

    @property
    def loo(self) -> int:
        return sum(u.points[v] for u, v in zip(self.units, self.loo_values, strict=True))


def best_middle(units: Sequence[Unit], grid: Sequence[float]) -> float:
    """Among the grid values with the best summed score, the middle one (lower middle)."""
    totals = {v: sum(u.points[v] for u in units) for v in grid}
    top = max(totals.values())
    best = [v for v in grid if totals[v] == top]
    return best[(len(best) - 1) // 2]


def above_worst(units: Sequence[Unit], grid: Sequence[float]) -> float:
    """The smallest grid value at least the worst unit's score + MARGIN."""
    floor = max(u.score for u in units) + MARGIN
    return next((v for v in grid if v >= floor - 1e-9), grid[-1])


def evaluate(outcome: Outcome, rule: Rule) -> Outcome:
    outcome.chosen = rule(outcome.units, outcome.grid)
    outcome.loo_values = [
        rule([u for u in outcome.units if u is not held], outcome.grid) for held in outcome.units
    ]
    return outcome


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(what: str, run: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    out = run()
    log(f"  {what}: {time.perf_counter() - start:.1f} s")
    return out


# ---------------------------------------------------------------- engine runs (cached)


@cache
def label_items(path: Path, threshold: float) -> list[tuple[int, str]]:
    with patch.object(labels, "THRESHOLD", threshold):
        response = timed(
            f"labels THRESHOLD={threshold:.2f} {path.name}",
            lambda: detect_labels(path, probe(path)),  # MinConfidence 50
        )
    return [(i["Timestamp"], i["Label"]["Name"]) for i in response["Labels"]]


@cache
def face_times(path: Path, gate: float) -> list[int]:
    with patch.object(faces, "MESH_GATE", gate):
        response = timed(
            f"faces MESH_GATE={gate:.1f} {path.name}", lambda: detect_faces(path, probe(path))
        )
    return [i["Timestamp"] for i in response["Faces"]]


@cache
def worst_nsfw(path: Path) -> float:
    with patch.object(moderation, "GATE", 0.0):
        response = timed(
            f"moderation GATE=0 {path.name}",
            lambda: detect_moderation(path, probe(path), min_confidence=0.0),
        )
    scores = [i["ModerationLabel"]["Confidence"] / 100 for i in response["ModerationLabels"]]
    return max(scores, default=0.0)


# ---------------------------------------------------------------- units


def dev_shots(media: Path) -> list[dict[str, Any]]:
    truth = json.loads((media / DEV).with_suffix(".truth.json").read_text())
    shots: list[dict[str, Any]] = truth["shots"]
    return shots


def middle(shot: dict[str, Any], at_ms: int) -> bool:
    return bool(shot["start_ms"] + 500 <= at_ms < shot["end_ms"] - 500)


def shot_name(shot: dict[str, Any]) -> str:
    return f"{shot['index']:2d} {Path(shot['image']).stem}"


def label_units(media: Path) -> Outcome:
    path = media / DEV
    units = []
    for shot in dev_shots(media):
        wanted = {n.lower() for n in shot["labels_any"]}
        points, result = {}, {}
        for v in LABEL_GRID:
            hit = sorted(
                {n for t, n in label_items(path, v) if middle(shot, t) and n.lower() in wanted}
            )
            points[v] = int(bool(hit))
            result[v] = f"HIT ({', '.join(hit[:3])})" if hit else "miss"
        units.append(Unit(shot_name(shot), points, result))
    return Outcome("labels", "labels.THRESHOLD", labels.THRESHOLD, LABEL_GRID, units)


def face_units(media: Path) -> Outcome:
    path = media / DEV
    units = []
    for shot in dev_shots(media):
        if shot["faces"] == "ignore":
            continue
        some = shot["faces"] == "some"
        points, result = {}, {}
        for v in FACE_GRID:
            n = sum(middle(shot, t) for t in face_times(path, v))
            if some:
                points[v], result[v] = int(n > 0), f"found ({n})" if n else "missed"
            else:
                points[v], result[v] = -int(n > 0), f"FALSE ({n})" if n else "clean"
        units.append(Unit(f"{shot_name(shot)} ({shot['faces']})", points, result))
    for name in FACELESS:
        points, result = {}, {}
        for v in FACE_GRID:
            n = len(face_times(media / name, v))
            points[v], result[v] = -int(n > 0), f"FALSE ({n})" if n else "clean"
        units.append(Unit(f"{name} (none)", points, result))
    return Outcome("faces", "faces.MESH_GATE", faces.MESH_GATE, FACE_GRID, units)


def moderation_units(media: Path) -> Outcome:
    units = []
    for name in SAFE:
        worst = worst_nsfw(media / name)
        points = {v: -int(worst >= v) for v in MODERATION_GRID}
        result = {v: "FP" if worst >= v else "clean" for v in MODERATION_GRID}
        units.append(Unit(name, points, result, score=worst))
    return Outcome("moderation", "moderation.GATE", moderation.GATE, MODERATION_GRID, units)


# ---------------------------------------------------------------- report


def score_text(outcome: Outcome, value: float | None = None, loo: bool = False) -> str:
    units = outcome.units
    if loo:
        pts = [u.points[v] for u, v in zip(units, outcome.loo_values, strict=True)]
    else:
        assert value is not None
        pts = [u.points[value] for u in units]
    if outcome.feature == "labels":
        return f"{sum(pts)}/{len(units)} hits"
    if outcome.feature == "moderation":
        return f"{-sum(pts)}/{len(units)} false positives"
    some = [u for u in units if u.name.endswith("(some)")]
    found = sum(p for u, p in zip(units, pts, strict=True) if u in some)
    false = -sum(p for u, p in zip(units, pts, strict=True) if u not in some)
    return f"{found - false} (found {found}/{len(some)}, false {false}/{len(units) - len(some)})"


def report(outcome: Outcome) -> None:
    grid = outcome.grid
    fmt = "{:.2f}" if outcome.feature == "labels" else "{:.1f}"
    lo, hi = min(outcome.loo_values), max(outcome.loo_values)
    same = "= shipped" if outcome.chosen == outcome.shipped else f"shipped {outcome.shipped}"
    print(f"\n== {outcome.feature}: {outcome.constant} (shipped {outcome.shipped})")
    print("score over the grid: " + ", ".join(f"{fmt.format(v)}: {outcome.total(v)}" for v in grid))
    print(f"in-sample chosen    {fmt.format(outcome.chosen)} ({same})")
    print(f"in-sample score     {score_text(outcome, outcome.chosen)}")
    shipped = f"shipped {fmt.format(outcome.shipped)} score"
    print(f"{shipped:<19} {score_text(outcome, outcome.shipped)}")
    print(f"LOO score           {score_text(outcome, loo=True)}")
    values = sorted(set(outcome.loo_values))
    print(
        f"LOO values chosen   {fmt.format(lo)}-{fmt.format(hi)} "
        f"({', '.join(f'{fmt.format(v)} x{outcome.loo_values.count(v)}' for v in values)})"
    )
    mark = {1: "+", 0: ".", -1: "x"}
    rows = []
    for unit, v in zip(outcome.units, outcome.loo_values, strict=True):
        extra = f" (max {unit.score:.3f})" if outcome.feature == "moderation" else ""
        cells = "".join(mark[unit.points[g]] for g in grid)
        rows.append((unit.name, cells, unit.result[outcome.chosen] + extra, v, unit.result[v]))
    width = max(len(r[0]) for r in rows)
    wide = max(len("in-sample"), *(len(r[2]) for r in rows))
    grid_head = f"grid {fmt.format(grid[0])}..{fmt.format(grid[-1])}"
    cols = len(grid_head)
    header = (
        f"{'unit':<{width}} | {grid_head} | {'in-sample':<{wide}} | {'LOO value':>9} | LOO result"
    )
    print(header)
    print("-" * len(header))
    for name, cells, result, v, loo_result in rows:
        print(
            f"{name:<{width}} | {cells:<{cols}} | {result:<{wide}}"
            f" | {fmt.format(v):>9} | {loo_result}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", default=",".join(FEATURES), help="comma-separated")
    parser.add_argument("--media", type=Path, default=MEDIA, help=f"default {MEDIA}")
    args = parser.parse_args()
    wanted = [f.strip() for f in args.features.split(",") if f.strip()]
    unknown = set(wanted) - set(FEATURES)
    if unknown:
        parser.error(f"unknown features: {', '.join(sorted(unknown))}")
    # the models' load is not part of any run's time
    open_nsfw(), load_models(), shipped_classifier(), taxonomy()
    build: dict[str, tuple[Callable[[Path], Outcome], Rule]] = {
        "labels": (label_units, best_middle),
        "faces": (face_units, best_middle),
        "moderation": (moderation_units, above_worst),
    }
    start = time.perf_counter()
    outcomes = []
    for feature in wanted:
        log(f"{feature}:")
        units, rule = build[feature]
        outcomes.append(evaluate(units(args.media), rule))
    log(f"engine runs: {time.perf_counter() - start:.0f} s")
    print("grid columns: + counts for the score, . neutral, x counts against (false face/FP)")
    for outcome in outcomes:
        report(outcome)


if __name__ == "__main__":
    main()
