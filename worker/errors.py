"""The project's own exceptions; vendor errors are translated into these at adapters."""

from __future__ import annotations

from pathlib import Path


class VidxError(Exception):
    """Base of every error vidx reports to a user."""


class InputError(VidxError):
    """A file or URI that cannot be indexed: the message names the file and the problem."""

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class MediaToolError(VidxError):
    """ffmpeg/ffprobe failed on an input that had been accepted."""


class NotFoundError(VidxError):
    """A video, job or clip id that does not exist."""


class ConflictError(VidxError):
    """The request clashes with the video's state (e.g. deleting one whose jobs run): 409."""


class IncompleteError(VidxError):
    """An operation stopped part-way on the server's side (a file it could not remove,
    S3 unreachable) and running it again finishes it: 500, with this message."""


class VideoNotFoundError(NotFoundError):
    """No video has this id (or, in the CLI, starts with it): one wording everywhere."""

    def __init__(self, video_id: str) -> None:
        self.video_id = video_id
        super().__init__(f"no video with id {video_id!r}")


class AmbiguousIdError(VidxError):
    """A video id prefix that more than one video id starts with."""


class EngineError(VidxError):
    """An analysis engine refused or failed a job."""


class FeatureNotSupportedError(EngineError):
    """The engine does not implement the requested feature."""


# Engine errors the Rekognition adapter translates botocore's ClientError into.
class ThrottledError(EngineError):
    """ThrottlingException / ProvisionedThroughputExceededException: back off and retry."""


class LimitExceededError(EngineError):
    """LimitExceededException: too many concurrent jobs; the job goes back to the backlog."""


class InvalidInputError(EngineError):
    """InvalidParameter / InvalidS3Object / VideoTooLarge: the request can never succeed."""


class ResultsExpiredError(EngineError):
    """ResourceNotFound / InvalidPaginationToken: the job's results are gone (kept 7 days)."""


class AccessDeniedError(EngineError):
    """AccessDeniedException: credentials or role lack a permission."""


class IdempotencyMismatchError(EngineError):
    """IdempotentParameterMismatchException: a client token reused with other parameters."""


class JobNotFinishedError(EngineError):
    """Get* says the job is still running (a notification ahead of Get*, or a stray one)."""

    def __init__(self, message: str, status: str = "IN_PROGRESS") -> None:
        self.status = status
        super().__init__(message)


class EngineUnavailableError(EngineError):
    """InternalServerError or a connection failure: transient, retry later."""


class DatabaseUnavailableError(VidxError):
    """The database dropped the connection, is restarting, or aborted a transaction to
    resolve a conflict (serialization failure, deadlock): transient, retry the step."""


class SlotsUnavailableError(VidxError):
    """The job-slot store (Redis) is unreachable: transient, retry the step."""


# What a later attempt may not meet: tasks retry these with backoff, and a step that
# meets one keeps what it owns (job lease, slot) for the retry instead of giving it up.
TRANSIENT_ERRORS: tuple[type[VidxError], ...] = (
    ThrottledError,
    EngineUnavailableError,
    DatabaseUnavailableError,
    SlotsUnavailableError,
)
