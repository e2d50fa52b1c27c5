"""Request dependencies: the app's context, a database session, the API key for writes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from worker.context import AppContext

API_KEY_HEADER = "X-API-Key"
_api_key = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,  # missing (401) and wrong (403) are told apart below
    description="Needed by writes when the server sets VIDX_API_KEY.",
)


def app_context(request: Request) -> AppContext:
    ctx = request.app.state.context
    assert isinstance(ctx, AppContext)
    return ctx


ContextDep = Annotated[AppContext, Depends(app_context)]


def db_session(ctx: ContextDep) -> Iterator[Session]:
    with ctx.db.session() as session:
        yield session


# scope="function": the transaction ends once the response is built, before it is sent,
# so streaming a file (a multi-GB video) holds no database connection (FastAPI >= 0.118
# otherwise ends it after the response is sent; "function" scope is FastAPI >= 0.121)
SessionDep = Annotated[Session, Depends(db_session, scope="function")]


def require_api_key(
    ctx: ContextDep, given: Annotated[str | None, Security(_api_key)] = None
) -> None:
    """Writes need the key when VIDX_API_KEY is set (an empty value sets none)."""
    expected = ctx.settings.api_key.get_secret_value() if ctx.settings.api_key else ""
    if not expected:
        return
    if not given:
        raise HTTPException(
            401,
            f"this request needs the API key in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'},
        )
    # constant time: the comparison must not tell how much of a guess was right
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, f"the {API_KEY_HEADER} header does not hold this server's key")


def no_nul_in_url(request: Request) -> None:
    """A NUL character in the path or query is refused up front: PostgreSQL text cannot
    hold one, so it would otherwise fail deep in a query as a server error."""
    values = [request.url.path, *(v for kv in request.query_params.multi_items() for v in kv)]
    if any("\x00" in v for v in values):
        raise HTTPException(422, "the URL holds a NUL character (%00)")
