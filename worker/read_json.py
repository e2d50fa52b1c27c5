"""The read model as JSON: the one place that knows the documented shapes (DESIGN.md,
Contracts) of the timeline document, a video's status, the video list, thumbnails and
search rows. The CLI and the JSON export print these dicts, and the API its timeline
document (its other bodies are the schemas of worker/api/schemas.py, the same fields in
the same order: worker/api/mapping.py); keys keep the order the documents have always had.

`timeline_from_json` reads a document back (a saved `vidx timeline` file, or one built
by hand): KeyError, TypeError or ValueError name what is missing or wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from worker.read_model import (
    TIMELINE_SCHEMA,
    CueRange,
    FaceRange,
    FeatureRun,
    LabelRange,
    ModerationRange,
    Note,
    ShotRange,
    StepState,
    TextRange,
    Thumbnails,
    Timeline,
    TimelineClip,
    VideoFacts,
    VideoStatus,
    VideoSummary,
)
from worker.search import QueryRow

JsonObject = dict[str, Any]  # a JSON object as json.dumps takes it


def timeline_json(tl: Timeline) -> JsonObject:
    """The `vidx.timeline/1` document."""
    v = tl.video
    return {
        "schema": TIMELINE_SCHEMA,
        "video": {
            "id": v.id,
            "source": v.source,
            "duration_ms": v.duration_ms,
            "fps": v.fps,
            "frame_count": v.frame_count,
            "width": v.width,
            "height": v.height,
            "start_timecode": v.start_timecode,
            "audio_channels": v.audio_channels,
        },
        "features": {
            name: {"status": f.status, "engine": f.engine, "model_version": f.model_version}
            for name, f in tl.features.items()
        },
        "shots": [
            {
                "index": s.index,
                "start_ms": s.start_ms,
                "end_ms": s.end_ms,
                "start_frame": s.start_frame,
                "end_frame": s.end_frame,
                "confidence": s.confidence,
            }
            for s in tl.shots
        ],
        "technical_cues": [
            {"type": c.type, "start_ms": c.start_ms, "end_ms": c.end_ms, "confidence": c.confidence}
            for c in tl.technical_cues
        ],
        "labels": [{"name": x.name, "parents": list(x.parents), **_span(x)} for x in tl.labels],
        "moderation": [{"name": x.name, "parent": x.parent, **_span(x)} for x in tl.moderation],
        "faces": [{**_span(x), "attributes": dict(x.attributes)} for x in tl.faces],
        "text": [{"name": x.name, "type": x.type, **_span(x)} for x in tl.text],
        "content_range_ms": None if tl.content_range_ms is None else list(tl.content_range_ms),
        "notes": [
            {
                "type": n.type,
                "start_ms": n.start_ms,
                "end_ms": n.end_ms,
                "errors": n.errors,
                "message": n.message,
            }
            for n in tl.notes
        ],
        "clips": [
            {
                "kind": c.kind,
                "index": c.index,
                "start_ms": c.start_ms,
                "end_ms": c.end_ms,
                "path": c.path,
                "mode": c.mode,
                "codec": c.codec,
                "note": c.note,
            }
            for c in tl.clips
        ],
    }


def _span(x: LabelRange | ModerationRange | FaceRange | TextRange) -> JsonObject:
    return {
        "start_ms": x.start_ms,
        "end_ms": x.end_ms,
        "max_confidence": x.max_confidence,
        "detections": x.detections,
    }


def status_json(st: VideoStatus) -> JsonObject:
    """`vidx status ID --json`: clips/thumbnails only when they failed."""
    out: JsonObject = {
        "video_id": st.video_id,
        "status": st.status,
        "features": {name: _step(f) for name, f in st.features.items()},
    }
    if st.clips is not None:
        out["clips"] = _step(st.clips)
    if st.thumbnails is not None:
        out["thumbnails"] = _step(st.thumbnails)
    return out


def _step(step: StepState) -> JsonObject:
    return {"status": step.status, "message": step.message}


def summary_json(item: VideoSummary) -> JsonObject:
    """One item of `vidx status --json` without an id, and of the API's video list."""
    return status_json(item.state) | {
        "filename": item.filename,
        "duration_ms": item.duration_ms,
        "created_at": item.created_at.isoformat(),
    }


