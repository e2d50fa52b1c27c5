"""Job slots: at most `limit` Rekognition jobs in flight across every worker.

Rekognition allows 20 concurrent stored-video jobs per account; a 21st Start* fails with
LimitExceededException. Workers take a slot before Start* and give it back when the job
is collected. A slot is a *lease*: a worker that dies holding one does not leak it
forever; the slot comes back when the lease runs out unless the holder renews it.

Keys are job identities (e.g. the client request token), so acquiring again with the
same key is idempotent: a retried task does not take a second slot.

A lost release (Redis unreachable at that moment) is repaired by the reconciler: it
lists the holders and frees those whose job is no longer in flight, each only if its
lease is still the one it saw, so a holder that re-acquired meanwhile keeps its slot.
Redis errors leave this module as SlotsUnavailableError (transient: the step retries).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar, cast

import redis

from worker.errors import SlotsUnavailableError


class JobSlots(Protocol):
    def acquire(self, key: str) -> bool:
        """Take (or keep) a slot for `key`; False when all slots are held by others."""
        ...

    def release(self, key: str) -> None: ...

    def renew(self, key: str) -> bool:
        """Extend `key`'s lease; False when it had lapsed and the slots are now full."""
        ...

    def in_use(self) -> int: ...

    def holders(self) -> dict[str, str]:
        """Every key holding a slot now, with an opaque version of its lease."""
        ...

    def release_if(self, key: str, version: str) -> bool:
        """Release `key` only if its lease is still `version` (from `holders`)."""
        ...


# The start of the scripts that count leases: `now` is ARGV[1] when the caller passes a
# time (tests), else Redis server time (TIME), so workers' clock skew cannot stretch or
# cut leases; the leases that ran out by then are dropped.
_DROP_EXPIRED = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""

# One script for acquire and renew (ARGV: now, key, lease seconds, limit), run
# atomically by Redis so no two workers can both see "19 in use" and both add.
_ACQUIRE = (
    _DROP_EXPIRED
    + """
if redis.call('ZSCORE', KEYS[1], ARGV[2])
   or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  return 1
end
return 0
"""
)

_IN_USE = _DROP_EXPIRED + "return redis.call('ZCARD', KEYS[1])\n"

# Compare-and-release: ZSCORE renders the score the way ZRANGE WITHSCORES did, so an
# unchanged lease compares equal as a string; any acquire or renew since changes it.
# Scores compared as numbers: ZSCORE inside a script and ZRANGE WITHSCORES to the client may
# print one double with different digits (%.17g vs shortest), so text equality failed ~half
# the time and the lease was never released.
_RELEASE_IF = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

Clock = Callable[[], float]  # seconds
P = ParamSpec("P")
R = TypeVar("R")


def _translated(fn: Callable[P, R]) -> Callable[P, R]:
    """redis-py's connection errors stop here, as the project's transient error."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
            raise SlotsUnavailableError(
                f"the job-slot store (Redis) is unreachable: {exc}"
            ) from exc

    return wrapper


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
        self._release_if = redis_client.register_script(_RELEASE_IF)

    def _now(self) -> str:
        return "" if self._clock is None else repr(self._clock())

    @_translated
    def acquire(self, key: str) -> bool:
        args: list[str | int] = [self._now(), key, repr(float(self.lease_s)), self.limit]
        return bool(self._acquire(keys=[self.name], args=args))

    def renew(self, key: str) -> bool:
        # Same script on purpose: a lapsed lease is taken back if a slot is free, because
        # the job it guards is still running at Rekognition and counts against the limit.
        return self.acquire(key)

    @_translated
    def release(self, key: str) -> None:
        self._redis.zrem(self.name, key)

    @_translated
    def in_use(self) -> int:
        return int(self._in_use(keys=[self.name], args=[self._now()]))

    @_translated
    def holders(self) -> dict[str, str]:
        # raw scores (RESP2 bytes): the exact text ZSCORE gives release_if to compare
        pairs = cast(
            list[tuple[bytes, bytes]],
            self._redis.zrange(self.name, 0, -1, withscores=True, score_cast_func=bytes),
        )
        return {_text(k): _text(v) for k, v in pairs}

    @_translated
    def release_if(self, key: str, version: str) -> bool:
        return bool(self._release_if(keys=[self.name], args=[key, version]))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


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

    def holders(self) -> dict[str, str]:
        with self._lock:
            self._drop_expired(self._clock())
            return {k: repr(exp) for k, exp in self._expiry.items()}

    def release_if(self, key: str, version: str) -> bool:
        with self._lock:
            if key in self._expiry and repr(self._expiry[key]) == version:
                del self._expiry[key]
                return True
            return False
