"""A vidx stack of real processes for the fault suite and `benchmarks/faults.py`.

    aws_server (moto + the fake Rekognition)   private redis-server (broker + job slots)
    PostgreSQL schema of its own (application_name marks the stack's connections)
    `vidx aws setup`, `vidx db upgrade`, then `vidx worker`, `vidx poll`, `vidx beat`

each with a log file under the stack's root, plus the moves a fault test makes: plant
results for a video, submit, kill Redis for a while, terminate the stack's PostgreSQL
backends, SIGKILL the worker and start it again, wait for the videos with a deadline,
and read what happened: the jobs and detections in the database, the fake's record.

Everything is read from outside the processes under test: the database with plain SQL
(no model imports, so an older commit's schema reads the same), the fake over HTTP
(FakeControl), Redis with redis-py. `StackOptions.code` runs the vidx processes from
another tree (an exported commit, for "before" figures); the fake always comes from
this checkout.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import redis
from sqlalchemy import Engine, create_engine, make_url, text

from tests.compose import vidx_argv
from tests.e2e_support import clean_env, start, stop
from tests.reliability.redis_server import RedisServer
from worker.aws.s3 import object_key
from worker.media.hashing import sha256_file
from worker.testing.fake_control import FakeControl

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO.parent / "shared" / "fixtures" / "rekognition"
SLOTS_KEY = "vidx:slots"  # worker/aws/limiter.py RedisJobSlots' sorted set
DONE = ("SUCCEEDED", "FAILED")
QUIET_FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]


@dataclass(frozen=True)
class StackOptions:
    limit: int = 3  # VIDX_MAX_CONCURRENT_JOBS
    job_seconds: float = 1.0  # how long a fake job runs (aws_server --complete-after-s)
    concurrency: int = 2  # vidx worker --concurrency
    reconcile_after_s: int = 5  # the reconciler asks Get* after this wait
    # beat's reconcile period and how long the poller hides a notification whose hand-off
    # failed (None: vidx's defaults, 60 s and 30 s, as in production)
    reconcile_every_s: float | None = 5.0
    sqs_retry_s: int | None = 2
    collect_lease_s: int = 10  # a dead collector's hold on its job (the least allowed)
    retry_backoff_s: float = 0.5  # first pipeline backoff after a transient error
    sqs_wait_s: int = 1  # poller long-poll
    redis_persist: bool = True  # an outage is a crash with an append-only file, not a wipe
    code: Path = REPO  # the tree the vidx processes import from
    label: str = "rel"  # in schema, application_name and the bucket name


@dataclass
class JobRow:
    id: int
    video_id: str
    feature: str
    state: str
    message: str | None
    engine_job_id: str | None
    finished_at: float | None  # epoch seconds (this machine's clock, as the fake's record)


@dataclass
class Outcome:
    """What a run left behind, read from the database, Redis and the fake."""

    statuses: dict[str, str]  # video id -> INDEXED | FAILED | PROCESSING
    jobs: list[JobRow]
    rows: dict[int, int]  # job id -> detection rows
    distinct_items: dict[int, int]  # job id -> distinct (page, item)
    served: dict[int, int | None]  # job id -> items the fake's Get* serves (None: unknown)
    max_in_flight: int
    fake_jobs_started: Counter[str]  # fake jobs per (Start* operation, S3 key)
    slots_held: int | None
    failed: dict[int, str] = field(default_factory=dict)  # job id -> message

    @property
    def indexed(self) -> int:
        return sum(s == "INDEXED" for s in self.statuses.values())

    @property
    def stored(self) -> int:
        return sum(self.rows.values())

    @property
    def planted(self) -> int:
        return sum(n or 0 for n in self.served.values())

    def wrong_counts(self) -> dict[int, tuple[int, int | None]]:
        """Jobs whose stored rows differ from what the fake served: id -> (stored, served)."""
        return {
            j.id: (self.rows.get(j.id, 0), self.served.get(j.id))
            for j in self.jobs
            if self.rows.get(j.id, 0) != self.served.get(j.id)
        }

    def duplicate_rows(self) -> int:
        """Rows beyond one per (job, page, item), plus rows beyond what the fake served."""
        repeated = sum(self.rows[j] - self.distinct_items[j] for j in self.rows)
        extra = sum(
            max(0, self.rows.get(j.id, 0) - (self.served.get(j.id) or 0)) for j in self.jobs
        )
        return repeated + extra

    def twice_started(self) -> int:
        """Jobs the fake ran more than once for one vidx job (a paid job wasted)."""
        return sum(n - 1 for n in self.fake_jobs_started.values() if n > 1)


class VideoFactory:
    """Distinct tiny H.264 MP4s: one lavfi encode, remuxed with a unique comment each
    (same pictures, different bytes: vidx keys videos by content hash)."""

    def __init__(self, folder: Path, seconds: float = 2.0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.duration_ms = folder, int(seconds * 1000)
        self.base = folder / "base.mp4"
        source = f"testsrc2=size=320x240:rate=25:duration={seconds}"
        subprocess.run(
            [*QUIET_FFMPEG, "-f", "lavfi", "-i", source,
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(self.base)],
            check=True,
        )  # fmt: skip
        self.made = 0

    def make(self, n: int) -> list[Path]:
        out = []
        for _ in range(n):
            self.made += 1
            path = self.folder / f"v{self.made:03d}.mp4"
            tag = f"comment=vidx-{self.made}-{uuid.uuid4().hex[:8]}"
            subprocess.run(
                [*QUIET_FFMPEG, "-i", str(self.base), "-c", "copy", "-metadata", tag, str(path)],
                check=True,
            )
            out.append(path)
        return out


def labels_response(n: int, duration_ms: int) -> dict[str, Any]:
    """A GetLabelDetection response of n labels (the recorded item's shape), their
    timestamps spread over the video."""
    page = json.loads((FIXTURES / "labelpy_kfir" / "GetLabelDetection.page1.json").read_text())
    [template] = page["Labels"]
    labels = []
    for i in range(n):
        item = copy.deepcopy(template)
        item["Timestamp"] = i * duration_ms // max(n, 1)
        item["Label"]["Name"] = f"Thing{i % 7}"
        item["Label"]["Confidence"] = 50.0 + (i % 4999) / 100.0
        labels.append(item)
    keep = ("JobStatus", "VideoMetadata", "LabelModelVersion")
    return {**{k: page[k] for k in keep}, "Labels": labels}


def pg_url_with_app(database_url: str, application_name: str) -> str:
    """The URL with `application_name` set in its query (psycopg passes it to libpq)."""
    url = make_url(database_url)
    return url.update_query_dict({"application_name": application_name}).render_as_string(
        hide_password=False
    )


class Stack:
    def __init__(self, root: Path, database_url: str, options: StackOptions | None = None) -> None:
        self.options = options or StackOptions()
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.app_name = f"vidx-{self.options.label}-{uuid.uuid4().hex[:8]}"
        self.database_url = pg_url_with_app(database_url, self.app_name)
        observer_url = pg_url_with_app(database_url, self.app_name + "-observer")
        if observer_url.startswith("postgresql://"):
            observer_url = "postgresql+psycopg://" + observer_url.removeprefix("postgresql://")
        self.db: Engine = create_engine(observer_url, pool_pre_ping=True)
        self.redis = RedisServer(root / "redis", persist=self.options.redis_persist)
        self.vidx_cmd = [sys.executable, "-P", "-m", "worker"]  # -P: not this checkout by cwd
        self.env: dict[str, str] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.starts: Counter[str] = Counter()
        self.control: FakeControl | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        opts = self.options
        self._spawn(
            "aws",
            [sys.executable, "-P", "-m", "worker.testing.aws_server", "--port", "0",
             "--complete-after-s", str(opts.job_seconds)],
            "listening on http://",
            extra_env={"PYTHONPATH": str(REPO)},
        )  # fmt: skip
        found = re.search(r"listening on (http://\S+)", self.logs["aws"].read_text())
        assert found, self.logs["aws"].read_text()
        endpoint = found.group(1)
        self.control = FakeControl(endpoint)
        self.redis.start()
        env = clean_env(
            broker_url=self.redis.url(0),
            database_url=self.database_url,
            data_dir=str(self.root / "data"),
            engine="aws",
            sqs_wait_s=str(opts.sqs_wait_s),
            max_concurrent_jobs=str(opts.limit),
            reconcile_after_s=str(opts.reconcile_after_s),
            collect_lease_s=str(opts.collect_lease_s),
            retry_backoff_s=str(opts.retry_backoff_s),
        )
        periods = {"reconcile_every_s": opts.reconcile_every_s, "sqs_retry_s": opts.sqs_retry_s}
        env.update({f"VIDX_{k.upper()}": str(v) for k, v in periods.items() if v is not None})
        env.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            PYTHONPATH=str(opts.code),
        )
        env.pop("AWS_PROFILE", None)
        self.env = env
        bucket = f"vidx-{opts.label}-{uuid.uuid4().hex[:6]}"
        setup = self.vidx(["aws", "setup", "--bucket", bucket])
        assert setup.returncode == 0, setup.stderr
        for line in setup.stdout.splitlines():  # the KEY=value lines a shell would source
            key, _, value = line.partition("=")
            env[key] = shlex.split(value)[0]
        upgrade = self.vidx(["db", "upgrade"])
        assert upgrade.returncode == 0, upgrade.stderr
        self.start_worker()
        self.start_poll()
        self.start_beat()

    def close(self) -> None:
        """SIGTERM every process at once (warm shutdowns overlap), then wait for each."""
        procs = [self.procs.pop(name) for name in reversed(list(self.procs))]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            stop(proc, grace_s=15)
        self.redis.stop()
        self.db.dispose()

    def _spawn(
        self,
        name: str,
        argv: list[str],
        ready: str,
        extra_env: dict[str, str] | None = None,
        timeout_s: float = 60,
    ) -> subprocess.Popen[bytes]:
        self.starts[name] += 1
        n = self.starts[name]
        log = self.root / (f"{name}.log" if n == 1 else f"{name}.{n}.log")
        env = {**(self.env or os.environ), **(extra_env or {})}
        proc = start(argv, env, log, ready, timeout_s)
        self.procs[name], self.logs[log.stem] = proc, log
        return proc

    def vidx(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.vidx_cmd, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )

    @property
    def fake(self) -> FakeControl:
        assert self.control is not None, "the stack is not started"
        return self.control

    # --- the worker ------------------------------------------------------------------
    def start_worker(self) -> None:
        argv = vidx_argv("worker")
        if "--concurrency" in argv:
            argv[argv.index("--concurrency") + 1] = str(self.options.concurrency)
        else:
            argv += ["--concurrency", str(self.options.concurrency)]
        self._spawn("worker", [*self.vidx_cmd, *argv], "ready.")

    def start_poll(self) -> None:
        self._spawn("poll", [*self.vidx_cmd, *vidx_argv("poll")], "polling for completions")

    def start_beat(self) -> None:
        self._spawn("beat", [*self.vidx_cmd, *vidx_argv("beat")], "Starting")

    def restart_exited(self) -> list[str]:
        """Start again each vidx process that exited, as compose's `restart: unless-stopped`
        would; the names restarted."""
        starters = {"worker": self.start_worker, "poll": self.start_poll, "beat": self.start_beat}
        restarted = []
        for name, code in self.alive().items():
            if code is not None and name in starters:
                starters[name]()
                restarted.append(name)
        return restarted

    def kill_worker(self) -> None:
        """SIGKILL the worker's whole process group (the main process and its pool)."""
        proc = self.procs.pop("worker")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)

    def alive(self) -> dict[str, int | None]:
        """Each process's exit code (None while it runs)."""
        return {name: proc.poll() for name, proc in list(self.procs.items())}

    # --- faults ----------------------------------------------------------------------
    def redis_outage(self, seconds: float) -> None:
        """Redis gone (SIGKILL) for `seconds`, then back on the same port."""
        self.redis.kill()
        time.sleep(seconds)
        self.redis.start()

    def kill_pg_backends(self) -> int:
        """Terminate every PostgreSQL backend of this stack's processes; how many."""
        with self.db.begin() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :app AND pid <> pg_backend_pid()"
                    ),
                    {"app": self.app_name},
                ).scalar_one()
            )

    def pg_backends(self) -> int:
        with self.db.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"),
                    {"app": self.app_name},
                ).scalar_one()
            )

    # --- work ------------------------------------------------------------------------
    def object_key(self, video: Path) -> str:
        prefix = self.env.get("VIDX_S3_PREFIX", "vidx")
        return object_key(prefix, sha256_file(video), video.name)

    def plant(self, feature: str, video: Path, response: Any) -> None:
        """Results for every later Start* of `feature` on this file."""
        self.fake.plant((feature, self.object_key(video)), response)

    def plant_labels(self, video: Path, n: int, duration_ms: int) -> None:
        self.plant("labels", video, labels_response(n, duration_ms))

    def submit(self, video: Path, features: Sequence[str]) -> tuple[str, list[int]]:
        res = self.vidx(["submit", str(video), "--features", ",".join(features), "--json"])
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        return str(out["video_id"]), [int(j) for j in out["job_ids"]]

    # --- reading the outcome ---------------------------------------------------------
    def jobs(self, video_ids: Iterable[str] | None = None) -> list[JobRow]:
        with self.db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, video_id, feature, state, message, engine_job_id, "
                    "extract(epoch FROM finished_at) FROM analysis_jobs ORDER BY id"
                )
            ).all()
        wanted = None if video_ids is None else set(video_ids)
        return [
            JobRow(*r[:6], None if r[6] is None else float(r[6]))
            for r in rows
            if wanted is None or r[1] in wanted
        ]

    def states(self, video_ids: Iterable[str] | None = None) -> Counter[str]:
        return Counter(j.state for j in self.jobs(video_ids))

    def detection_counts(self) -> tuple[dict[int, int], dict[int, int]]:
        """Per job: rows, and distinct (page_index, item_index) pairs."""
        with self.db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT job_id, count(*), count(DISTINCT (page_index, item_index)) "
                    "FROM detections GROUP BY job_id"
                )
            ).all()
        return {r[0]: int(r[1]) for r in rows}, {r[0]: int(r[2]) for r in rows}

    def slots_held(self) -> int | None:
        """Members of the job-slot set (None while Redis is down)."""
        client = redis.Redis(port=self.redis.port, socket_timeout=1, socket_connect_timeout=1)
        try:
            return int(client.zcard(SLOTS_KEY))
        except redis.RedisError:
            return None
        finally:
            client.close()

    def queue_depth(self) -> int:
        """Completion notifications waiting in SQS or being handled (in flight)."""
        sqs = boto3.client(
            "sqs",
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        attrs = sqs.get_queue_attributes(
            QueueUrl=self.env["VIDX_SQS_QUEUE_URL"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    @staticmethod
    def video_statuses(jobs: Iterable[JobRow]) -> dict[str, str]:
        """vidx's rule (worker/query.py video_status) for videos without clips."""
        by_video: dict[str, list[str]] = {}
        for j in jobs:
            by_video.setdefault(j.video_id, []).append(j.state)
        return {
            v: "FAILED"
            if "FAILED" in states
            else "INDEXED"
            if all(s == "SUCCEEDED" for s in states)
            else "PROCESSING"
            for v, states in by_video.items()
        }

    def outcome(self, video_ids: Iterable[str] | None = None) -> Outcome:
        ids = None if video_ids is None else list(video_ids)
        jobs = self.jobs(ids)
        rows, distinct = self.detection_counts()
        record = self.fake.record()
        items = {j["JobId"]: j["Items"] for j in record["jobs"]}
        started: Counter[str] = Counter(
            f"{j['API']} {j['Params']['Video']['S3Object']['Name']}" for j in record["jobs"]
        )
        return Outcome(
            statuses=self.video_statuses(jobs),
            jobs=jobs,
            rows={j.id: rows.get(j.id, 0) for j in jobs},
            distinct_items={j.id: distinct.get(j.id, 0) for j in jobs},
            served={j.id: items.get(j.engine_job_id or "") for j in jobs},
            max_in_flight=int(record["max_in_flight"]),
            fake_jobs_started=started,
            slots_held=self.slots_held(),
            failed={j.id: j.message or "" for j in jobs if j.state == "FAILED"},
        )

    # --- waiting ---------------------------------------------------------------------
    def tails(self, chars: int = 3000) -> str:
        parts = [f"--- {name}\n{log.read_text(errors='replace')[-chars:]}" for name, log in
                 self.logs.items()]  # fmt: skip
        return "\n".join([*parts, f"--- redis\n{self.redis.tail(chars)}"])

    def wait_until(
        self, ready: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.25
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not ready():
            if time.monotonic() > deadline:
                exited = {name: code for name, code in self.alive().items() if code is not None}
                gone = f" (processes exited: {exited})" if exited else ""
                raise AssertionError(f"not {what} in {timeout_s} s{gone}\n{self.tails()}")
            time.sleep(every_s)

    def wait_done(self, video_ids: Sequence[str], timeout_s: float) -> dict[str, str]:
        """Wait until every job of these videos SUCCEEDED or FAILED; the video statuses."""

        def done() -> bool:
            jobs = self.jobs(video_ids)
            return len({j.video_id for j in jobs}) == len(set(video_ids)) and all(
                j.state in DONE for j in jobs
            )

        try:
            self.wait_until(done, timeout_s, "done", every_s=0.5)
        except AssertionError as exc:
            states = [(j.id, j.feature, j.state, j.message) for j in self.jobs(video_ids)]
            raise AssertionError(f"jobs: {states}\n{exc}") from None
        return self.video_statuses(self.jobs(video_ids))

    def cli_statuses(self) -> dict[str, str]:
        """`vidx status --json` (recent videos): the statuses as vidx itself reports them."""
        res = self.vidx(["status", "--json"])
        assert res.returncode == 0, res.stderr
        return {v["video_id"]: v["status"] for v in json.loads(res.stdout)}
