"""worker.export's entry point: formats, JSON and CSV output, malformed documents, atomic files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.export_support import RATES, contiguous, make_doc, render
from worker.cli.output import dumps
from worker.errors import VidxError
from worker.export import FORMATS, ExportError, check, write_atomic


def small() -> dict:
    return make_doc(
        RATES["25"],
        contiguous([75, 50]),
        cues=[("ColorBars", 0, 3000, 98.0)],
        labels=[("Dog", 40, 3000, 97.1)],
        moderation=[("Violence", 3000, 4000, 88.0)],
        faces=[(0, 40, 99.5)],
    )


def test_formats_name_a_media_type_and_an_extension() -> None:
    assert list(FORMATS) == ["json", "csv", "vtt", "edl", "otio"]
    media_type, ext = FORMATS["vtt"]
    assert (media_type, ext) == ("text/vtt", "vtt")
    assert FORMATS["otio"].extension == "otio"
    for fmt in FORMATS:
        assert render(small(), fmt).endswith("\n")


def test_unknown_format_lists_the_formats() -> None:
    with pytest.raises(ExportError, match=r"'xml' \(formats: json, csv, vtt, edl, otio\)"):
        render(small(), "xml")
    with pytest.raises(ExportError):
        check("VTT")
    assert issubclass(ExportError, VidxError)  # the CLI prints it as one line and exits 1


def test_json_is_the_document_as_the_cli_prints_it() -> None:
    doc = small()
    text = render(doc, "json")
    assert text == dumps(doc) + "\n" and json.loads(text) == doc


def test_csv_unchanged_by_the_move() -> None:
    # the output of cli_output.timeline_csv before it moved into worker.export
    assert render(small(), "csv") == (
        "kind,name,index,start_ms,end_ms,confidence\n"
        "cue,ColorBars,,0,3000,98.0\n"
        "face,Face,,0,40,99.5\n"
        "shot,Shot,0,0,3000,90.0\n"
        "label,Dog,,40,3000,97.1\n"
        "moderation,Violence,,3000,4000,88.0\n"
        "shot,Shot,1,3000,5000,91.0\n"
    )


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: d.update(schema="vidx.timeline/2"), "schema is 'vidx.timeline/2'"),
        (lambda d: d["video"].pop("fps"), "missing field 'fps'"),
        (lambda d: d["video"].update(fps="25/0"), "zero denominator"),
        (lambda d: d["shots"][0].update(end_ms=0), "shot 0 ends at 0 ms"),
        (lambda d: d["labels"][0].update(end_ms=10), "label 'Dog' has the range"),
        (lambda d: d.pop("faces"), "missing field 'faces'"),
    ],
)
@pytest.mark.parametrize("fmt", ["vtt", "edl", "otio"])
def test_malformed_documents_are_refused_by_name(breakage, message: str, fmt: str) -> None:
    doc = small()
    breakage(doc)
    with pytest.raises(ExportError, match=f"timeline document is malformed: .*{message}"):
        render(doc, fmt)


def test_write_atomic_replaces_the_file(tmp_path: Path) -> None:
    out = tmp_path / "t.vtt"
    out.write_text("old")
    write_atomic(out, "new ✓\n")
    assert out.read_text(encoding="utf-8") == "new ✓\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.vtt"]


def test_write_atomic_failure_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "t.edl"
    out.write_text("old")
    with pytest.raises(VidxError, match=r"t\.edl: cannot write"):
        write_atomic(out, "half\udcff")  # a lone surrogate cannot be encoded: fails mid-write
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.edl"]


def test_write_atomic_refuses_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(VidxError, match="no such directory"):
        write_atomic(tmp_path / "missing" / "t.otio", "x")
    with pytest.raises(VidxError, match="is a directory"):
        write_atomic(tmp_path, "x")
