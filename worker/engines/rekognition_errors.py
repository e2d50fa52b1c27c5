"""Rekognition Video error codes -> the engine error taxonomy (worker.errors).

The codes are the union of the `errors` lists of the four Start* and four Get*
operations in botocore's service model (tests check that none is missing). What the
pipeline does with each class is in DESIGN.md (Jobs): throttling backs off with jitter,
LimitExceeded returns the job to the backlog, expired results fail the job.
"""

from __future__ import annotations

from worker.aws.errors import ErrorMap
from worker.errors import (
    AccessDeniedError,
    EngineError,
    EngineUnavailableError,
    IdempotencyMismatchError,
    InvalidInputError,
    LimitExceededError,
    ResultsExpiredError,
    ThrottledError,
)

REKOGNITION_ERRORS = ErrorMap(
    codes={
        "ThrottlingException": ThrottledError,
        "ProvisionedThroughputExceededException": ThrottledError,
        "LimitExceededException": LimitExceededError,
        "InvalidParameterException": InvalidInputError,
        "InvalidS3ObjectException": InvalidInputError,
        "VideoTooLargeException": InvalidInputError,
        # Get* on a job older than the results' retention, or a stale NextToken
        "ResourceNotFoundException": ResultsExpiredError,
        "InvalidPaginationTokenException": ResultsExpiredError,
        "AccessDeniedException": AccessDeniedError,
        "IdempotentParameterMismatchException": IdempotencyMismatchError,
        "InternalServerError": EngineUnavailableError,
    },
    default=EngineError,
    unavailable=EngineUnavailableError,
    invalid_request=InvalidInputError,
)
