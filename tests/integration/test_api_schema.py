"""Schemathesis against the published OpenAPI schema (bounded): no request it generates
gets a server error, and the answers conform to the schema (status codes, content types,
bodies) — on SQLite, with a video indexed, clips and thumbnails, and the API key set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import FIXTURES, MEDIA, RECORDED, make_context
from worker.api import create_app
from worker.context import AppContext, use_context
from worker.engines.port import Feature
from worker.pipeline.clip_request import ClipRequest
from worker.pipeline.clips import make_clips
from worker.pipeline.importer import import_pages
from worker.service import submit

pytestmark = pytest.mark.integration
KEY = "schemathesis-key"
# every other check runs. This one expects any schema-valid request to succeed, but a cursor
# or an upload can be schema-valid and still not be one the server can use (a cursor it never
# issued, bytes that are not a video): those get a 422 problem, which is the right answer
EXCLUDED = [positive_data_acceptance]
MAX_EXAMPLES = 12  # per operation and mode: 14 operations x 2 modes, well under a minute


@pytest.fixture(scope="module")
def schema_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    from worker.celery_app import reconfigure

    src = MEDIA / "synthetic" / "no_audio.mp4"
    if not src.is_file():
        pytest.skip(f"test media not found at {MEDIA}")
    tmp = tmp_path_factory.mktemp("schema")
    base = make_context(tmp / "data", f"sqlite:///{tmp / 'vidx.db'}")
    ctx = AppContext(base.settings.model_copy(update={"api_key": SecretStr(KEY)}))
    ctx.db.upgrade()
    reconfigure(None)
    # no AWS anywhere: an s3:// submit must end in a clear 4xx, never a call to real AWS
    mp = pytest.MonkeyPatch()
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        mp.delenv(name, raising=False)
    mp.setenv("AWS_CONFIG_FILE", str(tmp / "no-aws-config"))
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "no-aws-credentials"))
    with use_context(ctx):
        video_id = submit(ctx, src, [Feature.SEGMENTS], "local", [], "copy").video_id
        make_clips(ctx, video_id, ClipRequest(("shots", "content"), "copy"), thumbnails=True)
        import_pages(ctx, Feature.MODERATION, [FIXTURES / RECORDED[1][0]])
        app = create_app(ctx)
        app.state.indexed = video_id
        yield app
    mp.undo()
    ctx.db.engine.dispose()


def _fuzz(operation: Any, mode: GenerationMode, seen: Counter[int], **fixed: Any) -> str | None:
    """Up to MAX_EXAMPLES cases of one operation; the first failure's report, or None.
    `seen` counts the answers' status codes; `fixed` holds as_strategy's fixed values."""

    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same cases every run: a failure here is reproducible
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        res = case.call_and_validate(headers={"X-API-Key": KEY}, excluded_checks=EXCLUDED)
        seen[res.status_code] += 1

    try:
        run()
    except Unsatisfiable:
        # negative mode on an operation whose only inputs are free-form strings (a video id):
        # nothing that breaks the schema can be generated, so there is nothing to send
        assert mode is GenerationMode.NEGATIVE, operation.path
    except Exception as exc:  # a failed check: collected, so one run reports every operation
        return f"{operation.method.upper()} {operation.path} ({mode}, {fixed}): {exc}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_and_conforming_answers(schema_app: FastAPI, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", schema_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14  # every documented operation, POST and DELETE included
    seen: Counter[int] = Counter()
    failures = [f for op in operations if (f := _fuzz(op, mode, seen)) is not None]
    # again with the indexed video's id: random ids mostly meet 404 before anything else
    real = {"path_parameters": {"video_id": schema_app.state.indexed}}
    # (DELETE with the real id would delete the video the other operations read)
    with_video = [
        op for op in operations if "{video_id}" in op.path and op.method.upper() != "DELETE"
    ]
    failures += [f for op in with_video if (f := _fuzz(op, mode, seen, **real)) is not None]
    assert not failures, "\n\n".join(failures)
    print(f"{mode}: {sum(seen.values())} requests, statuses {dict(sorted(seen.items()))}")
    assert not [code for code in seen if code >= 500]
    assert seen[422] and (seen[200] if mode is GenerationMode.POSITIVE else True)
