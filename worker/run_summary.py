"""What `vidx run` reports about one video when it is done (or its analysis is): read
from the store, with the run's own times. Typed here; the CLI prints or serialises it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from worker.query import timeline, video_status
from worker.read_model import CueRange, StepState


@dataclass(frozen=True)
class RunSummary:
    """`run --format json`'s object, in its key order (every key is in the README)."""

    video_id: str
    status: str
    features: dict[str, StepState]
    duration_ms: int
    shots: int
    technical_cues: tuple[CueRange, ...]
    content_range_ms: list[int] | None
    clips: int
    clips_dir: str | None
    notes: list[str]
    analysis_reused: bool
    analysis_ms: int
    elapsed_ms: int
    x_realtime: float | None  # the analysis's speed; none when it was reused (none ran)

    @property
    def failures(self) -> list[str]:
        """`feature: message` of each feature that says what went wrong."""
        return [f"{f}: {v.message}" for f, v in self.features.items() if v.message]


def summarise(
    session: Session,
    video_id: str,
    clips_root: Path,
    *,
    reused: bool,
    analysis_ms: int,
    elapsed_ms: int,
    notes: list[str] | None = None,
) -> RunSummary:
    status = video_status(session, video_id)
    doc = timeline(session, video_id)
    duration_ms = doc.video.duration_ms
    rng = doc.content_range_ms
    return RunSummary(
        video_id=video_id,
        status=status.status,
        features=dict(status.features),
        duration_ms=duration_ms,
        shots=len(doc.shots),
        technical_cues=doc.technical_cues,
        content_range_ms=None if rng is None else list(rng),
        clips=len(doc.clips),
        clips_dir=str((clips_root / video_id).resolve()) if doc.clips else None,
        notes=[*(notes or []), *(n.message for n in doc.notes)],
        analysis_reused=reused,
        analysis_ms=analysis_ms,
        elapsed_ms=elapsed_ms,
        x_realtime=None if reused or not analysis_ms else round(duration_ms / analysis_ms, 2),
    )
