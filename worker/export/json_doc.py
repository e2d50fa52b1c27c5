"""The timeline document as JSON: the format `vidx timeline` has always printed."""

from __future__ import annotations

import json
from typing import Any

from worker.read_json import timeline_json
from worker.read_model import Timeline


def dumps(obj: Any) -> str:
    """Indented UTF-8 JSON (no trailing newline); the CLI's JSON output uses it too."""
    return json.dumps(obj, indent=2, ensure_ascii=False)


def write_json(tl: Timeline) -> str:
    return dumps(timeline_json(tl)) + "\n"
