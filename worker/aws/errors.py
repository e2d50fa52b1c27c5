"""Translate botocore's exceptions into the project's own, at the adapter that called AWS.

Each adapter (Rekognition, S3, SNS, SQS) owns one `ErrorMap`: its error codes -> our
exception classes. It wraps every client call in `errors.guard("Operation")`, so no
`ClientError` or `BotoCoreError` travels past the adapter, and every message keeps the
AWS error code and message for the user and the logs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    ParamValidationError,
    StubResponseError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from worker.errors import VidxError


@dataclass(frozen=True)
class ErrorMap:
    codes: Mapping[str, type[VidxError]]  # service error code -> exception class
    default: type[VidxError]  # any other service error
    unavailable: type[VidxError]  # no answer (connection, timeout) or an unmodelled 5xx
    invalid_request: type[VidxError]  # botocore refused the parameters before sending

    def translate(self, exc: ClientError | BotoCoreError, operation: str) -> VidxError:
        if isinstance(exc, ClientError):
            return self._from_client_error(exc)
        # EndpointConnectionError, ConnectTimeoutError (ConnectionError) and
        # ConnectionClosedError, ReadTimeoutError (HTTPClientError): the service never
        # answered, so nothing says the request was wrong; retrying later may work.
        if isinstance(exc, BotoConnectionError | HTTPClientError):
            return self.unavailable(f"{operation}: {type(exc).__name__}: {_one_line(exc)}")
        if isinstance(exc, ParamValidationError):
            return self.invalid_request(f"{operation}: invalid request: {_one_line(exc)}")
        # NoCredentialsError, NoRegionError, ...: configuration, not the service
        return self.default(f"{operation}: {type(exc).__name__}: {_one_line(exc)}")

    def _from_client_error(self, exc: ClientError) -> VidxError:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = str(error.get("Code", "Unknown"))
        message = f"{exc.operation_name}: {code}"
        if text := _one_line(error.get("Message", "")):
            message += f": {text}"
        retries = int(meta.get("RetryAttempts", 0))
        if retries:  # botocore already retried (standard mode): say so, it explains delays
            message += f" (after {retries} SDK retries)"
        cls = self.codes.get(code)
        if cls is None:
            # an error the model does not list (e.g. ServiceUnavailable behind a proxy):
            # a 5xx is the service's trouble, anything else we cannot classify
            status = int(meta.get("HTTPStatusCode", 0))
            cls = self.unavailable if status >= 500 else self.default
        return cls(message)

    @contextmanager
    def guard(self, operation: str) -> Iterator[None]:
        """Run one client call; botocore's exceptions leave as the project's own."""
        try:
            yield
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, StubResponseError):
                raise  # botocore Stubber's verdict on a test's calls: not a service error
            raise self.translate(exc, operation) from exc


def _one_line(text: object) -> str:
    """Users see errors as one line (botocore's validation message spans several)."""
    return " ".join(str(text).split())
