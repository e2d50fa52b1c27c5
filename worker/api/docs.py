"""/docs (Swagger UI) served offline: every asset comes from vidx itself.

FastAPI's own page loads swagger-ui from a CDN, so it is blank without internet. The
assets here come from the `fastapi-offline` package (MIT; it ships swagger-ui-dist 5,
Apache-2.0); only its static folder is used, since its app factory cannot build our
FastAPI subclass. Swagger UI 5 is needed: FastAPI publishes OpenAPI 3.1, which Swagger
UI 4 cannot render. /redoc is off: ReDoc 2 (in the same package) always fetches the
Redocly logo from cdn.redoc.ly, and a page of vidx asks no other site for anything.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline").joinpath("static")))
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")
# no badge fetched from validator.swagger.io: the page makes no request to other sites
SWAGGER_PARAMETERS = {"validatorUrl": None}


def install(app: FastAPI) -> None:
    """Mount the assets and add the page (the app is made with docs_url=None and
    redoc_url=None); the page is not an operation of the published schema."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )
