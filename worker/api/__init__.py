"""The HTTP API (`vidx serve`): FastAPI over the same read side and services as the CLI."""

from worker.api.app import create_app

__all__ = ["create_app"]
