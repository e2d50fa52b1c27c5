"""Build the engine a setting names; clients are made here, never at import time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from worker.config import Settings
from worker.engines.port import Engine
from worker.errors import VidxError

if TYPE_CHECKING:
    from worker.aws.clients import AwsClients

ENGINES = ("local", "aws")


def analysis_engine(name: str, settings: Settings, aws: AwsClients | None = None) -> Engine:
    """`aws`: the process's shared clients (AppContext.aws); a new set when not given."""
    if name == "local":
        from worker.engines.local.engine import LocalEngine

        return LocalEngine(settings.results_dir / "local", settings.max_decode_error_ratio)
    if name == "aws":
        return _rekognition_engine(settings, aws)
    raise VidxError(f"unknown engine {name!r} (choose from: {', '.join(ENGINES)})")


def _rekognition_engine(settings: Settings, aws: AwsClients | None) -> Engine:
    from worker.aws.clients import AwsClients
    from worker.engines.rekognition import NotificationChannel, RekognitionEngine

    topic, role = settings.sns_topic_arn, settings.rekognition_role_arn
    if bool(topic) != bool(role):  # Rekognition requires both members of the channel
        raise VidxError(
            "set both VIDX_SNS_TOPIC_ARN and VIDX_REKOGNITION_ROLE_ARN (completion "
            "notifications), or neither (the reconciler then polls Get*)"
        )
    channel = NotificationChannel(topic, role) if topic and role else None
    return RekognitionEngine(
        (aws or AwsClients()).rekognition, channel, labels_aggregate_by=settings.labels_aggregate_by
    )
