"""reconfigure(): the broker it sets is the one tasks are sent to, whenever it is called."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_context
from worker.celery_app import VidxCelery, reconfigure
from worker.context import use_context


def test_reconfigure_before_first_use_is_not_undone_by_the_settings(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, None)
    ctx.settings.broker_url = "redis://127.0.0.1:6379/13"  # what Settings say
    fresh = VidxCelery("t", set_as_current=False)
    with use_context(ctx):
        reconfigure(None, fresh)  # `vidx run`: in-process whatever the settings say
        assert fresh.conf.task_always_eager is True
        assert fresh.conf.broker_url is None


def test_a_new_broker_gets_new_connections(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, None)
    fresh = VidxCelery("t", set_as_current=False)
    with use_context(ctx):
        reconfigure("redis://127.0.0.1:6379/13", fresh)
        with fresh.pool.acquire(block=True) as conn:
            assert conn.as_uri().endswith("/13")
        reconfigure("redis://127.0.0.1:6379/14", fresh)
        with fresh.pool.acquire(block=True) as conn:
            assert conn.as_uri().endswith("/14")
        assert fresh.conf.task_always_eager is False


def test_the_broker_connection_survives_a_closed_transport(tmp_path: Path) -> None:
    """The celery/kombu 5.7.0 crash (worker/broker.py): a channel left open by a failed
    collect() is closed after its transport was detached, restores its unacked messages
    and kombu read `transport.client.hostname` -> AttributeError. Through the vidx app
    that is a connection error, which every caller on the way handles."""
    ctx = make_context(tmp_path, None)
    fresh = VidxCelery("t", set_as_current=False)
    with use_context(ctx):
        reconfigure("redis://127.0.0.1:6379/13", fresh)
        conn = fresh.connection_for_write()
        assert conn.as_uri().startswith("redis://")  # logs still name the broker's URL
        channel = conn.default_channel  # connects (the machine's Redis)
        conn.collect()  # what the consumer does when the connection is lost
        with pytest.raises(conn.connection_errors) as raised:
            channel.qos.restore_unacked()  # what Channel.close() does with unacked messages
        assert not isinstance(raised.value, AttributeError)
        assert "closed" in str(raised.value)


@pytest.mark.integration
def test_a_task_sent_during_a_broker_blip_waits_for_the_broker(tmp_path: Path) -> None:
    """A follow-up task sent while Redis restarts is queued once it is back. Celery's
    default publish policy gave up after ~0.6 s, failing a collect that had already stored
    its results (issue 10, item 2)."""
    import threading

    import redis

    from tests.reliability.redis_server import RedisServer

    server = RedisServer(tmp_path / "redis")
    server.start()
    ctx = make_context(tmp_path, None)
    fresh = VidxCelery("t", set_as_current=False)
    back = threading.Timer(3.0, server.start)  # down 3 s, far past the old ~0.6 s
    try:
        with use_context(ctx):
            reconfigure(server.url(0), fresh)
            with fresh.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1)
            server.kill()
            back.start()
            fresh.send_task("vidx.drain_backlog")
            back.join()
            queued = redis.Redis.from_url(server.url(0)).llen("celery")
        assert queued == 1
    finally:
        back.cancel()  # never start a server after the test (a failed send returns early)
        back.join()
        fresh.close()
        server.stop()


def test_the_reconcile_period_is_a_setting(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, None)
    ctx.settings.reconcile_every_s = 5
    fresh = VidxCelery("t", set_as_current=False)
    with use_context(ctx):
        reconfigure("redis://127.0.0.1:6379/13", fresh)
        schedule = fresh.conf.beat_schedule
    assert schedule["reconcile"]["schedule"] == 5.0
    assert schedule["drain-backlog"]["schedule"] == 2.5  # twice per reconcile, at most 30 s
