"""The Rekognition flow end to end, in-process: submit -> stage to S3 -> Start* (fake) ->
SNS -> SQS -> poller -> collect (Get* + NextToken) -> store -> timeline.

moto serves S3, SNS, SQS and IAM under `mock_aws`; worker/testing adds Rekognition's
video operations; Celery runs eagerly. Every case ends with exact row counts and job
states. The AWS clients make one attempt per call (tests/fake_aws.py), so injected
faults reach the pipeline instead of being absorbed by botocore's retries.

Celery's eager retries: `self.retry()` in an eagerly applied task raises `Retry`, and
with task_eager_propagates (our eager config) Celery's tracer re-raises it to the caller
of `.delay()` instead of applying the retry (celery 5.7, celery/app/trace.py on_error).
The tasks therefore retry transient errors in-process when eager (worker.tasks
.with_retries), after the same jittered backoff, scaled down here by retry_backoff_s.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models import AnalysisJob, Detection, JobState, Video
from tests.conftest import FIXTURES, MEDIA
from tests.fake_aws import Flow, aws_flow
from tests.text_support import frame_items
from worker.engines.port import Feature
from worker.query import QueryFilter, run_query, timeline, video_status
from worker.read_json import status_json, timeline_json

pytestmark = pytest.mark.integration

SMALL = MEDIA / "synthetic" / "no_audio.mp4"

# recorded Get* pages: (feature, file, the list the page holds)
RECORDED = {
    Feature.SEGMENTS: ("netflix_93f8/GetSegmentDetection.page1.json", "Segments"),
    Feature.MODERATION: ("netflix_93f8/GetContentModeration.page1.json", "ModerationLabels"),
    Feature.FACES: ("hawkey999_face/GetFaceDetection.page1.json", "Faces"),
    Feature.LABELS: ("labelpy_kfir/GetLabelDetection.page1.json", "Labels"),
}


def recorded(feature: Feature) -> dict[str, Any]:
    rel, _ = RECORDED[feature]
    page: dict[str, Any] = json.loads((FIXTURES / rel).read_text())
    return page


def recorded_items(feature: Feature) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = recorded(feature)[RECORDED[feature][1]]
    return items


def item_time_and_confidence(feature: Feature, item: dict[str, Any]) -> tuple[int, float]:
    """What the store must keep of a recorded item: its start and its confidence."""
    match feature:
        case Feature.SEGMENTS:
            info = item.get("ShotSegment") or item["TechnicalCueSegment"]
            return item["StartTimestampMillis"], info["Confidence"]
        case Feature.LABELS:
            return item.get("StartTimestampMillis", item["Timestamp"]), item["Label"]["Confidence"]
        case Feature.MODERATION:
            start = item.get("StartTimestampMillis", item["Timestamp"])
            return start, item["ModerationLabel"]["Confidence"]
        case Feature.FACES:
            return item["Timestamp"], item["Face"]["Confidence"]


def many_labels(n: int) -> dict[str, Any]:
    """The recorded labels page with n items, synthesised in the recorded item's shape."""
    page = recorded(Feature.LABELS)
    [template] = page["Labels"]
    labels = []
    for i in range(n):
        item = copy.deepcopy(template)
        item["Timestamp"] = 40 * i
        item["Label"]["Name"] = f"Thing{i % 7}"
        item["Label"]["Confidence"] = 50.0 + (i % 4999) / 100.0
        labels.append(item)
    return {**page, "Labels": labels}


def stored(flow: Flow, job_id: int) -> list[tuple[int, float | None]]:
    with flow.ctx.db.session() as s:
        rows = s.execute(
            select(Detection.start_ms, Detection.confidence)
            .where(Detection.job_id == job_id)
            .order_by(Detection.page_index, Detection.item_index)
        ).all()
    return [(int(start), conf) for start, conf in rows]


@pytest.fixture
def flow(
    aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str
) -> Iterator[Flow]:
    """The flow on SQLite and on PostgreSQL."""
    if not SMALL.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    with aws_flow(monkeypatch, tmp_path / "data", db_url) as f:
        yield f


