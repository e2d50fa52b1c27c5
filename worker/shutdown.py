"""A stop request by signal, for long-running loops (the SQS poller)."""

from __future__ import annotations

import signal
import threading


def stop_on_signals(*signals: signal.Signals) -> threading.Event:
    """An event SIGTERM and SIGINT (or `signals`) set instead of killing the process, so a
    loop ends after its current step."""
    stop = threading.Event()
    for sig in signals or (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop
