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
from typing import TYPE_CHECKING, Generic, Literal, Self, TypeVar, cast, overload

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
_Service = Literal["rekognition", "s3", "sns", "sqs", "iam", "sts"]


class _Client(Generic[_C]):
    """A read-only attribute of AwsClients: its service's client, made on first use."""

    def __init__(self, service: _Service) -> None:
        self.service: _Service = service

    @overload
    def __get__(self, clients: None, owner: type[AwsClients]) -> Self: ...
    @overload
    def __get__(self, clients: AwsClients, owner: type[AwsClients]) -> _C: ...
    def __get__(self, clients: AwsClients | None, owner: type[AwsClients]) -> Self | _C:
        if clients is None:  # looked up on the class itself
            return self
        # the one place the client's type is asserted: the attribute's declared type
        # names the same service as self.service (the stubs type client() per name)
        return cast(_C, clients._client(self.service))

    def __set__(self, clients: AwsClients, value: object) -> None:
        raise AttributeError(f"AwsClients.{self.service} is read-only")


class AwsClients:
    rekognition: _Client[RekognitionClient] = _Client("rekognition")
    s3: _Client[S3Client] = _Client("s3")
    sns: _Client[SNSClient] = _Client("sns")
    sqs: _Client[SQSClient] = _Client("sqs")
    iam: _Client[IAMClient] = _Client("iam")
    sts: _Client[STSClient] = _Client("sts")

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

    def _client(self, service: _Service) -> object:
        """`service`'s client, made once (typed: read it as the attribute of that name)."""
        with self._lock:
            if service not in self._clients:
                try:
                    self._clients[service] = self._session_locked().client(
                        service,
                        region_name=self.region,
                        endpoint_url=self.endpoint_url,
                        config=self.config,
                    )
                except NoRegionError as exc:
                    raise VidxError(
                        f"no AWS region for {service}: set AWS_REGION (or AWS_DEFAULT_REGION)"
                    ) from exc
            return self._clients[service]