@pytest.fixture
def sqlite_flow(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Flow]:
    if not SMALL.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    with aws_flow(monkeypatch, tmp_path / "data", f"sqlite:///{tmp_path / 'vidx.db'}") as f:
        yield f


@pytest.fixture(scope="session")
def tiny_videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """54 distinct small videos: one 1 s lavfi clip, remuxed with a different comment each
    (same pictures, different bytes: 54 content hashes, 54 videos)."""
    folder = tmp_path_factory.mktemp("tiny")
    base = folder / "base.mp4"
    quiet = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run(
        [*quiet, "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(base)],
        check=True,
    )  # fmt: skip
    out = []
    for n in range(54):
        path = folder / f"tiny_{n:02d}.mp4"
        subprocess.run(
            [*quiet, "-i", str(base), "-c", "copy", "-metadata", f"comment=vidx-{n}", str(path)],
            check=True,
        )
        out.append(path)
    return out


# --- 1. every recorded output through the whole path ---------------------------------


def test_recorded_outputs_replayed_through_the_whole_path(flow: Flow) -> None:
    """start -> SNS -> SQS -> poller -> collect -> timeline, for each recorded Get* output."""
    flow.fake.configure(auto_complete=False)  # complete only when told: the poller collects
    for feature in RECORDED:
        flow.plant(feature, SMALL, recorded(feature))
    done = flow.submit(SMALL, list(RECORDED))
    assert flow.states() == ["IN_PROGRESS"] * 4
    assert flow.poll().received == 0  # nothing finished yet

    assert len(flow.finish_running()) == 4
    stats = flow.poll()
    assert (stats.received, stats.handled, stats.failed, stats.dead_lettered) == (4, 4, 0, 0)

    jobs = {Feature(j.feature): j for j in flow.jobs(done.video_id)}
    for feature, job in jobs.items():
        items = recorded_items(feature)
        assert job.state == JobState.SUCCEEDED, (feature, job.message)
        assert (job.items_collected, job.pages_collected) == (len(items), 1)
        assert flow.rows(job.id) == len(items)
        assert stored(flow, job.id) == [item_time_and_confidence(feature, i) for i in items]
    assert flow.rows() == sum(len(recorded_items(f)) for f in RECORDED)  # 116+97+23+1
    assert jobs[Feature.LABELS].model_version == "3.0"

    with flow.ctx.db.session() as s:
        doc = timeline_json(timeline(s, done.video_id))
        status = status_json(video_status(s, done.video_id))
        video = s.get_one(Video, done.video_id)
    assert status["status"] == "INDEXED"
    assert {f: v["status"] for f, v in doc["features"].items()} == {
        f.value: "SUCCEEDED" for f in RECORDED
    }
    assert len(doc["shots"]) == 116
    assert sum(r["detections"] for r in doc["moderation"]) == 97
    assert sum(r["detections"] for r in doc["faces"]) == 23
    assert [(r["name"], r["detections"]) for r in doc["labels"]] == [("Boy", 1)]
    # the video read at Rekognition is the one uploaded: key by content hash
    assert (video.s3_bucket, video.s3_key) == (flow.prov.bucket, flow.key_for(SMALL))
    started = [j["Params"]["Video"]["S3Object"] for j in flow.fake.record()["jobs"]]
    assert started == [{"Bucket": flow.prov.bucket, "Name": video.s3_key}] * 4
    # a second poll finds nothing; collecting changed nothing more
    assert flow.poll().received == 0 and flow.rows() == 237


def test_multi_page_results_cross_next_token(sqlite_flow: Flow, tiny_videos: list[Path]) -> None:
    """2,500 labels in the recorded item shape: three Get* pages of at most 1000 items."""
    flow, video = sqlite_flow, tiny_videos[0]
    flow.fake.configure(auto_complete=False)
    whole = many_labels(2500)
    # planted as recorded pages: the recorded first page (with its NextToken) + the rest
    first = {**whole, "Labels": whole["Labels"][:1]}
    flow.plant(Feature.LABELS, video, [first, {"Labels": whole["Labels"][1:]}])
    done = flow.submit(video)
    flow.finish_running()
    before = flow.fake.record()["calls"]["GetLabelDetection"]
    assert flow.poll().handled == 1

    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.SUCCEEDED
    assert (job.pages_collected, job.items_collected) == (3, 2500)
    assert flow.fake.record()["calls"]["GetLabelDetection"] - before == 3
    expected = [item_time_and_confidence(Feature.LABELS, i) for i in whole["Labels"]]
    assert stored(flow, job.id) == expected
    with flow.ctx.db.session() as s:
        pages = s.execute(
            select(Detection.page_index, Detection.item_index)
            .where(Detection.job_id == job.id)
            .order_by(Detection.page_index, Detection.item_index)
        ).all()
        doc = timeline_json(timeline(s, done.video_id))
    assert [tuple(p) for p in pages] == [(i // 1000, i % 1000) for i in range(2500)]
    assert sum(r["detections"] for r in doc["labels"]) == 2500
    assert {r["name"] for r in doc["labels"]} == {f"Thing{i}" for i in range(7)}


def test_multi_page_text_results(sqlite_flow: Flow, tiny_videos: list[Path]) -> None:
    """GetTextDetection through the aws path: 1,400 items (a credits roll: two lines and
    their words each half second for 100 s) in two pages, then found by their words. The
    page boundary falls between a line and its word: the word is no line of its own."""
    flow, video = sqlite_flow, tiny_videos[1]
    flow.fake.configure(auto_complete=False)
    items = [
        item
        for n in range(200)
        for item in frame_items(n * 500, [f"Camera Operator {n // 20}", "Key Grip"])
    ]
    assert len(items) == 1400
    flow.plant(Feature.TEXT, video, {"TextDetections": items, "TextModelVersion": "3.0"})
    done = flow.submit(video, [Feature.TEXT])
    flow.finish_running()
    assert flow.poll().handled == 1
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.SUCCEEDED, job.message
    assert (job.pages_collected, job.items_collected) == (2, 1400)
    assert job.model_version == "3.0"
    with flow.ctx.db.session() as s:
        doc = timeline_json(timeline(s, done.video_id))
        grips = run_query(s, QueryFilter(video_id=done.video_id, kind="text", name="key grip"))
        fives = run_query(s, QueryFilter(kind="text", name="operator 5"))
    assert [(r.start_ms, r.end_ms, r.detections) for r in grips] == [(0, 99540, 200)]
    assert [(r.name, r.start_ms, r.detections) for r in fives] == [("Camera Operator 5", 50000, 20)]
    assert len(doc["text"]) == 11 and sum(r["detections"] for r in doc["text"]) == 400
    started = flow.fake.record()["jobs"][-1]["Params"]
    assert started["Filters"] == {"WordFilter": {"MinConfidence": 80.0}}


# --- 2. fifty videos, twenty slots ----------------------------------------------------


def test_fifty_videos_never_more_than_twenty_jobs_in_flight(
    sqlite_flow: Flow, tiny_videos: list[Path]
) -> None:
    flow, videos = sqlite_flow, tiny_videos[:50]
    # no quota at the fake: only the pipeline's own slots keep the count at 20
    flow.fake.configure(auto_complete=False, job_limit=None)
    page = many_labels(3)
    for video in videos:
        flow.plant(Feature.LABELS, video, page)
    ids = [flow.submit(video).video_id for video in videos]
    assert len(set(ids)) == 50

    states = flow.states()
    assert states.count("IN_PROGRESS") == 20 and states.count("PENDING") == 30
    assert flow.fake.in_flight == 20
    waiting = [j for j in flow.jobs() if j.state == JobState.PENDING]
    assert {j.message for j in waiting} == {"waiting for a free job slot"}
    assert all(j.engine_job_id is None for j in waiting)

    waves = 0
    while flow.fake.in_flight:  # the service finishes what runs; completions drain the backlog
        waves += 1
        assert len(flow.finish_running()) <= 20
        stats = flow.poll()
        assert stats.failed == 0 and stats.dead_lettered == 0
        assert flow.fake.in_flight <= 20
    assert waves == 3  # 20 + 20 + 10

    record = flow.fake.record()
    assert record["max_in_flight"] == 20
    assert record["calls"]["StartLabelDetection"] == 50 and record["errors"] == {}
    assert len(record["jobs"]) == 50
    assert flow.states() == ["SUCCEEDED"] * 50
    assert flow.rows() == 150
    assert flow.ctx.slots("aws").in_use() == 0  # type: ignore[union-attr]
    with flow.ctx.db.session() as s:
        assert {status_json(video_status(s, i))["status"] for i in ids} == {"INDEXED"}


# --- 3. notifications and faults ------------------------------------------------------


def test_notification_delivered_three_times_is_collected_once(flow: Flow) -> None:
    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.MODERATION, SMALL, recorded(Feature.MODERATION))
    done = flow.submit(SMALL, [Feature.MODERATION])
    flow.fake.notification_fault(flow.fake.jobs[0].job_id, duplicate=2)
    flow.finish_running()
    assert flow.queued() == {"visible": 3, "hidden": 0}

    stats = flow.poll()
    assert (stats.received, stats.handled, stats.failed) == (3, 3, 0)  # all three deleted
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.SUCCEEDED and flow.rows() == 97
    # one state check at start + one page: the duplicates never reached Get*
    assert flow.fake.record()["calls"]["GetContentModeration"] == 2

    flow.fake.renotify(job.engine_job_id or "")  # a late one, long after
    assert flow.poll().handled == 1
    assert flow.fake.record()["calls"]["GetContentModeration"] == 2
    assert flow.rows() == 97 and flow.states() == ["SUCCEEDED"]
    assert flow.queued() == {"visible": 0, "hidden": 0}


def test_lost_notifications_are_found_by_the_reconciler(flow: Flow) -> None:
    """Two jobs whose notifications never come: one succeeded, one failed."""
    import time

    from worker.tasks import reconcile

    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.FACES, SMALL, recorded(Feature.FACES))
    done = flow.submit(SMALL, [Feature.FACES, Feature.LABELS])
    faces, labels = (
        next(j.job_id for j in flow.fake.jobs if j.op.feature is f)
        for f in (Feature.FACES, Feature.LABELS)
    )
    for job_id in (faces, labels):
        flow.fake.notification_fault(job_id, drop=True)
    flow.fake.finish(faces)
    flow.fake.finish(labels, "FAILED", "Video is corrupted")
    assert flow.poll().received == 0
    assert flow.states() == ["IN_PROGRESS"] * 2 and flow.rows() == 0

    quiet = {
        "to_collect": 0,
        "failed": 0,
        "still_running": 0,
        "requeued": 0,
        "skipped": 0,
        "slots_freed": 0,
    }
    assert reconcile.delay().get() == quiet  # too early: both were looked at < 1 s ago
    time.sleep(flow.ctx.settings.reconcile_after_s + 0.1)
    assert reconcile.delay().get() == quiet | {"to_collect": 1, "failed": 1}

    jobs = {j.feature: j for j in flow.jobs(done.video_id)}
    assert jobs["faces"].state == JobState.SUCCEEDED and flow.rows(jobs["faces"].id) == 23
    assert (jobs["labels"].state, jobs["labels"].message) == (
        JobState.FAILED,
        "Video is corrupted",
    )
    assert flow.rows() == 23
    assert [n["Delivery"] for n in flow.fake.record()["notifications"]] == ["dropped"] * 2
    assert flow.ctx.slots("aws").in_use() == 0  # type: ignore[union-attr]
    assert reconcile.delay().get() == quiet  # nothing in flight any more


def test_notification_before_start_returned(sqlite_flow: Flow) -> None:
    """The poller sees the completion while the starter still waits for Start*'s answer."""
    flow = sqlite_flow
    flow.plant(Feature.LABELS, SMALL, recorded(Feature.LABELS))
    flow.fake.notification_fault(early=True)
    seen: list[tuple[int, list[str]]] = []
    receipts: list[str] = []

    def poll_during_start(**_: Any) -> None:  # Start* answered; the caller has not seen it
        seen.append((flow.poll().failed, flow.states()))

    def keep_receipts(parsed: dict[str, Any], **_: Any) -> None:
        receipts.extend(m["ReceiptHandle"] for m in parsed.get("Messages", []))

    rek, sqs = flow.ctx.aws.rekognition, flow.ctx.aws.sqs
    rek.meta.events.register("after-call.rekognition.StartLabelDetection", poll_during_start)
    sqs.meta.events.register("after-call.sqs.ReceiveMessage", keep_receipts)
    done = flow.submit(SMALL)

    # the hand-off refused (job still STARTING, its JobId unknown): the message stays
    assert seen == [(1, ["STARTING"])]
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.SUCCEEDED and flow.rows() == 1  # the starter collected it
    assert flow.queued() == {"visible": 0, "hidden": 1}
    # the message comes back (as after the poller's back-off) and changes nothing
    flow.ctx.aws.sqs.change_message_visibility(
        QueueUrl=flow.prov.queue_url, ReceiptHandle=receipts[-1], VisibilityTimeout=0
    )
    calls = flow.fake.record()["calls"]["GetLabelDetection"]
    stats = flow.poll()
    assert (stats.received, stats.handled, stats.failed) == (1, 1, 0)
    assert flow.fake.record()["calls"]["GetLabelDetection"] == calls
    assert flow.states() == ["SUCCEEDED"] and flow.rows() == 1
    assert flow.queued() == {"visible": 0, "hidden": 0}


def test_job_that_ends_failed_keeps_the_status_message(flow: Flow) -> None:
    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.LABELS, SMALL, recorded(Feature.LABELS))
    done = flow.submit(SMALL, [Feature.LABELS, Feature.FACES])
    labels_job = next(j for j in flow.fake.jobs if j.op.feature is Feature.LABELS)
    flow.fake.finish(labels_job.job_id, "FAILED", "Unsupported codec/format.")
    stats = flow.poll()
    assert (stats.received, stats.handled) == (1, 1)

    jobs = {j.feature: j for j in flow.jobs(done.video_id)}
    assert jobs["labels"].state == JobState.FAILED
    assert jobs["labels"].message == "Unsupported codec/format."
    assert jobs["faces"].state == JobState.IN_PROGRESS
    assert flow.rows() == 0
    with flow.ctx.db.session() as s:
        status = status_json(video_status(s, done.video_id))
    assert status["status"] == "FAILED"
    assert status["features"]["labels"] == {
        "status": "FAILED",
        "message": "Unsupported codec/format.",
    }
    # the other job goes on; its failed sibling's slot was given back
    assert flow.ctx.slots("aws").in_use() == 1  # type: ignore[union-attr]
    flow.finish_running()
    flow.poll()
    assert flow.states(done.video_id) == ["FAILED", "SUCCEEDED"]  # labels, faces
    assert flow.rows() == 0  # faces: nothing planted, the fake found no face


