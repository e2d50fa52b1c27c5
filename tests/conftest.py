"""Shared fixtures: test media, databases (SQLite and PostgreSQL), an app context."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from worker.config import Settings
from worker.context import AppContext, use_context
from worker.engines.port import Feature

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MEDIA = SHARED / "media"
FIXTURES = SHARED / "fixtures" / "rekognition"
# every recorded real Rekognition result: (file under FIXTURES, feature, the item list's key)
RECORDED = [
    ("netflix_93f8/GetSegmentDetection.page1.json", Feature.SEGMENTS, "Segments"),
    ("netflix_93f8/GetContentModeration.page1.json", Feature.MODERATION, "ModerationLabels"),
    ("hawkey999_face/GetFaceDetection.page1.json", Feature.FACES, "Faces"),
    ("labelpy_kfir/GetLabelDetection.page1.json", Feature.LABELS, "Labels"),
]
PG_URL = os.environ.get("VIDX_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

# Nothing a test runs may write into the real user data dir (the default VIDX_DATA_DIR):
# this process and every `vidx` it starts get a throwaway one unless a test names its own,
# and platformdirs' base (XDG_DATA_HOME) points into it too, for code that asks for the default.
_TEST_HOME = Path(tempfile.mkdtemp(prefix="vidx-tests-"))
atexit.register(shutil.rmtree, _TEST_HOME, ignore_errors=True)
os.environ["VIDX_DATA_DIR"] = str(_TEST_HOME / "data")
os.environ["XDG_DATA_HOME"] = str(_TEST_HOME / "xdg")

# The longest modules first (measured with --durations), so that `./scripts/test`'s
# `-n 2 --dist loadfile` hands them out at the start and never ends with one worker alone
# on a long file; the rest keep their order. Module-scoped fixtures are unaffected: a
# module's tests stay together.
LONGEST_FIRST = (
    "tests/reliability/test_broker_outage.py",
    "tests/reliability/test_items.py",
    "tests/integration/test_run.py",
    "tests/reliability/test_held.py",
    "tests/integration/test_damaged_inputs.py",
    "tests/integration/test_rekognition_flow.py",
    "tests/integration/test_worker_e2e.py",
    "tests/integration/test_reference_inputs.py",
    "tests/integration/test_cut_modes.py",
    "tests/integration/test_viewer_browser.py",
    "tests/integration/test_delivery_faults.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {module: i for i, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))
    for item in items:  # `-m "not slow"`: a quick loop without the long modules
        if item.nodeid.partition("::")[0] in rank:
            item.add_marker(pytest.mark.slow)


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def media() -> Path:
    if not MEDIA.is_dir():
        pytest.skip(f"test media not found at {MEDIA} (../shared from the repo root)")
    return MEDIA


@pytest.fixture(scope="session")
def pg_ok() -> bool:
    return _pg_available()


@contextmanager
def fresh_pg_schema(pg_ok: bool, prefix: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not pg_ok:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: start it (see README)")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_ok: bool) -> Iterator[str]:
    with fresh_pg_schema(pg_ok, "t") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vidx.db'}"
    return str(request.getfixturevalue("pg_url"))


def make_context(data_dir: Path, database_url: str | None = None) -> AppContext:
    settings = Settings(data_dir=data_dir, database_url=database_url, broker_url=None)
    return AppContext(settings)


@contextmanager
def installed_context(data_dir: Path, database_url: str) -> Iterator[AppContext]:
    """A migrated context installed for the code under test, Celery eager; disposed after."""
    from worker.celery_app import reconfigure

    context = make_context(data_dir, database_url)
    context.db.upgrade()
    reconfigure(None)
    try:
        with use_context(context):
            yield context
    finally:
        context.db.engine.dispose()


@contextmanager
def context_on(db: str, tmp: Path, pg_ok: bool, prefix: str) -> Iterator[AppContext]:
    """installed_context on SQLite in `tmp` (db "sqlite") or on a fresh PostgreSQL schema:
    for module-scoped fixtures parametrised over both databases."""
    with ExitStack() as stack:
        url = (
            f"sqlite:///{tmp / 'vidx.db'}"
            if db == "sqlite"
            else stack.enter_context(fresh_pg_schema(pg_ok, prefix))
        )
        yield stack.enter_context(installed_context(tmp / "data", url))


@pytest.fixture
def ctx(tmp_path: Path, db_url: str) -> Iterator[AppContext]:
    """A migrated context on each database; Celery eager."""
    with installed_context(tmp_path / "data", db_url) as context:
        yield context


@pytest.fixture
def sqlite_ctx(tmp_path: Path) -> Iterator[AppContext]:
    with installed_context(tmp_path / "data", f"sqlite:///{tmp_path / 'vidx.db'}") as context:
        yield context


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region for moto; no endpoint or profile from the caller."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
