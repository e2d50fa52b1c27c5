"""A local AWS for multi-process tests: moto's server plus the fake Rekognition.

    python -m worker.testing.aws_server --port 5000 [--host 127.0.0.1]
    AWS_ENDPOINT_URL=http://127.0.0.1:5000 vidx run ... --engine aws

Serves every moto service (S3, SNS, SQS, IAM, STS, ...) and Rekognition's ten video
operations on one port. Tests in other processes control the fake over HTTP:
POST /_vidx/fake/<action> {"account_id", "region", "arguments": {...}} calls the
FakeRekognition method <action>; FakeControl (worker.testing.fake_control) wraps it.
Prints one line "listening on http://HOST:PORT" when ready (--port 0 picks a free
port) and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from worker.testing.fake_control import PREFIX, FakeControl, FakeControlError
from worker.testing.rekognition import install, set_defaults
from worker.testing.rekognition_notify import deferred_delivery
from worker.testing.rekognition_state import DEFAULT_ACCOUNT, FakeRekognition, fake_rekognition

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


def _plant(fake: FakeRekognition, target: str | list[str], response: Any) -> None:
    fake.plant(target if isinstance(target, str) else (target[0], target[1]), response)


# action -> how it calls the fake (JSON arguments in, JSON-able result out)
ACTIONS: dict[str, Callable[..., Any]] = {
    "configure": FakeRekognition.configure,
    "plant": _plant,
    "finish": FakeRekognition.finish,
    "expire": FakeRekognition.expire,
    "expire_tokens": FakeRekognition.expire_tokens,
    "fail_next": lambda fake, **args: fake.fail_next(**args),
    "throttle_ratio": lambda fake, **args: fake.throttle_ratio(**args),
    "clear_faults": FakeRekognition.clear_faults,
    "notification_fault": FakeRekognition.notification_fault,
    "renotify": FakeRekognition.renotify,
    "announce": FakeRekognition.announce,
    "wait_idle": FakeRekognition.wait_idle,
    "record": FakeRekognition.record,
}


class _AfterResponse:
    """A response body that runs deferred work once the server has written it."""

    def __init__(self, body: Iterable[bytes], then: list[Callable[[], None]]) -> None:
        self._body, self._then = body, then

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            for work in self._then:
                work()


class ControlApp:
    """WSGI: /_vidx/fake/* to the fake's controls, everything else to moto."""

    def __init__(self, moto_app: WSGIApplication) -> None:
        self.moto_app = moto_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(PREFIX):
            return self._control(path[len(PREFIX) :], Request(environ))(environ, start_response)
        with deferred_delivery() as pending:
            body = self.moto_app(environ, start_response)
        return _AfterResponse(body, pending) if pending else body

    def _control(self, action: str, request: Request) -> Response:
        if action not in ACTIONS:
            return _json({"error": f"unknown action {action!r}; known: {sorted(ACTIONS)}"}, 404)
        try:
            payload = request.get_json(force=True, silent=True) or {}
            if request.method == "GET":  # GET /_vidx/fake/record?region=...
                payload = dict(request.args)
            fake = fake_rekognition(
                payload.get("account_id", DEFAULT_ACCOUNT), payload.get("region", "us-east-1")
            )
            result = ACTIONS[action](fake, **payload.get("arguments", {}))
        except (TypeError, ValueError, KeyError, TimeoutError) as exc:
            return _json({"error": f"{type(exc).__name__}: {exc}"}, 400)
        return _json({"result": result}, 200)


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def build_app() -> ControlApp:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    install()
    return ControlApp(DomainDispatcherApplication(create_backend_app))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker.testing.aws_server")
    parser.add_argument("--port", type=int, required=True, help="0: any free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--complete-after-s", type=float, default=0.0, help="job duration")
    parser.add_argument("--manual", action="store_true", help="jobs wait for finish()")
    parser.add_argument("--job-limit", type=int, default=20, help="0: unlimited")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)
    set_defaults(
        complete_after_s=args.complete_after_s,
        auto_complete=not args.manual,
        job_limit=args.job_limit or None,
    )
    server = make_server(
        args.host, args.port, build_app(), threaded=True, request_handler=MotoRequestHandler
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # serve in a thread: shutdown() must be called from another thread than serve_forever
    thread = threading.Thread(target=server.serve_forever, name="aws-server", daemon=True)
    thread.start()
    print(f"listening on http://{args.host}:{server.server_port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    return 0


__all__ = ["ACTIONS", "ControlApp", "FakeControl", "FakeControlError", "build_app", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