def test_throttling_on_thirty_percent_of_calls(sqlite_flow: Flow, tiny_videos: list[Path]) -> None:
    flow, videos = sqlite_flow, tiny_videos[50:53]
    flow.fake.configure(auto_complete=False)
    for video in videos:
        for feature in RECORDED:
            flow.plant(feature, video, recorded(feature))
    flow.fake.throttle_ratio(0.3, seed=20240607)
    ids = [flow.submit(video, list(RECORDED)).video_id for video in videos]
    assert flow.states() == ["IN_PROGRESS"] * 12  # throttled starts were retried
    started = flow.fake.record()["errors"]
    flow.finish_running()
    # besides the 30%: the first two result pages asked for are refused, so collecting
    # (a notification's hand-off, in the poller) is certainly throttled too
    flow.fake.fail_next("GetSegmentDetection", "ThrottlingException", count=2)
    stats = flow.poll()
    assert stats.received == 12 and stats.failed == 0
    flow.fake.throttle_ratio(0)

    record = flow.fake.record()
    assert sum(n["ThrottlingException"] for op, n in started.items() if "Start" in op) >= 2
    assert record["errors"]["GetSegmentDetection"]["ThrottlingException"] >= 2
    assert sum(n["ThrottlingException"] for n in record["errors"].values()) >= 10
    assert len(record["jobs"]) == 12  # a retried Start* never started a second job
    assert flow.states() == ["SUCCEEDED"] * 12
    per_video = sum(len(recorded_items(f)) for f in RECORDED)
    assert flow.rows() == 3 * per_video
    for video_id in ids:
        for job in flow.jobs(video_id):
            assert flow.rows(job.id) == len(recorded_items(Feature(job.feature)))


