"""Is this host's `vidx worker` alive and consuming? A heartbeat, and a watchdog for when not.

- The consumer's event loop touches `<data dir>/heartbeats/worker@<host>` every BEAT_S
  while it is connected (a consumer bootstep: started after the task consumer, stopped
  when the broker connection is lost). `vidx health worker` (the compose healthcheck)
  reads its age. Unlike `celery inspect ping`, this needs no broker round trip, so it
  also tells on a worker whose broker connection or control channel is gone.
- A watchdog thread in the main process exits the worker (status 70, one line on stderr)
  when the consumer has not beaten for VIDX_WORKER_STALL_S, or when a shutdown takes
  longer than that: compose's `restart:` only restarts processes that exit, and a worker
  stuck in a reconnect or a shutdown would otherwise stay up doing nothing. Its tasks
  are acks_late: unacknowledged, they are delivered again.

The prefork pool runs the consumer on Celery's event loop (the hub), so the beat is a
timer of that loop: when the loop stops turning, the beats stop. (A pool without the hub,
e.g. `solo`, would beat from a timer thread; `vidx worker` always uses prefork.)
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import bootsteps
from celery.signals import worker_shutting_down

from worker import heartbeat

BEAT_S = 2.0  # the consumer's heartbeat period
CHECK_S = 1.0  # how often the watchdog looks
EXIT_STALLED = 70  # EX_SOFTWARE

logger = logging.getLogger(__name__)


class Liveness:
    """The consumer's last beat and the start of a shutdown, on a monotonic clock."""

    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.last_beat = clock()  # the first connection has stall_s to come
        self.shutdown_since: float | None = None
        self._file_ok = True

    def beat(self) -> None:
        self.last_beat = self.clock()
        try:
            heartbeat.beat(self.data_dir, "worker")
            self._file_ok = True
        except OSError as exc:  # the healthcheck will say so; the worker carries on
            if self._file_ok:
                logger.warning("cannot write the worker heartbeat file: %s", exc)
            self._file_ok = False

    def shutting_down(self) -> None:
        if self.shutdown_since is None:
            self.shutdown_since = self.clock()

    def verdict(self, stall_s: float) -> str | None:
        """None while all is well, else why the worker has to go (one line)."""
        now = self.clock()
        if self.shutdown_since is not None:
            took = now - self.shutdown_since
            if took > stall_s:
                return f"the shutdown has taken {took:.0f} s (VIDX_WORKER_STALL_S={stall_s:g})"
            return None
        quiet = now - self.last_beat
        if quiet > stall_s:
            return (
                f"the consumer has not beaten for {quiet:.0f} s, no broker connection or a "
                f"stuck event loop (VIDX_WORKER_STALL_S={stall_s:g})"
            )
        return None


def hard_exit(reason: str) -> None:
    """Exit now with EXIT_STALLED: no cleanup, which is what hangs."""
    # the original stderr: Celery redirects sys.stderr into its logger
    stream = sys.__stderr__
    if stream is not None:
        stream.write(f"vidx: error: worker: {reason}; exiting so that it is restarted\n")
        stream.flush()
    _kill_children()  # the pool processes would outlive os._exit
    os._exit(EXIT_STALLED)


def _kill_children() -> None:
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == me:
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            continue


class Watchdog:
    """Looks at a Liveness every check_s; calls `on_stall(reason)` once, then stops."""

    def __init__(
        self,
        liveness: Liveness,
        stall_s: float,
        on_stall: Callable[[str], None] = hard_exit,
        check_s: float = CHECK_S,
    ) -> None:
        self.liveness = liveness
        self.stall_s = stall_s
        self.on_stall = on_stall
        self.check_s = check_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidx-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout_s: float) -> bool:
        """Wait for the thread to end (after on_stall, or stop()); True if it has."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def check(self) -> bool:
        """One look; True when it called on_stall."""
        reason = self.liveness.verdict(self.stall_s)
        if reason is None:
            return False
        self.on_stall(reason)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.check_s):
            if self.check():
                return


class WatchdogStep(bootsteps.StartStopStep):
    """Worker bootstep: makes the worker's Liveness and starts the watchdog before the
    consumer (Celery's Consumer step is last, and blocks in the event loop)."""

    label = "vidx watchdog"

    def __init__(self, w: Any, **kwargs: Any) -> None:
        from worker.context import get_context

        super().__init__(w, **kwargs)
        settings = get_context().settings
        w.vidx_liveness = self.liveness = Liveness(settings.data_dir)
        self.watchdog = Watchdog(self.liveness, settings.worker_stall_s)

    def start(self, w: Any) -> None:
        # SIGTERM/SIGINT: Celery sends this from its signal handler, before anything stops
        worker_shutting_down.connect(self._on_signal, weak=False)
        self.watchdog.start()

    def _on_signal(self, *args: Any, **kwargs: Any) -> None:
        self.liveness.shutting_down()

    def stop(self, w: Any) -> None:
        # any stop (also Celery's own after an unrecoverable error) is a shutdown: it has
        # stall_s to finish; the watchdog keeps watching it
        self.liveness.shutting_down()

    def terminate(self, w: Any) -> None:
        self.liveness.shutting_down()


class ConsumerHeartbeat(bootsteps.StartStopStep):
    """Consumer bootstep: beats every BEAT_S from the event loop while connected."""

    label = "vidx heartbeat"
    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, c: Any, **kwargs: Any) -> None:
        super().__init__(c, **kwargs)
        self.tref: Any = None

    def start(self, c: Any) -> None:
        liveness: Liveness | None = getattr(c.controller, "vidx_liveness", None)
        if liveness is None:  # a worker without WatchdogStep (not `vidx worker`'s app)
            return
        liveness.beat()
        self.tref = c.timer.call_repeatedly(BEAT_S, liveness.beat)

    def stop(self, c: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None

    def shutdown(self, c: Any) -> None:
        self.stop(c)
