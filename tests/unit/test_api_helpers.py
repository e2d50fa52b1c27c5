"""Small parts of the HTTP API: upload names, search window bounds, error statuses, the 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from worker.api import create_app
from worker.api.problems import status_of
from worker.api.routes.detections import parse_time
from worker.api.uploads import safe_name
from worker.config import Settings
from worker.context import AppContext
from worker.errors import (
    ConflictError,
    EngineUnavailableError,
    FeatureNotSupportedError,
    IncompleteError,
    InputError,
    NotFoundError,
    VidxError,
)
from worker.pipeline.gone import VideoDeletedError
from worker.query import InvalidCursorError, InvalidQueryError


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("clip.mp4", "clip.mp4"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\My Film (final).mov", "My_Film_final_.mov"),
        (".hidden.mp4", "hidden.mp4"),
        ("..", "upload"),
        ("", "upload"),
        ("émission spéciale.mp4", "mission_sp_ciale.mp4"),
        ("\uff46\uff55\uff4c\uff4cwidth.mp4", "fullwidth.mp4"),  # NFKC: full-width letters
        ("a\x00b.mp4", "a_b.mp4"),
    ],
)
def test_safe_name(given: str, kept: str) -> None:
    assert safe_name(given) == kept


def test_safe_name_keeps_the_extension_of_a_long_name() -> None:
    name = safe_name("x" * 500 + ".mp4")
    assert len(name) <= 120 and name.endswith(".mp4")


@pytest.mark.parametrize(
    ("text", "ms"),
    [("0", 0), ("90500", 90500), ("00:01:30.500", 90500), ("1:30", 90000), (" 5000 ", 5000)],
)
def test_parse_time(text: str, ms: int) -> None:
    assert parse_time("from", text) == ms


@pytest.mark.parametrize("text", ["1.5", "-5", "abc", "1:xx", "99999999999999999", "9" * 15])
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(InvalidQueryError, match="from="):
        parse_time("from", text)


def test_parse_time_none() -> None:
    assert parse_time("to", None) is None


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (NotFoundError("no video"), 404),
        (InputError("a.mp4", "truncated"), 422),
        (InvalidQueryError("bad window"), 422),
        (InvalidCursorError("bad cursor"), 422),
        (FeatureNotSupportedError("no faces"), 422),
        (EngineUnavailableError("S3 down"), 503),
        (ConflictError("jobs in flight"), 409),
        (VideoDeletedError("v1"), 404),
        (IncompleteError("a file was not removed"), 500),
        (VidxError("anything else"), 400),
    ],
)
def test_status_of(exc: VidxError, status: int) -> None:
    assert status_of(exc) == status


def test_an_unexpected_error_is_a_500_problem_that_leaks_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(AppContext(Settings(data_dir=tmp_path, database_url="sqlite://")))

    def broken() -> None:
        raise RuntimeError("password=hunter2 at /srv/secret/path")

    app.add_api_route("/broken", broken)
    res = TestClient(app, raise_server_exceptions=False).get("/broken")
    assert res.status_code == 500
    assert res.headers["content-type"] == "application/problem+json"
    assert res.json()["title"] == "Internal Server Error"
    assert "hunter2" not in res.text and "/srv" not in res.text
    assert "hunter2" in caplog.text  # the details are in the log


def test_the_timeline_formats_the_api_publishes_are_the_export_packages() -> None:
    """The OpenAPI enum is a Literal (for the schema); it must follow worker.export.FORMATS."""
    from typing import get_args

    from worker.api.routes.videos import TimelineFormat
    from worker.export import FORMATS

    assert set(get_args(TimelineFormat)) == set(FORMATS)
