"""Long-running parts put together from the context: the completion poller.

The context (worker/context.py) holds the settings, the clients and the enqueue port;
this builds what `vidx poll` runs from them, so the use cases in worker/service.py
never build clients themselves.
"""

from __future__ import annotations

from worker.aws.poller import Poller
from worker.aws.sns import CachedCertFetcher, RekognitionNotification
from worker.context import AppContext
from worker.errors import VidxError
from worker.pipeline.notify import job_to_collect, keep_dead_letter


def build_poller(ctx: AppContext) -> Poller:
    """The completion poller: SQS messages -> collect tasks; unusable ones -> dead letters."""
    s = ctx.settings
    if not s.sqs_queue_url:
        raise VidxError("VIDX_SQS_QUEUE_URL is not set: `vidx aws setup` prints the settings")
    verify = s.sns_verify_signature
    if verify is None:  # real AWS signs; a local endpoint (moto) does not
        verify = not s.aws_endpoint_url

    def hand_off(note: RekognitionNotification) -> None:
        job_id = job_to_collect(ctx, note)
        if job_id is not None:
            ctx.enqueue.collect_job(job_id)

    def dead_letter(body: str, reason: str, message_id: str | None) -> None:
        keep_dead_letter(ctx, body, reason, message_id)

    return Poller(
        ctx.aws.sqs,
        s.sqs_queue_url,
        hand_off,
        expected_topic_arn=s.sns_topic_arn,
        verify=verify,
        cert_fetcher=CachedCertFetcher() if verify else None,
        dead_letter=dead_letter,
        wait_s=s.sqs_wait_s,
        retry_backoff_s=s.sqs_retry_s,
    )
