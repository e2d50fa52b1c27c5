"""The Celery app. Configured lazily from Settings: eager (in-process) without a broker."""

from __future__ import annotations

from typing import TypedDict

from celery import Celery

from worker.liveness import ConsumerHeartbeat, WatchdogStep

# Keep every task well under the Redis visibility timeout (DESIGN.md, Jobs).
VISIBILITY_TIMEOUT_S = 3600


class TransportOptions(TypedDict):
    visibility_timeout: int
    socket_timeout: float
    socket_connect_timeout: float
    socket_keepalive: bool


class RetryPolicy(TypedDict):
    max_retries: int
    interval_start: float
    interval_step: float
    interval_max: float


class BeatEntry(TypedDict):
    task: str
    schedule: float


class CeleryConfig(TypedDict, total=False):
    """The settings vidx gives Celery (`app.conf.update`), by their Celery names."""

    task_acks_late: bool
    task_reject_on_worker_lost: bool
    worker_prefetch_multiplier: int
    task_serializer: str
    accept_content: list[str]
    task_ignore_result: bool
    worker_hijack_root_logger: bool
    broker_connection_retry_on_startup: bool
    task_always_eager: bool
    task_eager_propagates: bool
    broker_url: str
    broker_transport_options: TransportOptions
    broker_connection_retry: bool
    broker_connection_max_retries: int | None
    worker_cancel_long_running_tasks_on_connection_loss: bool
    task_publish_retry: bool
    task_publish_retry_policy: RetryPolicy
    beat_schedule: dict[str, BeatEntry]


def celery_config(broker_url: str | None, reconcile_every_s: float = 60.0) -> CeleryConfig:
    common: CeleryConfig = {
        "task_acks_late": True,  # at-least-once: tasks are idempotent
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,  # state lives in the database, not in results
        "worker_hijack_root_logger": False,
        "broker_connection_retry_on_startup": True,
    }
    if broker_url is None:
        return {**common, "task_always_eager": True, "task_eager_propagates": True}
    return {
        **common,
        "broker_url": broker_url,
        "broker_transport_options": BROKER_TRANSPORT_OPTIONS.copy(),
        # a broker outage is waited out, never given up on (Celery's default: 100 tries,
        # then the worker exits); the liveness watchdog restarts a worker that is stuck
        "broker_connection_retry": True,
        "broker_connection_max_retries": None,
        # keep running tasks when the connection drops: on Redis their messages come back
        # only after the visibility timeout anyway, so cancelling would just lose the work
        # done (Celery still warns that its default changes in 6.0; this pins it)
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        # a task sent during a broker blip (the collect's follow-ups, a backlog start) waits
        # for the broker instead of failing after Celery's default ~1 s of retries, which
        # dropped the follow-up of a collect that had already stored its results
        "task_publish_retry": True,
        "task_publish_retry_policy": PUBLISH_RETRY_POLICY.copy(),
        "beat_schedule": beat_schedule(reconcile_every_s),
    }


BROKER_TRANSPORT_OPTIONS: TransportOptions = {
    "visibility_timeout": VISIBILITY_TIMEOUT_S,
    # a broker that stops answering fails a call (publish, ack, connect) instead of
    # hanging it (and with it the event loop, or a shutdown); the consumer's pending BRPOP
    # is watched by kombu's health check
    "socket_timeout": 10,
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
}


# about 2 minutes of tries (0, 0.5, 1, ... capped at 3 s apart) before a send gives up
PUBLISH_RETRY_POLICY: RetryPolicy = {
    "max_retries": 45,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 3,
}


def beat_schedule(reconcile_every_s: float = 60.0) -> dict[str, BeatEntry]:
    """`vidx beat`: the reconciler finds jobs whose notification was lost (and frees slots
    whose release was lost); draining the backlog starts waiting jobs even if no job
    finished to trigger it (every half reconcile period, at most every 30 s)."""
    return {
        "reconcile": {"task": "vidx.reconcile", "schedule": float(reconcile_every_s)},
        "drain-backlog": {
            "task": "vidx.drain_backlog",
            "schedule": min(30.0, reconcile_every_s / 2),
        },
    }


BEAT_SCHEDULE = beat_schedule()  # the defaults


class VidxCelery(Celery):
    # kombu's Redis transport with the outage fix (worker/broker.py)
    amqp_cls = "worker.broker:VidxAMQP"

    # Celery calls a subclass's on_configure() method (pre-4.0 hook, still supported)
    def on_configure(self) -> None:  # type: ignore[override]
        # read settings when the app is first used, not when this module is imported
        from worker.context import get_context

        settings = get_context().settings
        self.conf.update(celery_config(settings.broker_url, settings.reconcile_every_s))


app = VidxCelery("vidx", include=["worker.tasks"], set_as_current=False)
# `vidx worker`: a heartbeat from the consumer and a watchdog (worker/liveness.py)
app.steps["worker"].add(WatchdogStep)
app.steps["consumer"].add(ConsumerHeartbeat)


def reconfigure(broker_url: str | None, target: Celery | None = None) -> None:
    """Apply settings again (`vidx run` goes in-process; tests switch brokers)."""
    celery = target or app
    # Read the configuration first: updates made before it is loaded are pending, and
    # on_configure's own update from Settings would overwrite them when it loads.
    _ = celery.conf.task_serializer
    from worker.context import get_context

    celery.conf.update(celery_config(broker_url, get_context().settings.reconcile_every_s))
    if broker_url is None:
        celery.conf.update(task_always_eager=True, broker_url=None)
    else:
        celery.conf.update(task_always_eager=False, task_eager_propagates=False)
    # the app keeps the pool it made for the previous broker and would keep sending there;
    # close() drops it (kombu's shared pools are per URL: the next send takes the new one's)
    celery.close()


def check_broker(timeout_s: int = 5) -> None:
    """Raise VidxError unless the broker takes a connection (nothing to check when eager).

    `submit` calls this before it registers anything, so an unreachable broker is one clear
    error line, not a kombu traceback after a video was registered with no work queued.
    """
    from kombu.exceptions import OperationalError

    from worker.errors import VidxError

    if app.conf.task_always_eager:
        return
    with app.connection_for_write() as conn:
        try:
            conn.ensure_connection(
                max_retries=1, interval_start=0, interval_step=1, timeout=timeout_s
            )
        except (OperationalError, OSError) as exc:
            raise VidxError(f"cannot reach the broker at {conn.as_uri()}: {exc}") from None
