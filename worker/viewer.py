"""The timeline viewer: a static page per video served by `vidx serve` (issue 6, part 3).

`worker.api.create_app` includes `router`; the page reads the API's own endpoints.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["viewer"])