def test_limit_exceeded_goes_back_to_the_backlog(flow: Flow) -> None:
    from worker.tasks import drain_backlog

    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.LABELS, SMALL, recorded(Feature.LABELS))
    flow.fake.fail_next("StartLabelDetection", "LimitExceededException")
    done = flow.submit(SMALL)
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.PENDING and job.engine_job_id is None
    assert job.message is not None and job.message.startswith("backlog: ")
    assert "LimitExceededException" in job.message
    assert flow.fake.jobs == [] and flow.ctx.slots("aws").in_use() == 0  # type: ignore[union-attr]

    assert drain_backlog.delay().get() == 1
    assert flow.states() == ["IN_PROGRESS"]
    flow.finish_running()
    flow.poll()
    [job] = flow.jobs(done.video_id)
    assert (job.state, job.attempts, flow.rows()) == (JobState.SUCCEEDED, 2, 1)
    assert flow.fake.record()["errors"] == {"StartLabelDetection": {"LimitExceededException": 1}}


def test_run_in_process_restarts_what_went_back_to_the_backlog(sqlite_flow: Flow) -> None:
    """`vidx run --engine aws` (no broker, no poller): wait_in_process asks Get* itself,
    and starts again a job LimitExceeded sent back to the backlog."""
    from worker.service import wait_in_process

    flow = sqlite_flow
    flow.fake.configure(complete_after_s=0.2)  # finishes on its own, a moment later
    flow.plant(Feature.LABELS, SMALL, recorded(Feature.LABELS))
    flow.fake.fail_next("StartLabelDetection", "LimitExceededException")
    flow.fake.fail_next("StartLabelDetection", "ThrottlingException", count=2)
    done = flow.submit(SMALL)
    assert flow.states() == ["PENDING"] and flow.fake.jobs == []

    wait_in_process(flow.ctx, done.video_id, poll_s=0.05, timeout_s=20)
    [job] = flow.jobs(done.video_id)
    assert (job.state, job.attempts, flow.rows()) == (JobState.SUCCEEDED, 4, 1)
    assert flow.fake.record()["errors"] == {
        "StartLabelDetection": {"LimitExceededException": 1, "ThrottlingException": 2}
    }
    assert len(flow.fake.jobs) == 1


