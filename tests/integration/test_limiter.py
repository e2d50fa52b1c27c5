"""Job slots on the real Redis (a database claimed for this module, emptied around each test)
and in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.e2e_support import LOCK_KEY, REDIS_URL
from worker.aws.limiter import JobSlots, LocalJobSlots, RedisJobSlots

pytestmark = pytest.mark.integration


def _empty(client: redis.Redis) -> None:
    """Every key but the claim's lock, so no other test session takes this database."""
    for key in client.scan_iter():
        if key != LOCK_KEY.encode():
            client.delete(key)


@pytest.fixture
def redis_client(broker_db: int) -> Iterator[redis.Redis]:
    # a claimed database, not a fixed one: another session's worker test may be using DB 13
    client = redis.Redis.from_url(f"{REDIS_URL}/{broker_db}")
    _empty(client)
    yield client
    _empty(client)
    client.close()


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Factory = Callable[[int, float, FakeClock | None], JobSlots]


@pytest.fixture(params=["redis", "local"])
def make_slots(request: pytest.FixtureRequest) -> Factory:
    if request.param == "local":

        def local(limit: int, lease_s: float, clock: FakeClock | None) -> JobSlots:
            return LocalJobSlots(limit, lease_s, clock=clock or time.monotonic)

        return local
    client: redis.Redis = request.getfixturevalue("redis_client")

    def remote(limit: int, lease_s: float, clock: FakeClock | None) -> JobSlots:
        return RedisJobSlots(client, limit, lease_s, clock=clock)

    return remote


def test_never_more_than_limit_under_contention(make_slots: Factory) -> None:
    limit, threads, attempts = 3, 8, 200
    slots = make_slots(limit, 60, None)
    lock = threading.Lock()
    held = 0
    peak = 0
    granted = refused = 0
    over: list[int] = []

    def worker(n: int) -> None:
        nonlocal held, peak, granted, refused
        for i in range(attempts):
            key = f"job-{n}-{i}"
            if not slots.acquire(key):
                with lock:
                    refused += 1
                continue
            with lock:
                held += 1
                granted += 1
                peak = max(peak, held)
            time.sleep(0.0005)  # hold it a moment so others collide with it
            seen = slots.in_use()
            if seen > limit:
                over.append(seen)
            with lock:
                held -= 1
            slots.release(key)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert over == [] and peak <= limit
    assert granted + refused == threads * attempts
    assert granted > 0 and refused > 0  # there was contention to survive
    assert slots.in_use() == 0


def test_reacquire_by_the_same_key_is_idempotent(make_slots: Factory) -> None:
    slots = make_slots(2, 60, None)
    assert slots.acquire("a") and slots.acquire("a")
    assert slots.in_use() == 1
    assert slots.acquire("b")
    assert not slots.acquire("c")
    assert slots.acquire("a")  # still its own slot when full
    assert slots.in_use() == 2


def test_release_frees_a_slot(make_slots: Factory) -> None:
    slots = make_slots(1, 60, None)
    assert slots.acquire("a") and not slots.acquire("b")
    slots.release("a")
    slots.release("never-held")  # harmless
    assert slots.in_use() == 0 and slots.acquire("b")


def test_expired_lease_comes_back(make_slots: Factory) -> None:
    clock = FakeClock()
    slots = make_slots(2, 10, clock)
    assert slots.acquire("crashed-1") and slots.acquire("crashed-2")
    assert not slots.acquire("new")
    clock.now += 10.5  # nobody renewed: both workers died
    assert slots.in_use() == 0
    assert slots.acquire("new")


def test_renew_keeps_the_lease_alive(make_slots: Factory) -> None:
    clock = FakeClock()
    slots = make_slots(1, 10, clock)
    assert slots.acquire("a")
    for _ in range(3):
        clock.now += 8
        assert slots.renew("a")
    assert not slots.acquire("b")  # 24 s later, still held thanks to renewals
    clock.now += 11
    assert slots.acquire("b")  # a's lease lapsed; b took the slot
    assert not slots.renew("a")  # and a learns it is over the limit


def test_renew_after_a_lapse_retakes_a_free_slot(make_slots: Factory) -> None:
    clock = FakeClock()
    slots = make_slots(2, 10, clock)
    assert slots.acquire("a")
    clock.now += 20
    assert slots.renew("a") and slots.in_use() == 1


def test_real_short_lease_on_redis_server_time(redis_client: redis.Redis) -> None:
    slots = RedisJobSlots(redis_client, 1, 0.3)  # no clock: Redis TIME decides
    assert slots.acquire("a") and not slots.acquire("b")
    time.sleep(0.45)
    assert slots.acquire("b")
    assert redis_client.zrange("vidx:slots", 0, -1) == [b"b"]


def test_slot_sets_by_name_are_independent(redis_client: redis.Redis) -> None:
    one = RedisJobSlots(redis_client, 1, 60, name="vidx:test:one")
    two = RedisJobSlots(redis_client, 1, 60, name="vidx:test:two")
    assert one.acquire("a") and two.acquire("b")
    assert (one.in_use(), two.in_use()) == (1, 1)


def test_limit_and_lease_are_checked(redis_client: redis.Redis) -> None:
    with pytest.raises(ValueError):
        RedisJobSlots(redis_client, 0, 60)
    with pytest.raises(ValueError):
        LocalJobSlots(1, 0)


def test_release_if_matches_the_version_holders_gave_on_server_time(
    redis_client: redis.Redis,
) -> None:
    # Redis TIME scores have microsecond fractions whose printed digits differ between
    # ZRANGE WITHSCORES and ZSCORE inside a script; text comparison failed ~half the time
    slots = RedisJobSlots(redis_client, 1, 3600)
    for _ in range(200):
        assert slots.acquire("job:1")
        assert slots.release_if("job:1", slots.holders()["job:1"])
        assert slots.in_use() == 0
