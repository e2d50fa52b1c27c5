"""boto3 clients for vidx, built lazily from one Session with one retry policy.

Nothing is created at import time or in task bodies: the AppContext builds the engine
(and with it an `AwsClients`) once per process, and each client on first use. boto3
clients are thread-safe once made; making them (and the Session) is not, hence the lock.

Configuration comes from the standard AWS places:
- region: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the shared config file.
  botocore itself reads only AWS_DEFAULT_REGION (configprovider: 'region'), so
  AWS_REGION, which DESIGN.md and the other SDKs use, is resolved here.
- endpoint: botocore (verified in 1.44.8, configprovider) reads `AWS_ENDPOINT_URL` and
  `AWS_ENDPOINT_URL_<SERVICE>` itself, per client, so nothing is passed unless the
  caller gives an explicit `endpoint_url` (which then wins for every client).
- credentials: boto3's usual chain.

Retries, and how they meet the pipeline's own backoff
-----------------------------------------------------
Two layers, on purpose, with different jobs:

1. botocore "standard" mode, `total_max_attempts` 3 (the initial call + 2 retries),
   absorbs blips inside one call: throttling (ThrottlingException,
   ProvisionedThroughputExceededException, and also LimitExceededException, which
   botocore counts as throttling), 500/502/503/504 and connection errors / timeouts.
   Its backoff is full jitter, rand * min(scale * 2**i, 20 s) with scale 1 s for
   throttling and 50 ms otherwise (botocore/retries/standard.py), so at 3 attempts a
   throttled call waits at most ~3 s extra; and its retry quota (a token bucket of
   500 per client, i.e. per process: 5 a throttling retry, 14 any other) stops
   retrying altogether when the service keeps failing, so a storm does not multiply
   calls.
2. Whatever still fails reaches the pipeline translated (ThrottledError,
   LimitExceededError, EngineUnavailableError); the pipeline then backs off with
   jitter between its own attempts (longer waits, across workers), returns the job
   to the backlog on LimitExceeded, and so on (DESIGN.md, Jobs).

So the in-call budget stays small: a large `total_max_attempts` would block a worker
for up to 20 s a try and multiply with the pipeline's own retries (N SDK attempts x M
pipeline attempts calls), while sustained throttling is better answered by waiting
longer at the pipeline level. A LimitExceededException costs at most ~3 s and two
calls before it reaches the pipeline (botocore offers no per-code opt-out).
`total_max_attempts` is used rather than Config's `max_attempts`, which botocore
reads as *retries* (total = max_attempts + 1), unlike AWS_MAX_ATTEMPTS. The explicit
Config overrides AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, deliberately: the layering above
assumes this bounded budget. Not "adaptive" mode: its client-side rate limiter is
experimental and per process, while our backoff already spans workers.

Retrying Start* is safe only because every Start* carries a ClientRequestToken: a
retry after a lost response returns the same JobId instead of a second paid job.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from boto3.session import Session
from botocore.config import Config
from botocore.exceptions import NoRegionError

from worker.errors import VidxError

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

DEFAULT_TOTAL_MAX_ATTEMPTS = 3  # botocore standard mode's own default, made explicit

_C = TypeVar("_C")


class AwsClients:
    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        total_max_attempts: int = DEFAULT_TOTAL_MAX_ATTEMPTS,
    ) -> None:
        env = os.environ
        self.region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None
        self.endpoint_url = endpoint_url
        self.config = Config(retries={"mode": "standard", "total_max_attempts": total_max_attempts})
        self._lock = threading.Lock()
        self._session: Session | None = None
        self._clients: dict[str, object] = {}

    @property
    def session(self) -> Session:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> Session:
        if self._session is None:
            self._session = Session(region_name=self.region)
        return self._session

    def _cached(self, service: str, build: Callable[[Session], _C]) -> _C:
        with self._lock:
            if service not in self._clients:
                try:
                    self._clients[service] = build(self._session_locked())
                except NoRegionError as exc:
                    raise VidxError(
                        f"no AWS region for {service}: set AWS_REGION (or AWS_DEFAULT_REGION)"
                    ) from exc
            return cast(_C, self._clients[service])

    @property
    def rekognition(self) -> RekognitionClient:
        return self._cached(
            "rekognition",
            lambda s: s.client(
                "rekognition",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=self.config,
            ),
        )

    @property
    def s3(self) -> S3Client:
        return self._cached(
            "s3",
            lambda s: s.client(
                "s3", region_name=self.region, endpoint_url=self.endpoint_url, config=self.config
            ),
        )

    @property
    def sns(self) -> SNSClient:
        return self._cached(
            "sns",
            lambda s: s.client(
                "sns", region_name=self.region, endpoint_url=self.endpoint_url, config=self.config
            ),
        )

    @property
    def sqs(self) -> SQSClient:
        return self._cached(
            "sqs",
            lambda s: s.client(
                "sqs", region_name=self.region, endpoint_url=self.endpoint_url, config=self.config
            ),
        )

    @property
    def iam(self) -> IAMClient:
        return self._cached(
            "iam",
            lambda s: s.client(
                "iam", region_name=self.region, endpoint_url=self.endpoint_url, config=self.config
            ),
        )

    @property
    def sts(self) -> STSClient:
        return self._cached(
            "sts",
            lambda s: s.client(
                "sts", region_name=self.region, endpoint_url=self.endpoint_url, config=self.config
            ),
        )
