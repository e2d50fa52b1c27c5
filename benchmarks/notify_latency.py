"""Notification received -> timeline queryable, for the largest recorded result.

In one process under moto (`mock_aws`) with the fake Rekognition: the recorded
GetSegmentDetection result (116 shots, the largest in ../shared/fixtures/rekognition)
is planted for a submitted video; its job completes and Rekognition's SNS message
lands in SQS. Timed: one `Poller.poll_once()` (receive, parse the envelope, hand off
to the collect task, which runs eagerly: Get* pages -> parser -> store -> timeline)
plus `timeline()` reading it back. Median of N runs, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/notify_latency.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from moto import mock_aws
from sqlalchemy import create_engine, text

from worker.aws.clients import AwsClients
from worker.aws.provision import provision
from worker.aws.s3 import object_key
from worker.celery_app import reconfigure
from worker.config import Settings
from worker.context import AppContext, use_context
from worker.engines.port import Feature
from worker.media.hashing import sha256_file
from worker.query import timeline
from worker.read_json import timeline_json
from worker.service import build_poller, submit
from worker.testing.rekognition import fake_rekognition, install

SHARED = Path(__file__).resolve().parents[2] / "shared"
RECORDED = SHARED / "fixtures" / "rekognition" / "netflix_93f8" / "GetSegmentDetection.page1.json"
VIDEO = SHARED / "media" / "synthetic" / "no_audio.mp4"


def one_run(db_url: str) -> float:
    with mock_aws():
        install()
        aws = AwsClients(region="us-east-1")
        done = provision(aws.s3, aws.sns, aws.sqs, aws.iam, bucket="bench", region="us-east-1")
        data = Path(tempfile.mkdtemp())
        settings = Settings(
            data_dir=data,
            database_url=db_url,
            engine="aws",
            s3_bucket=done.bucket,
            sns_topic_arn=done.topic_arn,
            sqs_queue_url=done.queue_url,
            rekognition_role_arn=done.role_arn,
            sns_verify_signature=False,
            sqs_wait_s=0,
        )
        ctx = AppContext(settings, _aws=aws)
        ctx.db.upgrade()
        reconfigure(None)
        with use_context(ctx):
            # the planted result replaces what the fake would compute for this S3 object
            recorded = json.loads(RECORDED.read_text())
            key = object_key(settings.s3_prefix, sha256_file(VIDEO), VIDEO.name)
            fake_rekognition().plant(("segments", key), recorded)
            sub = submit(ctx, VIDEO, [Feature.SEGMENTS], "aws", [], "accurate")
            poller = build_poller(ctx)
            t0 = time.perf_counter()
            stats = poller.poll_once()
            with ctx.db.session() as s:
                doc = timeline_json(timeline(s, sub.video_id))
            elapsed = time.perf_counter() - t0
        assert stats.handled == 1, stats
        assert len(doc["shots"]) == len(recorded["Segments"]), len(doc["shots"])
        ctx.db.engine.dispose()
        return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = ap.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        for name, url in [
            ("SQLite", f"sqlite:///{tempfile.mkdtemp()}/b.db"),
            ("PostgreSQL", f"{args.pg}?options=-csearch_path%3D{schema}"),
        ]:
            times = []
            for _ in range(args.runs):
                if name == "SQLite":
                    url = f"sqlite:///{tempfile.mkdtemp()}/b.db"
                else:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                times.append(one_run(url))
            med = statistics.median(times) * 1000
            print(f"{name:<11} notification -> timeline queryable (116 shots): {med:.0f} ms median")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
