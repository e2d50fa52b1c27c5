"""`vidx import`: recorded Get* pages through the one parser into the store.

Only what can be proved is accepted: one whole response of the feature's Get* operation,
of a SUCCEEDED job, on a video of its duration and frame size. Every refusal is checked at
the service (import_pages) and through the CLI, on SQLite and PostgreSQL, with the
database unchanged after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from models import AnalysisJob, Detection, TimelineRange, Video
from tests.conftest import FIXTURES, RECORDED
from tests.e2e_support import clean_env, one_error_line, vidx
from tests.import_support import whole
from worker.context import AppContext
from worker.engines.port import Feature
from worker.errors import InputError, VidxError
from worker.pipeline.importer import import_pages
from worker.query import timeline
from worker.read_json import timeline_json

pytestmark = pytest.mark.integration

SEGMENTS, MODERATION, FACES, LABELS = (r[0] for r in RECORDED)
KEY = {r[1]: r[2] for r in RECORDED}


def load(rel: str) -> dict[str, Any]:
    page: dict[str, Any] = json.loads((FIXTURES / rel).read_text())
    return page


def write(tmp: Path, name: str, page: dict[str, Any]) -> Path:
    path = tmp / name
    path.write_text(json.dumps(page))
    return path


def split(tmp: Path, rel: str, feature: Feature, n: int, stem: str = "p") -> list[Path]:
    """The recording cut into n pages as Rekognition pages it: NextToken on all but the last."""
    page = load(rel)
    page.pop("NextToken", None)
    items = page[KEY[feature]]
    size = -(-len(items) // n)
    paths = []
    for k in range(n):
        part = {**page, KEY[feature]: items[k * size : (k + 1) * size]}
        if k < n - 1:
            part["NextToken"] = f"token-{k + 1}"
        paths.append(write(tmp, f"{stem}{k + 1}.json", part))
    return paths


def counts(ctx: AppContext) -> tuple[int, ...]:
    with ctx.db.session() as s:
        return tuple(
            int(s.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Video, AnalysisJob, Detection, TimelineRange)
        )


def labels_meta() -> dict[str, Any]:
    meta: dict[str, Any] = load(LABELS)["VideoMetadata"]
    return meta


# --- accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(("rel", "feature", "key"), RECORDED)
def test_import_every_item_idempotently(
    ctx: AppContext, tmp_path: Path, rel: str, feature: Feature, key: str
) -> None:
    path = whole(rel, tmp_path)  # the labels recording is page 1 of a set: as if the last
    items = len(json.loads(path.read_text())[key])
    first = import_pages(ctx, feature, [path])
    assert first.items == items == counts(ctx)[2]
    again = import_pages(ctx, feature, [path])
    assert again.video_id == first.video_id and counts(ctx)[2] == items
    with ctx.db.session() as s:
        video = s.get_one(Video, first.video_id)
        doc = timeline_json(timeline(s, first.video_id))
        timestamps = s.scalars(select(Detection.start_ms).order_by(Detection.item_index)).all()
    page = json.loads(path.read_text())
    meta = page["VideoMetadata"]
    meta = meta[0] if isinstance(meta, list) else meta
    assert video.duration_ms == meta["DurationMillis"] and video.sha256 is None
    assert doc["features"][feature.value]["status"] == "SUCCEEDED"
    expected = [i.get("StartTimestampMillis", i.get("Timestamp")) for i in page[key]]
    assert list(timestamps) == expected


def test_moderation_timeline_ranges(ctx: AppContext) -> None:
    done = import_pages(ctx, Feature.MODERATION, [FIXTURES / MODERATION])
    with ctx.db.session() as s:
        doc = timeline_json(timeline(s, done.video_id))
    assert doc["moderation"], "moderation ranges expected"
    assert sum(r["detections"] for r in doc["moderation"]) == done.items
    assert all(r["start_ms"] < r["end_ms"] for r in doc["moderation"])


def test_import_onto_an_existing_video(ctx: AppContext) -> None:
    """The segments and moderation recordings are of one video (same VideoMetadata)."""
    seg = import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS])
    mod = import_pages(ctx, Feature.MODERATION, [FIXTURES / MODERATION], seg.video_id)
    assert mod.video_id == seg.video_id
    with ctx.db.session() as s:
        doc = timeline_json(timeline(s, seg.video_id))
    assert set(doc["features"]) == {"segments", "moderation"}


def test_pages_in_order_give_every_item_once(ctx: AppContext, tmp_path: Path) -> None:
    pages = split(tmp_path, SEGMENTS, Feature.SEGMENTS, 3)
    done = import_pages(ctx, Feature.SEGMENTS, pages)
    with ctx.db.session() as s:
        doc = timeline_json(timeline(s, done.video_id))
    shots = [s for s in load(SEGMENTS)["Segments"] if s["Type"] == "SHOT"]
    assert done.items == len(shots) == len(doc["shots"]) == 116
    assert [r["start_ms"] for r in doc["shots"]] == [s["StartTimestampMillis"] for s in shots]
    mod = split(tmp_path, MODERATION, Feature.MODERATION, 4, stem="m")
    assert import_pages(ctx, Feature.MODERATION, mod, done.video_id).items == 97


def test_empty_page_of_the_right_shape(ctx: AppContext, tmp_path: Path) -> None:
    page = {"JobStatus": "SUCCEEDED", "VideoMetadata": labels_meta(), "Faces": []}
    done = import_pages(ctx, Feature.FACES, [write(tmp_path, "none.json", page)])
    with ctx.db.session() as s:
        doc = timeline_json(timeline(s, done.video_id))
    assert done.items == 0 and doc["faces"] == []
    assert doc["features"]["faces"]["status"] == "SUCCEEDED"


def _same_job_pages(tmp: Path, **source: Any) -> tuple[Path, Path]:
    """The labels recording and a faces page made of the same video (same VideoMetadata
    and `source` keys: Video / JobTag), as two features of one S3 object."""
    labels = load(LABELS)
    labels.pop("NextToken")
    labels.pop("Video")
    labels.update(source)
    faces = load(FACES)
    faces.pop("ResponseMetadata")
    faces.update(VideoMetadata=labels_meta(), JobId="f" * 64, **source)
    return write(tmp, "labels.json", labels), write(tmp, "faces.json", faces)


def test_features_of_one_s3_object_land_on_one_video(ctx: AppContext, tmp_path: Path) -> None:
    obj = {"Video": {"S3Object": {"Bucket": "video-recog", "Name": "clips/kfir_tennis_fat.mp4"}}}
    labels, faces = _same_job_pages(tmp_path, **obj)
    a = import_pages(ctx, Feature.LABELS, [labels])
    b = import_pages(ctx, Feature.FACES, [faces])
    assert a.video_id == b.video_id
    with ctx.db.session() as s:
        doc = timeline_json(timeline(s, a.video_id))
        video = s.get_one(Video, a.video_id)
        assert video.filename == "kfir_tennis_fat.mp4"  # the object's, not the page file's
        assert video.source == "s3://video-recog/clips/kfir_tennis_fat.mp4"
    assert set(doc["features"]) == {"labels", "faces"} and doc["labels"] and doc["faces"]
    assert counts(ctx)[:2] == (1, 2)
    other = load(LABELS)  # another object: another video
    other.pop("NextToken")
    other["Video"] = {"S3Object": {"Bucket": "video-recog", "Name": "other.mp4"}}
    c = import_pages(ctx, Feature.LABELS, [write(tmp_path, "other.json", other)])
    assert c.video_id != a.video_id


def test_features_of_one_job_tag_land_on_one_video(ctx: AppContext, tmp_path: Path) -> None:
    labels, faces = _same_job_pages(tmp_path, JobTag="match-2024-07")
    a = import_pages(ctx, Feature.LABELS, [labels], name="final.mp4")
    b = import_pages(ctx, Feature.FACES, [faces])
    assert a.video_id == b.video_id
    with ctx.db.session() as s:
        assert s.get_one(Video, a.video_id).filename == "final.mp4"
        assert set(timeline_json(timeline(s, a.video_id))["features"]) == {"labels", "faces"}


def test_job_tagged_with_a_video_id_lands_on_that_video(ctx: AppContext, tmp_path: Path) -> None:
    """vidx's Rekognition engine tags each job with the video id."""
    seg = import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS])
    page = load(MODERATION)
    page["JobTag"] = seg.video_id
    mod = import_pages(ctx, Feature.MODERATION, [write(tmp_path, "tagged.json", page)])
    assert mod.video_id == seg.video_id and counts(ctx)[:2] == (1, 2)


