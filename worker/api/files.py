"""File downloads with HTTP Range support (Starlette's FileResponse) and problem-details
errors for a malformed (400) or unsatisfiable (416) Range.

Starlette answers those two with a text/plain body; the API answers every error with a
problem, so the Range header is checked here first with Starlette's own parser.
"""

from __future__ import annotations

import stat as stat_mode
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from worker.api.problems import problem_response
from worker.errors import NotFoundError


class RangeFileResponse(FileResponse):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        range_header = headers.get("range")
        if_range = headers.get("if-range")
        stat = self.stat_result
        if (
            range_header is not None
            and stat is not None
            and scope["method"] in ("GET", "HEAD")
            and (if_range is None or self._should_use_range(if_range))
        ):
            path = str(scope.get("path", ""))
            try:
                self._parse_range_header(range_header, stat.st_size)
            except MalformedRangeHeader as exc:
                detail = f"Range {range_header!r}: {exc.content}"
                await problem_response(400, detail, instance=path)(scope, receive, send)
                return
            except RangeNotSatisfiable as exc:
                bad = problem_response(
                    416,
                    f"Range {range_header!r} starts past the end of the {exc.max_size}-byte file",
                    instance=path,
                    headers={"Content-Range": f"bytes */{exc.max_size}"},
                )
                await bad(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def serve_file(
    path: Path, what: str, media_type: str | None = None, *, inline: bool = True
) -> RangeFileResponse:
    """The file as a response; NotFoundError (404) when it is not on this server's disk."""
    try:
        stat = path.stat()
    except OSError:
        raise NotFoundError(f"{what} is not on this server's disk") from None
    if not stat_mode.S_ISREG(stat.st_mode):
        raise NotFoundError(f"{what} is not a file on this server")
    return RangeFileResponse(
        path,
        media_type=media_type,
        filename=path.name,
        stat_result=stat,
        content_disposition_type="inline" if inline else "attachment",
    )
