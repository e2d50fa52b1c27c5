"""/docs with the network blocked: a real `vidx serve` and Debian's chromium (Playwright),
every request to anything but this machine aborted and recorded. The page must render the
API's operations from vidx's own assets and ask no other site for anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e_support import clean_env, stop
from tests.integration.test_viewer_browser import _serve, browser
from worker.api.docs import ASSETS, ASSETS_DIR

pytestmark = pytest.mark.integration
__all__ = ["browser"]  # the module-scoped chromium fixture, shared with the viewer tests
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("docs")
    env = clean_env(data_dir=str(tmp / "data"), database_url=f"sqlite:///{tmp / 'vidx.db'}")
    proc, url = _serve(env, tmp / "serve.log")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture
def offline_page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page whose requests to other hosts are aborted; the list of those it tried."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).hostname in LOCAL_HOSTS:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, blocked
    context.close()
    assert errors == [], f"script errors in the page: {errors}"


def test_assets_come_from_the_package() -> None:
    for name in ASSETS:
        assert (ASSETS_DIR / name).stat().st_size > 1000, name


def test_swagger_ui_renders_the_operations_offline(
    offline_page: tuple[Any, list[str]], base: str
) -> None:
    page, blocked = offline_page
    page.goto(f"{base}/docs")
    op = page.locator(".opblock-get", has=page.locator("[data-path='/videos/{video_id}']"))
    op.first.wait_for(timeout=20000)
    assert op.first.locator(".opblock-summary-description").text_content() == "Get Video"
    # every operation of the published schema is listed
    schema = httpx.get(f"{base}/openapi.json").json()
    count = sum(len(ops) for ops in schema["paths"].values())
    assert page.locator(".opblock").count() == count
    assert page.locator(".opblock-delete [data-path='/videos/{video_id}']").count() == 1
    assert blocked == []
    # the page's own assets are vidx's
    html = httpx.get(f"{base}/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in html and "cdn" not in html.lower()


def test_assets_are_served_and_not_in_the_schema(base: str) -> None:
    for name in ASSETS:
        res = httpx.get(f"{base}/docs-assets/{name}")
        assert res.status_code == 200 and res.content == (ASSETS_DIR / name).read_bytes(), name
    paths = httpx.get(f"{base}/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]
    # ReDoc is off: it fetches its logo from a CDN whatever its options
    assert httpx.get(f"{base}/redoc").status_code == 404
