"""Timeline exports: the `vidx.timeline/1` document as JSON, CSV, WebVTT, CMX3600 EDL
or OpenTimelineIO. One entry point, `render(timeline, fmt)`, for the CLI and the HTTP API;
`read_timeline` reads a document (a saved file) into the Timeline it takes.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from worker.export.csv_doc import write_csv
from worker.export.edl import write_edl
from worker.export.files import write_atomic
from worker.export.json_doc import write_json
from worker.export.model import ExportError, read_timeline
from worker.export.vtt import VTT_KINDS, write_vtt
from worker.read_model import Timeline


class Format(NamedTuple):
    media_type: str
    extension: str  # without the dot


# name -> (media type, file extension)
FORMATS: dict[str, Format] = {
    "json": Format("application/json", "json"),
    "csv": Format("text/csv", "csv"),
    "vtt": Format("text/vtt", "vtt"),
    "edl": Format("text/plain", "edl"),  # CMX3600 has no registered media type
    "otio": Format("application/json", "otio"),
}


def check(fmt: str, vtt_kinds: Collection[str] | None = None) -> None:
    """ExportError unless `fmt` (and `vtt_kinds`) can be rendered; cheap, check first."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown timeline format {fmt!r} (formats: {', '.join(FORMATS)})")
    if vtt_kinds is None:
        return
    if fmt != "vtt":
        raise ExportError(f"cue kinds apply to the vtt format only, not {fmt!r}")
    unknown = sorted(set(vtt_kinds) - set(VTT_KINDS))
    if unknown or not vtt_kinds:
        raise ExportError(
            f"unknown WebVTT cue kind(s) {', '.join(unknown) or '(none given)'} "
            f"(kinds: {', '.join(VTT_KINDS)})"
        )


def render(tl: Timeline, fmt: str, *, vtt_kinds: Collection[str] | None = None) -> str:
    """The timeline in format `fmt` (a key of FORMATS); ExportError otherwise.

    `vtt_kinds` limits a WebVTT export to some cue kinds (shot, cue, label, moderation, face, text).
    """
    check(fmt, vtt_kinds)
    if fmt == "json":
        return write_json(tl)
    if fmt == "csv":
        return write_csv(tl)
    if fmt == "vtt":
        return write_vtt(tl, vtt_kinds)
    if fmt == "edl":
        return write_edl(tl)
    # imported on use: opentimelineio loads a C++ extension and its plugins
    from worker.export.otio_doc import write_otio

    return write_otio(tl)


__all__ = [
    "FORMATS",
    "VTT_KINDS",
    "ExportError",
    "Format",
    "check",
    "read_timeline",
    "render",
    "write_atomic",
]
