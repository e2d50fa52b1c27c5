"""Broker connections of the Celery app: kombu's Redis transport, made to survive outages.

celery 5.7.0 / kombu 5.7.0 lose the worker on a Redis outage when the consumer's channel
holds unacknowledged messages with a BRPOP in flight (e.g. 1 task running with
`--concurrency 2`). On the connection error the consumer calls `Connection.collect()`,
whose channel close fails on the dead socket (so the channel stays open) and which then
detaches the transport from its connection (`transport.client = None`); the consumer
then also calls `Connection.close()`, which closes that channel again: it logs
"Restoring 1 unacknowledged message(s)", asks for a Redis client, and kombu builds the
connection parameters from `transport.client.hostname` -> AttributeError. That is not a
connection error, so nothing on the way catches it: "Unrecoverable error", and the
worker stops (and hangs while its pool still runs a task). A task finishing after the
reconnect acks through the same dead channel and fails the same way.

The fix here: a channel whose transport is closed raises redis' ConnectionError, which
every caller on those paths already handles as "broker gone" (kombu's `ignore_errors`,
`maybe_close_channel`, Celery's `ack_log_error`). The messages that could not be restored
stay in Redis' unacked set and come back after the visibility timeout, as after any
restore that fails because Redis is down. tests/reliability/test_broker_outage.py fails
without it. Upstream, kombu#970 and kombu#582 are the same AttributeError from
`_connparams` on a closed transport (shutdown and gossip paths, older versions).
"""

from __future__ import annotations

from typing import Any

from celery.app.amqp import AMQP
from kombu import Connection
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

CLOSED = "the broker connection of this channel is closed"


class RedisChannel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection  # None once the transport dropped the channel
        if transport is None or transport.client is None:
            raise RedisConnectionError(CLOSED)
        # (kombu's annotations miss this method: mypy sees no _connparams to call)
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)  # type: ignore[misc]
        return params


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


class VidxConnection(Connection):
    """kombu's Connection, with RedisTransport for redis:// and rediss:// URLs.

    Chosen here rather than with `broker_transport = "module:Class"`, which would make
    every logged broker URL start with that class path instead of redis://.
    """

    def get_transport_cls(self) -> type:
        cls: type = super().get_transport_cls()
        return RedisTransport if cls is kombu_redis.Transport else cls


class VidxAMQP(AMQP):
    Connection = VidxConnection
