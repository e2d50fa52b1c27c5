"""Text evidence per truth shot of the constructed programmes (issue 14, cues from text).

Reads each programme's text with the local OCR (detect_text, MinConfidence 50, one picture
a second) and prints text_evidence.stretch_text for every shot of its truth, beside the
shot's true kind: the table the cue rules are designed from (findings.md).

    PYTHONPATH=. .venv/bin/python benchmarks/scouting/cues/evidence_table.py
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.media import ensure
from worker.engines.local.text import detect_text
from worker.engines.local.text_evidence import lines_of, stretch_text
from worker.media.probe import probe

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "media" / "synthetic"
DEV = ("logo_titles_720p25", "logo_anim_1080p25", "bars_titles_720p25")
SHARED_FILES = ("programme_720p25.mp4", "programme_1080p2997.mov")


def programmes() -> list[tuple[Path, dict]]:  # type: ignore[type-arg]
    out = [
        (ensure(n), json.loads((REPO / "benchmarks" / "media" / f"{n}.truth.json").read_text()))
        for n in DEV
    ]
    for name in SHARED_FILES:
        truth = SHARED / (name.rsplit(".", 1)[0] + ".truth.json")
        out.append((SHARED / name, json.loads(truth.read_text())))
    return out


def main() -> None:
    for path, truth in programmes():
        response = detect_text(path, probe(path), min_confidence=50)
        items = response["TextDetections"]
        lines = lines_of(items)  # type: ignore[arg-type]
        # the pictures read: every sampled second (those without text leave no item)
        pictures = sorted({int(i["Timestamp"]) for i in items} | set(range(0, truth["duration_ms"], 1000)))
        print(path.name)
        for s in truth["shots"]:
            e = stretch_text(lines, pictures, s["start_ms"], s["end_ms"])
            print(
                f"  {s['kind']:15s} {s['start_ms']:6d}-{s['end_ms']:6d} pics={e.pictures:2d}"
                f" share={e.share:.2f} cards={e.cards} lines={e.lines:4.1f} words={e.words:3d}"
                f" roll={int(e.rolling)} low={int(e.low_band)} h={e.height:.3f}"
            )


if __name__ == "__main__":
    main()
