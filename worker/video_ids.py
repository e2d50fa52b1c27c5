"""Video ids as users type them: the whole id, or (like git) a unique prefix of it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Video
from worker.errors import AmbiguousIdError, NotFoundError, VideoNotFoundError

MIN_PREFIX = 4  # shorter prefixes match too much to be worth the surprise
SHOWN = 5  # ambiguous: this many candidates are named


def resolve(session: Session, ref: str) -> str:
    """The id of the one video whose id is `ref` or starts with it (at least MIN_PREFIX
    characters); VideoNotFoundError for none, AmbiguousIdError for several."""
    if session.get(Video, ref) is not None:
        return ref
    if len(ref) < MIN_PREFIX:
        raise NotFoundError(
            f"no video with id {ref!r} (an id prefix needs {MIN_PREFIX} or more characters)"
        )
    match = Video.id.startswith(ref, autoescape=True)
    found = session.scalars(select(Video.id).where(match).order_by(Video.id).limit(SHOWN)).all()
    if not found:
        raise VideoNotFoundError(ref)
    if len(found) == 1:
        return found[0]
    count = session.scalar(select(func.count()).select_from(Video).where(match)) or len(found)
    more = ", …" if count > len(found) else ""
    raise AmbiguousIdError(
        f"id prefix {ref} matches {count} videos: {', '.join(found)}{more} (give more characters)"
    )
