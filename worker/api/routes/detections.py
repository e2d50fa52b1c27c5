"""Search across videos: timeline ranges by kind, name, confidence and time window."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from worker.api import mapping
from worker.api.deps import SessionDep, no_nul_in_url
from worker.api.openapi import responses
from worker.api.problems import documented
from worker.api.schemas import RangeList
from worker.query import QUERY_KINDS, InvalidQueryError, QueryFilter, search
from worker.timecode import parse_hms

router = APIRouter(tags=["search"], dependencies=[Depends(no_nul_in_url)])
Kind = Literal["label", "moderation", "face", "text", "shot", "cue"]
assert set(QUERY_KINDS) == {"label", "moderation", "face", "text", "shot", "cue"}  # as Kind
# a window bound past ~300 years is a typo, and would overflow a BIGINT once multiplied
MAX_MS = 10**13
CURSOR_HELP = "next_cursor of the previous page (with the same filters)"
TIME_HELP = "milliseconds (e.g. 90500) or HH:MM:SS.mmm (e.g. 00:01:30.500)"


def parse_time(param: str, value: str | None) -> int | None:
    """`from`/`to`: integer ms, or a clock time with colons (a bare `1.5` is ambiguous)."""
    if value is None:
        return None
    text = value.strip()
    try:
        if re.fullmatch(r"[0-9]{1,14}", text):
            ms = int(text)
        elif ":" in text:
            ms = parse_hms(text)
        else:
            raise ValueError("not a time")
    except ValueError:
        raise InvalidQueryError(f"{param}={value!r}: expected {TIME_HELP}") from None
    if ms > MAX_MS:
        raise InvalidQueryError(f"{param}={value!r}: later than any video")
    return ms


@router.get("/detections", response_model=RangeList, responses=responses(documented(404, 422)))
def detections(
    session: SessionDep,
    video: Annotated[str | None, Query(max_length=64, description="only this video id")] = None,
    kind: Annotated[Kind | None, Query()] = None,
    name: Annotated[
        str | None,
        Query(
            max_length=256,
            description="label name or cue type, e.g. Dog; with kind=text, words of the line",
        ),
    ] = None,
    label: Annotated[
        str | None, Query(max_length=256, description="shorthand for kind=label&name=LABEL")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=256,
            description="text ranges whose line holds these words, any case "
            "(shorthand for kind=text&name=WORDS)",
        ),
    ] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=100)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=32, description=TIME_HELP)] = None,
    to: Annotated[str | None, Query(max_length=32, description=TIME_HELP)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512, description=CURSOR_HELP)] = None,
) -> RangeList:
    """Ranges overlapping the window [from, to), across videos unless `video`, ordered by
    video and start; `next_cursor` (with the same filters) gives the next page."""
    if label is not None:
        if kind not in (None, "label") or name not in (None, label):
            raise InvalidQueryError(
                f"label={label!r} means kind=label&name={label}: it cannot go with "
                f"kind={kind!r} or name={name!r}"
            )
        kind, name = "label", label
    if q is not None:
        if kind not in (None, "text") or name not in (None, q):
            raise InvalidQueryError(
                f"q={q!r} means kind=text&name={q}: it cannot go with "
                f"kind={kind!r}, name={name!r} or label"
            )
        kind, name = "text", q
    f = QueryFilter(
        video_id=video,
        kind=kind,
        name=name,
        min_confidence=min_confidence,
        from_ms=parse_time("from", from_),
        to_ms=parse_time("to", to),
        limit=limit,
        after=cursor,
    )
    page = search(session, f)
    return mapping.range_list(page.items, page.next_cursor)