def test_video_within_a_frame_is_accepted(ctx: AppContext, tmp_path: Path) -> None:
    seg = import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS])  # 260040 ms at 25 fps
    page = load(MODERATION)
    page["VideoMetadata"]["DurationMillis"] += 40
    done = import_pages(ctx, Feature.MODERATION, [write(tmp_path, "m.json", page)], seg.video_id)
    assert done.video_id == seg.video_id


# --- refused ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    feature: Feature
    paths: list[Path]
    file: str  # the file the one line names
    problem: str  # words of the problem
    video: str | None = None
    name: str | None = None


def _another_api(tmp: Path, ctx: AppContext) -> Refusal:
    return Refusal(Feature.LABELS, [FIXTURES / FACES], FACES, "is a GetFaceDetection page")


def _another_api_empty(tmp: Path, ctx: AppContext) -> Refusal:
    page = {"JobStatus": "SUCCEEDED", "VideoMetadata": labels_meta(), "Faces": []}
    path = write(tmp, "faces0.json", page)
    return Refusal(Feature.LABELS, [path], path.name, "GetFaceDetection page, not GetLabel")


def _segments_as_moderation(tmp: Path, ctx: AppContext) -> Refusal:
    return Refusal(
        Feature.MODERATION, [FIXTURES / SEGMENTS], SEGMENTS, "is a GetSegmentDetection page"
    )


