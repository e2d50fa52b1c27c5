"""The timeline document as JSON: the format `vidx timeline` has always printed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def dumps(obj: Any) -> str:
    """Indented UTF-8 JSON (no trailing newline); the CLI's JSON output uses it too."""
    return json.dumps(obj, indent=2, ensure_ascii=False)


def write_json(doc: Mapping[str, Any]) -> str:
    return dumps(doc) + "\n"
