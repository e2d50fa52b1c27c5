"""In-process AWS for tests: moto under `mock_aws`, the fake Rekognition video operations,
the resources `vidx aws setup` provisions, and an AppContext wired to them.

Used by the Rekognition flow tests and the engine contract tests. Everything runs in the
test's thread: Celery is eager, Start*/Get* reach the fake through real boto3 clients, and
completion notifications go through moto's SNS into the provisioned SQS queue.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws
from sqlalchemy import func, select

from models import AnalysisJob, Detection
from worker.aws.clients import AwsClients
from worker.aws.poller import PollStats
from worker.aws.provision import ProvisionedSettings, provision
from worker.aws.s3 import object_key
from worker.config import Settings
from worker.context import AppContext, use_context
from worker.engines.port import Feature
from worker.media.hashing import sha256_file
from worker.testing.rekognition import FakeRekognition, fake_rekognition, install

REGION = "us-east-1"
BUCKET = "vidx-test-media"


@contextmanager
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRekognition]:
    """mock_aws with the fake installed; the fake is closed (timers stopped) on exit.

    Credentials come from the `aws_env` fixture (tests/conftest.py), which callers request.
    AWS_REGION is pinned too: AwsClients reads it before AWS_DEFAULT_REGION.
    """
    monkeypatch.setenv("AWS_REGION", REGION)
    install()
    with mock_aws():
        fake = fake_rekognition(region=REGION)
        try:
            yield fake
        finally:
            fake.close()


def provisioned(aws: AwsClients) -> ProvisionedSettings:
    """What `vidx aws setup` creates: bucket, AmazonRekognition* topic, queue, role."""
    return provision(aws.s3, aws.sns, aws.sqs, aws.iam, bucket=BUCKET, region=REGION)


def aws_settings(
    data_dir: Path, database_url: str, prov: ProvisionedSettings, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "broker_url": None,
        "engine": "aws",
        "s3_bucket": prov.bucket,
        "sns_topic_arn": prov.topic_arn,
        "sqs_queue_url": prov.queue_url,
        "rekognition_role_arn": prov.role_arn,
        "max_concurrent_jobs": 20,
        "sns_verify_signature": False,  # moto does not sign its SNS messages
        "reconcile_after_s": 1,
        "retry_backoff_s": 0.001,  # throttled steps retry after milliseconds, not seconds
        "sqs_wait_s": 0,  # everything is already queued: never block a test for 20 s
    }
    return Settings(**(values | overrides))


@dataclass
class Flow:
    """An AppContext on the fake AWS, and the moves a test makes around the pipeline."""

    ctx: AppContext
    fake: FakeRekognition
    prov: ProvisionedSettings

    def key_for(self, path: Path, name: str | None = None) -> str:
        """The S3 key the pipeline uploads `path` under (content-addressed)."""
        return object_key(self.ctx.settings.s3_prefix, sha256_file(path), name or path.name)

    def plant(self, feature: Feature, path: Path, response: Any) -> None:
        """Results for the job any later Start* of `feature` on this file gets."""
        self.fake.plant((feature, self.key_for(path)), response)

    def submit(
        self,
        path: Path,
        features: Sequence[Feature] = (Feature.LABELS,),
        force: bool = False,
    ) -> Any:
        from worker.service import submit

        return submit(self.ctx, path, list(features), "aws", [], "accurate", force=force)

    def jobs(self, video_id: str | None = None) -> list[AnalysisJob]:
        with self.ctx.db.session() as s:
            query = select(AnalysisJob).order_by(AnalysisJob.id)
            if video_id is not None:
                query = query.where(AnalysisJob.video_id == video_id)
            return list(s.scalars(query).all())

    def states(self, video_id: str | None = None) -> list[str]:
        return [str(j.state) for j in self.jobs(video_id)]

    def rows(self, job_id: int | None = None) -> int:
        with self.ctx.db.session() as s:
            query = select(func.count()).select_from(Detection)
            if job_id is not None:
                query = query.where(Detection.job_id == job_id)
            return int(s.scalar(query) or 0)

    def finish_running(self, status: str = "SUCCEEDED", message: str | None = None) -> list[str]:
        """Complete every job the fake has IN_PROGRESS (manual completion mode)."""
        running = [j.job_id for j in self.fake.jobs if j.status == "IN_PROGRESS"]
        for job_id in running:
            self.fake.finish(job_id, status, message)
        return running

    def poll(self, max_polls: int = 100) -> PollStats:
        """Run the completion poller until a receive comes back empty."""
        from worker.wiring import build_poller

        poller = build_poller(self.ctx)
        totals = PollStats()
        for _ in range(max_polls):
            stats = poller.poll_once()
            totals.add(stats)
            if not stats.received:
                return totals
        raise AssertionError(f"the queue did not drain in {max_polls} polls: {totals}")

    def queued(self) -> dict[str, int]:
        attrs = self.ctx.aws.sqs.get_queue_attributes(
            QueueUrl=self.prov.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return {
            "visible": int(attrs["ApproximateNumberOfMessages"]),
            "hidden": int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        }


@contextmanager
def aws_flow(
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    database_url: str,
    **settings: Any,
) -> Iterator[Flow]:
    """A migrated context on `database_url`, provisioned on the fake AWS; Celery eager.

    The context's AWS clients make one attempt per call (no SDK retries), so every
    injected throttle or LimitExceeded reaches the pipeline, which must handle it.
    """
    from worker.celery_app import reconfigure

    with mocked_aws(monkeypatch) as fake:
        aws = AwsClients(total_max_attempts=1)
        prov = provisioned(aws)
        ctx = AppContext(aws_settings(data_dir, database_url, prov, **settings), _aws=aws)
        ctx.db.upgrade()
        reconfigure(None)
        try:
            with use_context(ctx):
                yield Flow(ctx, fake, prov)
        finally:
            ctx.db.engine.dispose()
