"""In-process analysis for the embedded mode (no broker): off the request, one at a time.

With no broker the enqueue port runs each step at once, so its `analyze` would do the
whole analysis inside the request. The API hands it to this runner's thread instead and
answers 202 at once; with a broker `submit` enqueues as `vidx submit` does and this
runner stays idle.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from worker.context import AppContext

log = logging.getLogger(__name__)


class InProcessRunner:
    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        # one thread: analyses queue up rather than compete for the machine's cores
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidx-analysis")
        self._futures: list[Future[None]] = []

    def enqueue(self, video_id: str, job_ids: list[int]) -> None:
        self._futures = [f for f in self._futures if not f.done()]
        self._futures.append(self._pool.submit(_analyze, self._ctx, video_id, job_ids))

    def busy(self) -> int:
        return sum(not f.done() for f in self._futures)

    def shutdown(self) -> None:
        """Finish the analysis running now; drop the queued ones (their jobs stay PENDING:
        submitting the video again starts them)."""
        if self.busy():
            log.warning("waiting for the running analysis to finish before stopping")
        self._pool.shutdown(wait=True, cancel_futures=True)


def _analyze(ctx: AppContext, video_id: str, job_ids: list[int]) -> None:
    try:
        ctx.enqueue.analyze(video_id, job_ids)  # in-process: runs here, on this thread
    except Exception:
        # the pipeline records job failures itself; this is for the log of anything else
        log.exception("analysis of video %s stopped with an error", video_id)
