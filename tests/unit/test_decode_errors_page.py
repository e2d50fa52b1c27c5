"""The decode errors' member of a local result page is typed under its PAGE_KEY name."""

from __future__ import annotations

from worker.engines.local.page_shapes import SegmentResponse
from worker.media.decode_errors import PAGE_KEY


def test_the_typed_response_names_the_decode_errors_member_by_page_key() -> None:
    assert PAGE_KEY in SegmentResponse.__annotations__
