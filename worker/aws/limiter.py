"""Job slots: at most `limit` Rekognition jobs in flight across every worker.

Rekognition allows 20 concurrent stored-video jobs per account; a 21st Start* fails with
LimitExceededException. Workers take a slot before Start* and give it back when the job
is collected. A slot is a *lease*: a worker that dies holding one does not leak it
forever; the slot comes back when the lease runs out unless the holder renews it.

Keys are job identities (e.g. the client request token), so acquiring again with the
same key is idempotent: a retried task does not take a second slot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis


class JobSlots(Protocol):
    def acquire(self, key: str) -> bool:
        """Take (or keep) a slot for `key`; False when all slots are held by others."""
        ...

    def release(self, key: str) -> None: ...

    def renew(self, key: str) -> bool:
        """Extend `key`'s lease; False when it had lapsed and the slots are now full."""
        ...

    def in_use(self) -> int: ...


# One script for acquire and renew, run atomically by Redis so no two workers can both
# see "19 in use" and both add. Times are Redis server time (TIME) unless the caller
# passes one (tests), so workers' clock skew cannot stretch or cut leases.
_ACQUIRE = """
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local expiry = now + tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1])
   or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], expiry, ARGV[1])
  return 1
end
return 0
"""

_IN_USE = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""

Clock = Callable[[], float]  # seconds


class RedisJobSlots:
    """Slots shared by every worker: one sorted set, member = key, score = lease expiry."""

    def __init__(
        self,
        redis_client: redis.Redis,
        limit: int,
        lease_s: float,
        name: str = "vidx:slots",
        *,
        clock: Clock | None = None,
    ) -> None:
        if limit < 1 or lease_s <= 0:
            raise ValueError("limit must be >= 1 and lease_s > 0")
        self._redis = redis_client
        self.limit = limit
        self.lease_s = lease_s
        self.name = name
        self._clock = clock  # None: Redis server time
        self._acquire = redis_client.register_script(_ACQUIRE)
        self._in_use = redis_client.register_script(_IN_USE)

    def _now(self) -> str:
        return "" if self._clock is None else repr(self._clock())

    def acquire(self, key: str) -> bool:
        args: list[str | int] = [key, self._now(), repr(float(self.lease_s)), self.limit]
        return bool(self._acquire(keys=[self.name], args=args))

    def renew(self, key: str) -> bool:
        # Same script on purpose: a lapsed lease is taken back if a slot is free, because
        # the job it guards is still running at Rekognition and counts against the limit.
        return self.acquire(key)

    def release(self, key: str) -> None:
        self._redis.zrem(self.name, key)

    def in_use(self) -> int:
        return int(self._in_use(keys=[self.name], args=[self._now()]))


class LocalJobSlots:
    """The same semantics inside one process, for the embedded (no Redis) mode."""

    def __init__(self, limit: int, lease_s: float, *, clock: Clock = time.monotonic) -> None:
        if limit < 1 or lease_s <= 0:
            raise ValueError("limit must be >= 1 and lease_s > 0")
        self.limit = limit
        self.lease_s = lease_s
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def _drop_expired(self, now: float) -> None:
        for key in [k for k, exp in self._expiry.items() if exp <= now]:
            del self._expiry[key]

    def acquire(self, key: str) -> bool:
        with self._lock:
            now = self._clock()
            self._drop_expired(now)
            if key in self._expiry or len(self._expiry) < self.limit:
                self._expiry[key] = now + self.lease_s
                return True
            return False

    def renew(self, key: str) -> bool:
        return self.acquire(key)

    def release(self, key: str) -> None:
        with self._lock:
            self._expiry.pop(key, None)

    def in_use(self) -> int:
        with self._lock:
            self._drop_expired(self._clock())
            return len(self._expiry)
