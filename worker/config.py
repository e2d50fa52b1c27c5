"""One cached Settings object read from the environment (prefix VIDX_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """The user's data folder (e.g. ~/.local/share/vidx on Linux): the same wherever `vidx`
    is run from, so a second shell finds the videos the first one indexed."""
    return Path(platformdirs.user_data_dir("vidx", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VIDX_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir, description="database, media copies, clips, results"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data dir"
    )
    broker_url: str | None = Field(default=None, description="Celery broker; none: in-process")
    engine: str = Field(default="local", description="analysis engine: local or aws")
    max_concurrent_jobs: int = Field(default=20, ge=1, description="jobs in flight, all workers")
    s3_bucket: str | None = None
    s3_prefix: str = "vidx"
    s3_input_buckets: str | None = Field(
        default=None, description="buckets s3:// inputs may name, comma-separated; else S3_BUCKET"
    )
    sns_topic_arn: str | None = None
    sqs_queue_url: str | None = None
    rekognition_role_arn: str | None = None
    redis_url: str | None = Field(
        default=None, description="Redis for job slots; default: the broker when it is Redis"
    )
    labels_aggregate_by: str = Field(default="TIMESTAMPS", pattern="^(TIMESTAMPS|SEGMENTS)$")
    sns_verify_signature: bool | None = Field(
        default=None, description="check SNS signatures; default: on unless AWS_ENDPOINT_URL"
    )
    aws_endpoint_url: str | None = Field(
        default=None,
        # boto3's own variable, no VIDX_ prefix: botocore reads it itself for the clients
        # (worker/aws/clients.py); here it only tells that the endpoint is not AWS's
        validation_alias=AliasChoices("AWS_ENDPOINT_URL", "aws_endpoint_url"),
        description="a local AWS endpoint (moto): SNS messages are not signed there",
    )
    reconcile_after_s: int = Field(default=900, ge=1, description="ask Get* after this wait")
    reconcile_every_s: float = Field(
        default=60.0, ge=1, description="`vidx beat`: how often the reconciler runs"
    )
    retry_backoff_s: float = Field(
        default=2.0, gt=0, description="first wait after throttling; doubles, with jitter"
    )
    slot_lease_s: int = Field(default=3600, ge=10, description="job slot lease, renewed")
    collect_lease_s: int = Field(
        default=600, ge=10, description="a collect's hold on its job without progress"
    )
    sqs_wait_s: int = Field(default=20, ge=0, le=20, description="SQS long-poll wait")
    sqs_retry_s: int = Field(
        default=30,
        ge=0,
        description="hide a notification whose hand-off failed this long (doubling)",
    )
    api_key: SecretStr | None = Field(
        default=None, description="HTTP API: writes need this in the X-API-Key header"
    )
    max_upload_bytes: int = Field(
        default=10 * 1024**3, ge=1, description="HTTP API: largest video upload (Rekognition's)"
    )
    clip_batches: int = Field(
        default=4, ge=1, description="tasks a video's shot clips are split into (parallel workers)"
    )
    clip_retries: int = Field(default=2, ge=0, description="retries of a failed clip batch task")
    worker_stall_s: int = Field(
        default=300, ge=5, description="worker exits (to be restarted) after this long stuck"
    )
    debug: bool = Field(
        default=False, description="tracebacks and task logs on stderr instead of one line"
    )
    max_decode_error_ratio: float = Field(
        default=0.01, ge=0, le=1, description="share of damaged frames over which a file is corrupt"
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vidx.db').resolve()}"

    @property
    def shown_database_url(self) -> str:
        """The database URL with its password masked: safe to print."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return make_url(self.effective_database_url).render_as_string(hide_password=True)
        except ArgumentError:  # not a URL at all: nothing recognisable to mask
            return "(unparsable URL)"

    @property
    def clips_dir(self) -> Path:
        return self.data_dir / "clips"

    @property
    def thumbs_dir(self) -> Path:
        return self.data_dir / "thumbs"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"

    @property
    def input_buckets(self) -> frozenset[str]:
        """Buckets an s3:// video may be in: S3_INPUT_BUCKETS if set (empty: none), else
        S3_BUCKET; the server's credentials may read others, users may not name them."""
        if self.s3_input_buckets is None:
            return frozenset([self.s3_bucket] if self.s3_bucket else [])
        return frozenset(b.strip() for b in self.s3_input_buckets.split(",") if b.strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
