"""worker/liveness.py: when the watchdog lets the worker be and when it ends it.

A hand-driven clock and a recording on_stall stand in for time and os._exit; the steps
themselves run in a real `vidx worker` in tests/reliability/test_broker_outage.py.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from worker import heartbeat
from worker.liveness import Liveness, Watchdog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watched(tmp_path: Path, stall_s: float = 60) -> tuple[Clock, Liveness, Watchdog, list[str]]:
    clock = Clock()
    live = Liveness(tmp_path, clock=clock)
    stalls: list[str] = []
    return clock, live, Watchdog(live, stall_s, on_stall=stalls.append), stalls


def test_beats_keep_it_alive_and_touch_this_hosts_file(tmp_path: Path) -> None:
    clock, live, dog, stalls = watched(tmp_path)
    for _ in range(10):
        clock.now += 59
        live.beat()
        assert not dog.check()
    assert stalls == []
    file = heartbeat.path(tmp_path, "worker")
    assert file.name == f"worker@{socket.gethostname()}"
    assert file.is_file()
    age = heartbeat.age_s(tmp_path, "worker")
    assert age is not None and age < 60


def test_no_beat_for_longer_than_stall_s_ends_it(tmp_path: Path) -> None:
    clock, live, dog, stalls = watched(tmp_path)
    live.beat()
    clock.now += 60
    assert not dog.check()  # at the limit, not over it
    clock.now += 1
    assert dog.check()
    assert len(stalls) == 1
    assert "has not beaten for 61 s" in stalls[0]
    assert "VIDX_WORKER_STALL_S=60" in stalls[0]


def test_the_first_connection_has_stall_s_to_come(tmp_path: Path) -> None:
    clock, _, dog, stalls = watched(tmp_path)
    clock.now += 60
    assert not dog.check()
    clock.now += 1
    assert dog.check() and stalls


def test_a_shutdown_gets_stall_s_from_its_start_however_old_the_last_beat(
    tmp_path: Path,
) -> None:
    clock, live, dog, stalls = watched(tmp_path)
    clock.now += 59  # quiet for a while (no connection), then SIGTERM
    live.shutting_down()
    clock.now += 60
    assert not dog.check()  # a warm shutdown waiting for its tasks
    live.shutting_down()  # a second stop does not move the start
    clock.now += 1
    assert dog.check()
    assert "the shutdown has taken 61 s" in stalls[0]


def test_the_watchdog_thread_calls_on_stall_once(tmp_path: Path) -> None:
    live = Liveness(tmp_path)  # the real clock
    stalls: list[str] = []
    dog = Watchdog(live, stall_s=0.05, on_stall=stalls.append, check_s=0.01)
    dog.start()
    deadline = time.monotonic() + 30
    while not stalls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert dog.join(30)  # it stops after calling on_stall
    assert len(stalls) == 1


def test_a_stopped_watchdog_calls_nothing(tmp_path: Path) -> None:
    live = Liveness(tmp_path)
    stalls: list[str] = []
    dog = Watchdog(live, stall_s=3600, on_stall=stalls.append, check_s=0.01)
    dog.start()
    dog.stop()
    assert dog.join(30)
    assert stalls == []
