"""VIDX_DEBUG is read through Settings: on, a command's unexpected error shows its traceback
(the exception escapes); off, it is one line and exit 1."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import typer

from worker.cli.common import handled
from worker.config import Settings
from worker.context import AppContext, use_context
from worker.shutdown import stop_on_signals


def _boom() -> None:
    raise RuntimeError("boom")


def test_debug_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDX_DEBUG", "1")
    assert Settings().debug
    monkeypatch.delenv("VIDX_DEBUG")
    assert not Settings().debug


@pytest.mark.parametrize("debug", [False, True])
def test_handled_debug(tmp_path: Path, debug: bool, capsys: pytest.CaptureFixture[str]) -> None:
    with use_context(AppContext(settings=Settings(debug=debug, data_dir=tmp_path))):
        if debug:
            with pytest.raises(RuntimeError, match="boom"):
                handled(_boom)()
        else:
            with pytest.raises(typer.Exit) as exc:
                handled(_boom)()
            assert exc.value.exit_code == 1
            err = capsys.readouterr().err
            assert err == (
                "vidx: error: internal error: RuntimeError: boom"
                " (VIDX_DEBUG=1 shows the traceback)\n"
            )


def test_stop_on_signals_sets_the_event_instead_of_ending() -> None:
    before = signal.getsignal(signal.SIGUSR1)
    try:
        stop = stop_on_signals(signal.SIGUSR1)
        assert not stop.is_set()
        os.kill(os.getpid(), signal.SIGUSR1)
        assert stop.wait(5)
    finally:
        signal.signal(signal.SIGUSR1, before)