def thumbnails_json(th: Thumbnails) -> JsonObject:
    """`vidx clips --thumbnails --json`'s thumbnails: files on this machine."""
    sprite = th.sprite
    return {
        "video_id": th.video_id,
        "sprite": None
        if sprite is None
        else {
            "path": sprite.path,
            "index": sprite.index,
            "width": sprite.width,
            "height": sprite.height,
        },
        "shots": [
            {
                "index": s.index,
                "path": s.path,
                "width": s.width,
                "height": s.height,
                "at_ms": s.at_ms,
            }
            for s in th.shots
        ],
    }


def query_row_json(row: QueryRow) -> JsonObject:
    """A search row: its fields in order (`vidx query --format json`, the API's items)."""
    return asdict(row)


# --- reading a document back ---
def timeline_from_json(doc: Mapping[str, Any]) -> Timeline:
    """A `vidx.timeline/1` document as the typed Timeline; KeyError, TypeError or
    ValueError name what is wrong. Fields a writer can do without may be absent (a
    document from before `notes`, `start_timecode` or `audio_channels` existed)."""
    if doc.get("schema") != TIMELINE_SCHEMA:
        raise ValueError(f"schema is {doc.get('schema')!r}, expected {TIMELINE_SCHEMA!r}")
    v = doc["video"]
    video = VideoFacts(
        id=v["id"],
        source=v["source"],
        duration_ms=v["duration_ms"],
        fps=v["fps"],
        frame_count=v.get("frame_count"),
        width=v.get("width"),
        height=v.get("height"),
        start_timecode=v.get("start_timecode"),
        audio_channels=v.get("audio_channels"),
    )
    rng = doc.get("content_range_ms")
    return Timeline(
        video=video,
        features={
            name: FeatureRun(f["status"], f["engine"], f.get("model_version"))
            for name, f in dict(doc.get("features") or {}).items()
        },
        shots=tuple(
            ShotRange(
                s["index"],
                s["start_ms"],
                s["end_ms"],
                s.get("start_frame"),
                s.get("end_frame"),
                s.get("confidence"),
            )
            for s in doc["shots"]
        ),
        technical_cues=tuple(
            CueRange(c["type"], c["start_ms"], c["end_ms"], c.get("confidence"))
            for c in doc["technical_cues"]
        ),
        labels=tuple(
            LabelRange(x["name"], tuple(x.get("parents", ())), **_span_of(x)) for x in doc["labels"]
        ),
        moderation=tuple(
            ModerationRange(x["name"], x.get("parent", ""), **_span_of(x))
            for x in doc["moderation"]
        ),
        faces=tuple(
            FaceRange(**_span_of(x), attributes=dict(x.get("attributes", {}))) for x in doc["faces"]
        ),
        # documents written before the text feature have no "text" list
        text=tuple(
            TextRange(x["name"], **_span_of(x), type=x.get("type", "LINE"))
            for x in doc.get("text", ())
        ),
        content_range_ms=None if rng is None else (rng[0], rng[1]),
        notes=tuple(
            Note(n["type"], n["start_ms"], n["end_ms"], n["errors"], n["message"])
            for n in doc.get("notes", ())
        ),
        clips=tuple(
            TimelineClip(
                c["kind"],
                c["index"],
                c["start_ms"],
                c["end_ms"],
                c["path"],
                c["mode"],
                c["codec"],
                c.get("note"),
            )
            for c in doc.get("clips", ())
        ),
    )


def _span_of(x: Mapping[str, Any]) -> JsonObject:
    return {
        "start_ms": x["start_ms"],
        "end_ms": x["end_ms"],
        "max_confidence": x.get("max_confidence"),
        "detections": x.get("detections"),
    }
