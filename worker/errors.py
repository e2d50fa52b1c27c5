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


class EngineError(VidxError):
    """An analysis engine refused or failed a job."""


class FeatureNotSupportedError(EngineError):
    """The engine does not implement the requested feature."""
