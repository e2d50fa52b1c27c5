"""docker-compose.yml, .env.example and the Dockerfile agree with the code they run.

No Docker engine is needed: the files are read as compose reads them and checked against
the `vidx` Typer app and the Settings model. tests/integration/test_worker_e2e.py then runs
the compose worker's command for real.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
import typer
import typer.main

from tests.compose import (
    DOCKERFILE,
    ENV_EXAMPLE,
    as_argv,
    env_example,
    healthcheck_shell,
    load_compose,
    services,
    vidx_services,
)
from worker import heartbeat, liveness
from worker.cli import app
from worker.config import Settings


def resolve(argv: list[str]) -> tuple[list[str], Any]:
    """Walk `vidx ARGV` down the Typer app's groups and parse the options of the command.

    Returns the command path (e.g. ["db", "upgrade"]) and the parsed click context; raises
    AssertionError for an unknown (sub)command and typer.TyperException (click's UsageError,
    vendored by Typer) for a bad option.
    """
    cmd: Any = typer.main.get_command(app)
    path: list[str] = []
    args = list(argv)
    while hasattr(cmd, "commands"):  # a group: `db`, or the app itself
        assert args, f"`vidx {' '.join(path)}` needs a subcommand (has: {sorted(cmd.commands)})"
        name, *args = args
        sub = cmd.commands.get(name)
        assert sub is not None, (
            f"`vidx {' '.join([*path, name])}` is not a vidx command (has: {sorted(cmd.commands)})"
        )
        path.append(name)
        cmd = sub
    return path, cmd.make_context(" ".join(["vidx", *path]), args)


def test_resolve_knows_the_app() -> None:
    # the checker itself: real commands resolve, made-up ones and bad options do not
    assert resolve(["db", "upgrade"])[0] == ["db", "upgrade"]
    assert resolve(["worker", "--concurrency", "3"])[1].params["concurrency"] == 3
    with pytest.raises(AssertionError, match="not a vidx command"):
        resolve(["celery", "worker"])
    with pytest.raises(AssertionError, match="needs a subcommand"):
        resolve(["db"])
    with pytest.raises(typer.TyperException, match="--threads"):
        resolve(["worker", "--threads", "2"])


def test_the_image_entrypoint_is_vidx() -> None:
    # a compose `command` is only vidx arguments if the image's ENTRYPOINT is vidx
    lines = [ln for ln in DOCKERFILE.read_text().splitlines() if ln.startswith("ENTRYPOINT")]
    assert len(lines) == 1, f"{DOCKERFILE}: want exactly one ENTRYPOINT"
    assert json.loads(lines[0].removeprefix("ENTRYPOINT")) == ["vidx"]


def test_vidx_services_run_real_vidx_commands() -> None:
    vidx = vidx_services()
    assert {"migrate", "worker"} <= set(vidx), f"vidx services: {sorted(vidx)}"
    for name, svc in vidx.items():
        assert "command" in svc, f"service {name}: no command (the image would print --help)"
        resolve(as_argv(svc["command"]))
    assert resolve(as_argv(vidx["migrate"]["command"]))[0] == ["db", "upgrade"]
    path, ctx = resolve(as_argv(vidx["worker"]["command"]))
    assert path == ["worker"]
    assert ctx.params["concurrency"] >= 1
    assert resolve(as_argv(vidx["poll"]["command"]))[0] == ["poll"]
    assert resolve(as_argv(vidx["beat"]["command"]))[0] == ["beat"]


BOTO3_VARIABLES = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
}


def test_env_example_sets_only_known_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = Settings.model_config.get("env_prefix")
    assert prefix == "VIDX_"
    variables = env_example()
    assert variables, f"{ENV_EXAMPLE}: no variables"
    for key in variables:
        if key in BOTO3_VARIABLES:  # boto3 reads these itself (DESIGN.md, Settings)
            continue
        assert key.startswith(prefix), f"{ENV_EXAMPLE}: {key} lacks the {prefix} prefix"
        field = key.removeprefix(prefix).lower()
        assert field in Settings.model_fields, (
            f"{ENV_EXAMPLE}: {key} is not a setting (known: {sorted(Settings.model_fields)})"
        )
    # and the values validate, read the way the containers read them
    for key in list(Settings.model_fields):
        monkeypatch.delenv(prefix + key.upper(), raising=False)
    for key, value in variables.items():
        if key.startswith(prefix):
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.broker_url, "the compose stack needs a broker for `vidx worker`"
    assert settings.database_url, "the compose stack's database is PostgreSQL, not SQLite"


def test_compose_sets_only_known_settings() -> None:
    for name, svc in vidx_services().items():
        env = svc.get("environment") or {}
        keys = list(env) if isinstance(env, dict) else [e.partition("=")[0] for e in env]
        for key in keys:
            if key.startswith("VIDX_"):
                field = key.removeprefix("VIDX_").lower()
                assert field in Settings.model_fields, f"service {name}: unknown {key}"


def _is_one_shot(svc: dict[str, Any]) -> bool:
    # quoted on purpose: YAML 1.1 reads a bare `no` as false, which compose rejects
    return svc.get("restart") == "no"


def test_every_service_is_health_checked_or_one_shot() -> None:
    for name, svc in services().items():
        check = svc.get("healthcheck")
        if check is not None and not check.get("disable"):
            assert check.get("test"), f"service {name}: healthcheck without a test"
        else:
            assert _is_one_shot(svc), f"service {name}: no healthcheck and not a one-shot"


def test_depends_on_names_services_in_the_right_condition() -> None:
    svcs = services()
    for name, svc in svcs.items():
        deps = svc.get("depends_on") or {}
        conditions = (
            {d: "service_started" for d in deps}
            if isinstance(deps, list)
            else {d: (spec or {}).get("condition", "service_started") for d, spec in deps.items()}
        )
        for dep, condition in conditions.items():
            assert dep in svcs, f"service {name} depends on unknown service {dep}"
            assert dep != name, f"service {name} depends on itself"
            if condition == "service_healthy":
                assert "healthcheck" in svcs[dep], f"{name} waits for {dep} healthy: no check"
            elif condition == "service_completed_successfully":
                assert _is_one_shot(svcs[dep]), f"{name} waits for {dep} to finish: not one-shot"
            else:
                assert condition == "service_started", f"service {name}: {condition!r}"


def test_named_volumes_are_declared() -> None:
    declared = set(load_compose().get("volumes") or {})
    for name, svc in services().items():
        for vol in svc.get("volumes") or []:
            source = (vol.get("source") if isinstance(vol, dict) else vol.split(":")[0]) or ""
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"service {name}: volume {source!r} not declared"


RESTARTING = ("always", "unless-stopped", "on-failure")


def test_every_long_running_service_restarts_and_is_health_checked() -> None:
    # compose restarts a process that exits, never one that is merely unhealthy: a stuck
    # worker exits by itself (worker/liveness.py), and then only `restart:` brings it back
    long_running = {n: s for n, s in services().items() if not _is_one_shot(s)}
    assert {"postgres", "redis", "worker", "api", "poll", "beat"} <= set(long_running)
    for name, svc in long_running.items():
        assert svc.get("restart") in RESTARTING, f"service {name}: restart {svc.get('restart')!r}"
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"service {name}: no healthcheck"
    assert services()["migrate"].get("restart") == "no"


def test_vidx_healthchecks_check_their_own_service() -> None:
    # the worker, poll and beat services check their own process's heartbeat, by the name
    # `vidx health` knows; the worker's is per host (replicas share the data volume)
    for name in ("worker", "poll", "beat"):
        argv = shlex.split(healthcheck_shell(name))
        assert argv[0] == "vidx", f"service {name}: healthcheck {argv}"
        path, ctx = resolve(argv[1:])
        assert path == ["health"], argv
        assert ctx.params["name"] == name, argv
        assert ctx.params["name"] in heartbeat.NAMES
        assert ctx.params["max_age"] > liveness.BEAT_S, argv


@pytest.mark.integration
def test_compose_redis_keeps_queued_tasks_across_a_crash(tmp_path: Any) -> None:
    """The compose Redis command, run as a process: a task queued before a SIGKILL is still
    queued after the restart (append-only file in the service's volume)."""
    import signal
    import socket
    import subprocess
    import time

    import redis

    svc = services()["redis"]
    argv = as_argv(svc["command"])
    assert argv[0] == "redis-server" and "--appendonly" in argv
    assert any(str(v).endswith(":/data") for v in svc.get("volumes") or [])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = [*argv, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return proc
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)

    proc = start()
    try:
        redis.Redis(port=port).lpush("celery", "a task")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc = start()
        assert redis.Redis(port=port).lrange("celery", 0, -1) == [b"a task"]
    finally:
        proc.kill()
        proc.wait(10)