def _no_item_list(tmp: Path, ctx: AppContext) -> Refusal:
    path = write(tmp, "bare.json", {"JobStatus": "SUCCEEDED", "VideoMetadata": labels_meta()})
    return Refusal(Feature.LABELS, [path], path.name, "not a GetLabelDetection page")


def _no_selected_types(tmp: Path, ctx: AppContext) -> Refusal:
    page = load(SEGMENTS)
    del page["SelectedSegmentTypes"]
    path = write(tmp, "seg.json", page)
    return Refusal(Feature.SEGMENTS, [path], path.name, "no SelectedSegmentTypes")


def _mixed_keys(tmp: Path, ctx: AppContext) -> Refusal:
    page = load(LABELS)
    page.pop("NextToken")
    page["Faces"] = []
    path = write(tmp, "mixed.json", page)
    return Refusal(Feature.LABELS, [path], path.name, "has Faces, which a GetLabelDetection")


def _pages_missing(tmp: Path, ctx: AppContext) -> Refusal:
    return Refusal(Feature.LABELS, [FIXTURES / LABELS], LABELS, "has a NextToken")


def _middle_page_is_last(tmp: Path, ctx: AppContext) -> Refusal:
    p1, p2, p3 = split(tmp, SEGMENTS, Feature.SEGMENTS, 3)
    return Refusal(Feature.SEGMENTS, [p3, p1, p2], p3.name, "has no NextToken")


def _out_of_order(tmp: Path, ctx: AppContext) -> Refusal:
    p1, p2, p3 = split(tmp, SEGMENTS, Feature.SEGMENTS, 3)
    return Refusal(Feature.SEGMENTS, [p2, p1, p3], p1.name, "out of order")


def _out_of_order_by_time(tmp: Path, ctx: AppContext) -> Refusal:
    p1, p2, p3, p4 = split(tmp, MODERATION, Feature.MODERATION, 4)
    # NextTokens tell nothing about order in a file; the timestamps do
    return Refusal(Feature.MODERATION, [p1, p3, p2, p4], p2.name, "out of order")


def _page_twice(tmp: Path, ctx: AppContext) -> Refusal:
    p1, p2, p3 = split(tmp, SEGMENTS, Feature.SEGMENTS, 3)
    return Refusal(Feature.SEGMENTS, [p1, p1, p2, p3], p1.name, "given twice")


def _token_twice(tmp: Path, ctx: AppContext) -> Refusal:
    p1, p2, p3 = split(tmp, MODERATION, Feature.MODERATION, 3)
    page = json.loads(p2.read_text())
    page["NextToken"] = "token-1"
    write(tmp, p2.name, page)
    return Refusal(Feature.MODERATION, [p1, p2, p3], p2.name, "the same NextToken as p1")


def _another_job(tmp: Path, ctx: AppContext) -> Refusal:
    p1, p2 = split(tmp, MODERATION, Feature.MODERATION, 2)
    page = json.loads(p2.read_text())
    page["VideoMetadata"]["DurationMillis"] = 1000
    write(tmp, p2.name, page)
    return Refusal(Feature.MODERATION, [p1, p2], p2.name, "VideoMetadata differs")


def _status(status: str, message: str | None) -> Callable[[Path, AppContext], Refusal]:
    def build(tmp: Path, ctx: AppContext) -> Refusal:
        page = {"JobStatus": status, "VideoMetadata": labels_meta(), "Labels": []}
        if message:
            page["StatusMessage"] = message
        path = write(tmp, f"{status}.json", page)
        return Refusal(Feature.LABELS, [path], path.name, f"the recorded job is {status}")

    return build


def _no_job_status(tmp: Path, ctx: AppContext) -> Refusal:
    path = write(tmp, "nostatus.json", {"VideoMetadata": labels_meta(), "Labels": []})
    return Refusal(Feature.LABELS, [path], path.name, "no JobStatus")


def _video_duration(tmp: Path, ctx: AppContext) -> Refusal:
    seg = import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS])  # 260040 ms 640x360
    page = load(MODERATION)
    page["VideoMetadata"]["DurationMillis"] += 41  # more than a frame (40 ms) off
    path = write(tmp, "longer.json", page)
    return Refusal(Feature.MODERATION, [path], path.name, "260081 ms 640x360", seg.video_id)