def test_min_age_zero_asks_every_job_now_and_stores_real_times(sqlite_flow: Flow) -> None:
    """wait_in_process's reconcile run (min_age_s=0) asks about a job started a moment
    ago, and the check time it stores is the real time, not one in the future."""
    from models import utcnow
    from worker.pipeline.reconcile import reconcile

    flow = sqlite_flow
    flow.fake.configure(auto_complete=False)
    done = flow.submit(SMALL)
    assert flow.states(done.video_id) == ["IN_PROGRESS"]
    assert reconcile(flow.ctx, min_age_s=3600).still_running == 0  # too young: not asked
    before = utcnow()
    assert reconcile(flow.ctx, min_age_s=0).still_running == 1
    after = utcnow()
    [job] = flow.jobs(done.video_id)
    assert job.checked_at is not None and before <= job.checked_at <= after


def test_expired_results_fail_and_force_restarts(flow: Flow) -> None:
    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.SEGMENTS, SMALL, recorded(Feature.SEGMENTS))
    done = flow.submit(SMALL, [Feature.SEGMENTS])
    [first_engine_job] = flow.finish_running()
    flow.fake.expire(first_engine_job)  # 7 days later, before anyone collected
    assert flow.poll().handled == 1

    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.FAILED and flow.rows() == 0
    assert job.message is not None and "expired" in job.message
    assert "vidx submit --force" in job.message

    again = flow.submit(SMALL, [Feature.SEGMENTS], force=True)
    assert again.video_id == done.video_id and again.job_ids == [job.id]
    assert again.notes == ["restarting 1 failed job(s)"]
    [second_engine_job] = flow.finish_running()
    assert second_engine_job != first_engine_job
    flow.poll()
    [job] = flow.jobs(done.video_id)
    assert (job.state, job.generation, job.engine_job_id) == (
        JobState.SUCCEEDED,
        1,
        second_engine_job,
    )
    assert flow.rows() == 116


