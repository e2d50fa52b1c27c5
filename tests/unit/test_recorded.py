"""The import's knowledge of Get* responses, checked against botocore's service model."""

from __future__ import annotations

import botocore.session
import pytest

from worker.engines.port import Feature
from worker.engines.rekognition import GET_OPERATIONS
from worker.pipeline.recorded import RESPONSES, operations_of


@pytest.fixture(scope="module")
def model() -> botocore.model.ServiceModel:
    return botocore.session.get_session().get_service_model("rekognition")


@pytest.mark.parametrize("operation", RESPONSES)
def test_members_are_the_models(model: botocore.model.ServiceModel, operation: str) -> None:
    members = set(model.operation_model(operation).output_shape.members)
    assert RESPONSES[operation] == members


def test_every_video_get_operation_is_known(model: botocore.model.ServiceModel) -> None:
    """A page of any Rekognition Video Get* operation is named, so a wrong one is said."""
    video_gets = {
        op
        for op in model.operation_names
        if op.startswith("Get") and "JobStatus" in model.operation_model(op).output_shape.members
    }
    assert video_gets == set(RESPONSES)
    assert set(GET_OPERATIONS) == set(Feature)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"JobStatus", "Labels"}, ["GetLabelDetection"]),
        ({"JobStatus", "Faces", "Labels"}, ["GetLabelDetection", "GetFaceDetection"]),
        ({"JobStatus", "Segments"}, []),  # SelectedSegmentTypes is on every segments page
        ({"JobStatus", "Segments", "SelectedSegmentTypes"}, ["GetSegmentDetection"]),
        ({"JobStatus", "Persons"}, ["GetFaceSearch", "GetPersonTracking"]),
        ({"JobStatus", "VideoMetadata"}, []),
    ],
)
def test_operations_of(keys: set[str], expected: list[str]) -> None:
    assert operations_of(dict.fromkeys(keys)) == expected