def _video_size(tmp: Path, ctx: AppContext) -> Refusal:
    seg = import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS])
    page = load(MODERATION)
    page["VideoMetadata"]["FrameWidth"] = 1280
    page["VideoMetadata"]["FrameHeight"] = 720
    path = write(tmp, "bigger.json", page)
    return Refusal(Feature.MODERATION, [path], path.name, "is 260040 ms 640x360", seg.video_id)


def _other_video(tmp: Path, ctx: AppContext) -> Refusal:
    seg = import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS])
    return Refusal(Feature.FACES, [FIXTURES / FACES], FACES, "13246 ms 320x568", seg.video_id)


def _same_object_other_video(tmp: Path, ctx: AppContext) -> Refusal:
    """The S3 object names a video already imported, of another duration."""
    labels = whole(LABELS, tmp)
    import_pages(ctx, Feature.LABELS, [labels])
    faces = load(FACES)
    faces.update(Video=load(LABELS)["Video"])
    path = write(tmp, "faces.json", faces)
    return Refusal(Feature.FACES, [path], path.name, "13246 ms 320x568")


def _bad_name(tmp: Path, ctx: AppContext) -> Refusal:
    return Refusal(
        Feature.SEGMENTS, [FIXTURES / SEGMENTS], "--name", "not a file name", name="a/b.mp4"
    )


REFUSALS = {
    "another-api": _another_api,
    "another-api-empty": _another_api_empty,
    "segments-as-moderation": _segments_as_moderation,
    "no-item-list": _no_item_list,
    "no-selected-types": _no_selected_types,
    "mixed-keys": _mixed_keys,
    "pages-missing": _pages_missing,
    "middle-page-is-last": _middle_page_is_last,
    "out-of-order": _out_of_order,
    "out-of-order-by-time": _out_of_order_by_time,
    "page-twice": _page_twice,
    "token-twice": _token_twice,
    "another-job": _another_job,
    "failed": _status("FAILED", "Unsupported codec/format."),
    "in-progress": _status("IN_PROGRESS", None),
    "no-job-status": _no_job_status,
    "video-duration": _video_duration,
    "video-size": _video_size,
    "other-video": _other_video,
    "same-object-other-video": _same_object_other_video,
    "bad-name": _bad_name,
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_by_the_service(ctx: AppContext, tmp_path: Path, case: str) -> None:
    r = REFUSALS[case](tmp_path, ctx)
    before = counts(ctx)
    with pytest.raises(InputError) as caught:
        import_pages(ctx, r.feature, r.paths, r.video, r.name)
    assert caught.value.source.endswith(r.file)
    assert r.problem in caught.value.problem
    assert counts(ctx) == before


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_by_the_cli(sqlite_ctx: AppContext, tmp_path: Path, case: str) -> None:
    # the service test above covers both databases; this one the CLI's answer (one process
    # per case, so on one database only)
    ctx = sqlite_ctx
    r = REFUSALS[case](tmp_path, ctx)
    before = counts(ctx)
    env = clean_env(
        data_dir=str(ctx.settings.data_dir), database_url=ctx.settings.effective_database_url
    )
    args = ["import", "--feature", r.feature.value, *map(str, r.paths)]
    args += ["--video", r.video] if r.video else []
    args += ["--name", r.name] if r.name else []
    line = one_error_line(vidx(args, env), r.file, r.problem)
    assert line.startswith("vidx: error: ")
    assert counts(ctx) == before


def test_unknown_video_and_bad_page(ctx: AppContext, tmp_path: Path) -> None:
    with pytest.raises(VidxError, match="no video with id 'nope'"):
        import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS], "nope")
    page = {"JobStatus": "SUCCEEDED", "SelectedSegmentTypes": [], "Segments": [{"Type": "SHOT"}]}
    bad = write(tmp_path, "bad.json", page)
    with pytest.raises(InputError, match=r"bad\.json"):
        import_pages(ctx, Feature.SEGMENTS, [FIXTURES / SEGMENTS, bad])
    assert counts(ctx) == (0, 0, 0, 0)


def test_cli_import_prints_the_video_id(tmp_path: Path) -> None:
    env = clean_env(data_dir=str(tmp_path))
    cmd = ["import", "--feature", "labels"]
    res = vidx([*cmd, str(whole(LABELS, tmp_path)), "--json"], env)
    assert res.returncode == 0, res.stderr
    vid = json.loads(res.stdout)["video_id"]
    res = vidx(["query", "--video", vid, "--kind", "label", "--format", "json"], env)
    assert res.returncode == 0 and json.loads(res.stdout)[0]["name"] == "Boy"
    one_error_line(vidx([*cmd, str(tmp_path / "missing.json")], env), "missing.json: no such file")
