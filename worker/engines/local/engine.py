"""The offline engine: runs detectors on the local file and serves Get*-shaped pages.

Results are kept as one JSON file per job (named by the client token, so a retried
start finds the finished job instead of analysing again), paged on read exactly like
Rekognition: MaxResults items per page, NextToken while more remain.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worker.engines.local.page_shapes import SegmentResponse

if TYPE_CHECKING:
    from worker.engines.local.faces import FaceResponse
    from worker.engines.local.labels import LabelResponse
    from worker.engines.local.moderation import ModerationResponse
    from worker.engines.local.text import TextResponse

    Answer = ModerationResponse | FaceResponse | LabelResponse | TextResponse
from worker.engines.port import (
    ITEMS_KEY,
    PICTURE_FEATURES,
    EngineJobReport,
    EngineJobStatus,
    Feature,
    JobRequest,
    Progress,
    ResultPage,
)
from worker.errors import EngineError, FeatureNotSupportedError
from worker.media.decode_errors import PAGE_KEY
from worker.media.probe import probe

SUPPORTED = frozenset(
    {Feature.SEGMENTS, Feature.LABELS, Feature.MODERATION, Feature.FACES, Feature.TEXT}
)


class LocalEngine:
    name = "local"
    reads_s3 = False

    def __init__(self, results_dir: Path, max_decode_error_ratio: float | None = None) -> None:
        self.results_dir = results_dir
        # over this share of damaged frames a file is refused as corrupt (None: never)
        self.max_decode_error_ratio = max_decode_error_ratio

    def supports(self, feature: Feature) -> bool:
        return feature in SUPPORTED

    def result_path(self, job_id: str) -> Path:
        """Where a job's result is kept (`vidx delete` removes it with the video)."""
        return self._result_path(job_id)

    def _result_path(self, job_id: str) -> Path:
        if not job_id.replace("-", "").replace("_", "").isalnum():
            raise EngineError(f"invalid job id {job_id!r}")
        return self.results_dir / f"{job_id}.json"

    def start(self, request: JobRequest, progress: Progress | None = None) -> str:
        if not self.supports(request.feature):
            raise FeatureNotSupportedError(
                f"the local engine does not detect {request.feature.value} yet "
                f"(available: {', '.join(sorted(f.value for f in SUPPORTED))}); use --engine aws"
            )
        if request.video.path is None:
            raise EngineError(
                f"video {request.video.video_id}: the local engine needs a local file"
            )
        job_id = request.client_token
        target = self._result_path(job_id)
        if target.exists():  # same token, same parameters: the job already ran
            return job_id
        self.start_many([request], progress)
        return job_id

    def start_many(self, requests: Sequence[JobRequest], progress: Progress | None = None) -> None:
        """Start jobs of one video together: one decode feeds every picture model
        (vision.one_pass) and the segment engine (together.py), each result kept under its
        own token as `start` would. A file refused while decoding (too damaged) leaves no
        result for any of them."""
        todo = [r for r in requests if not self._result_path(r.client_token).exists()]
        for r in todo:
            if not self.supports(r.feature):
                raise EngineError(f"the local engine does not detect {r.feature.value}")
            if r.video.path is None or r.video.path != todo[0].video.path:
                raise EngineError("jobs started together must read the same local file")
        if not todo:
            return
        segment_jobs = [r for r in todo if r.feature is Feature.SEGMENTS]
        if len(segment_jobs) > 1:
            raise EngineError("one segment job at a time per video")
        from worker.engines.local.faces import FacesRun
        from worker.engines.local.labels import LabelsRun
        from worker.engines.local.moderation import ModerationRun
        from worker.engines.local.segments import SegmentParams, analyse
        from worker.engines.local.text import TextRun
        from worker.engines.local.vision import PictureRun, one_pass
        from worker.engines.text_params import text_filters

        path = todo[0].video.path
        assert path is not None
        info = probe(path)
        kinds: dict[Feature, Callable[..., PictureRun]] = {
            Feature.FACES: FacesRun,
            Feature.LABELS: LabelsRun,
            Feature.MODERATION: ModerationRun,
            Feature.TEXT: lambda **params: TextRun(text_filters(params)),
        }
        pictures = [r for r in todo if r.feature in PICTURE_FEATURES]
        runs = [kinds[r.feature](**r.params) for r in pictures]
        results: list[tuple[JobRequest, SegmentResponse | Answer]] = []
        if segment_jobs:
            (job,) = segment_jobs
            params = dict(job.params)
            types = params.pop("segment_types", SegmentParams.types)
            segments = analyse(
                path,
                info,
                SegmentParams.of(types, **params),
                runs,
                progress,
                self.max_decode_error_ratio,
            )
            results.append((job, segments))
        else:
            one_pass(path, info, runs, progress)
        for r, run in zip(pictures, runs, strict=True):
            assert isinstance(run, FacesRun | LabelsRun | ModerationRun | TextRun)
            results.append((r, run.response(info)))
        for r, response in results:
            self._write(self._result_path(r.client_token), response)

    def _write(self, target: Path, response: SegmentResponse | Answer) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(response, fh)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def state(self, feature: Feature, job_id: str) -> EngineJobReport:
        if self._result_path(job_id).exists():
            return EngineJobReport(EngineJobStatus.SUCCEEDED)
        return EngineJobReport(EngineJobStatus.FAILED, f"no local result for job {job_id}")

    def pages(self, feature: Feature, job_id: str, max_results: int = 1000) -> Iterator[ResultPage]:
        path = self._result_path(job_id)
        try:
            response: dict[str, Any] = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise EngineError(f"no local result for job {job_id}") from exc
        key = ITEMS_KEY[feature]
        items = response.get(key, [])
        offset = 0
        while True:
            page = {**response, key: items[offset : offset + max_results]}
            if offset:  # the decode errors are the video's: told once, on the first page
                page.pop(PAGE_KEY, None)
            offset += max_results
            if offset < len(items):
                page["NextToken"] = str(offset)
            yield page
            if offset >= len(items):
                return