def test_stale_next_token_mid_collect_fails_then_restarts_clean(
    sqlite_flow: Flow, tiny_videos: list[Path]
) -> None:
    flow, video = sqlite_flow, tiny_videos[53]
    flow.fake.configure(auto_complete=False)
    flow.plant(Feature.LABELS, video, many_labels(2100))
    done = flow.submit(video)

    def stale_after_first_page(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("NextToken") and len(parsed.get("Labels", [])) == 1000:
            flow.fake.expire_tokens()

    flow.ctx.aws.rekognition.meta.events.register(
        "after-call.rekognition.GetLabelDetection", stale_after_first_page
    )
    flow.finish_running()
    flow.poll()
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.FAILED
    assert job.message is not None and "InvalidPaginationTokenException" in job.message
    assert flow.rows() == 0 and job.items_collected == 0  # no half-collected rows stay
    flow.ctx.aws.rekognition.meta.events.unregister(
        "after-call.rekognition.GetLabelDetection", stale_after_first_page
    )

    flow.submit(video, force=True)
    flow.finish_running()
    flow.poll()
    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.SUCCEEDED
    assert (job.pages_collected, job.items_collected, flow.rows()) == (3, 2100, 2100)


# --- 4. what Rekognition cannot read ---------------------------------------------------


def test_prores_is_transcoded_to_h264_mp4_before_upload(sqlite_flow: Flow, tmp_path: Path) -> None:
    from worker.media.probe import probe

    flow, prores = sqlite_flow, MEDIA / "synthetic" / "programme_prores.mov"
    # completes at once; the fake computes the labels with the local engine from the upload
    done = flow.submit(prores, [Feature.LABELS])
    assert len(done.notes) == 1 and "transcoded to H.264 MP4" in done.notes[0]
    assert "prores" in done.notes[0]

    [job] = flow.jobs(done.video_id)
    assert job.state == JobState.SUCCEEDED and flow.rows() == job.items_collected
    with flow.ctx.db.session() as s:
        video = s.get_one(Video, done.video_id)
    assert video.video_codec == "prores" and video.source == str(prores.resolve())
    assert video.s3_key is not None and video.s3_key.endswith(".mp4")
    [started] = flow.fake.record()["jobs"]
    assert started["Params"]["Video"]["S3Object"] == {
        "Bucket": video.s3_bucket,
        "Name": video.s3_key,
    }

    copy_path = tmp_path / "uploaded.mp4"
    flow.ctx.aws.s3.download_file(video.s3_bucket or "", video.s3_key, str(copy_path))
    uploaded = probe(copy_path)
    assert uploaded.video_codec == "h264" and "mp4" in uploaded.container.split(",")
    assert (uploaded.width, uploaded.height) == (640, 360)
    assert abs(uploaded.duration_ms - 10_000) <= 40
    # what the fake read from S3 is that H.264 copy: the local labels engine ran on it
    from worker.engines.local.labels import MODEL_VERSION

    with flow.ctx.db.session() as s:
        assert s.get_one(AnalysisJob, job.id).model_version == MODEL_VERSION


def test_over_six_hours_is_refused_before_anything_is_written(
    sqlite_flow: Flow, tmp_path: Path
) -> None:
    from worker.errors import InputError

    flow, long = sqlite_flow, tmp_path / "six_hours.mp4"
    subprocess.run(  # 6 h 1 min of one 16x16 frame a minute: 6 KB
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "color=c=black:s=16x16:r=1/60:d=21660", "-c:v", "libx264",
         "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(long)],
        check=True,
    )  # fmt: skip
    with pytest.raises(InputError, match=r"six_hours\.mp4: too long for Rekognition: 6\.02 h"):
        flow.submit(long)
    with flow.ctx.db.session() as s:
        assert s.scalars(select(Video)).all() == []
    assert flow.jobs() == [] and flow.fake.record()["calls"] == {}
    listed = flow.ctx.aws.s3.list_objects_v2(Bucket=flow.prov.bucket)
    assert listed["KeyCount"] == 0
