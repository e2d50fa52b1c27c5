"""Load under faults (issue 10): many videos through the real-process stack, every fault at once.

The stack of tests/reliability/stack.py (aws_server with the fake Rekognition, a private
redis-server, a PostgreSQL schema of its own, `vidx aws setup`, `vidx db upgrade`,
`vidx worker --concurrency 2`, `vidx poll`, `vidx beat`). Every video gets segments (the
fake computes them from the file) and labels (N planted, paged 1000 at a time). Faults:
every completion notification delivered COPIES times, a fraction of all Start*/Get*
calls throttled, once the submissions are in a Redis outage (SIGKILL, back after S s,
its append-only file kept), later a kill of every PostgreSQL backend of the stack
(pg_terminate_backend, by application_name) while a job is being collected.

Printed: videos INDEXED, detections stored vs what the fake served (must be equal),
duplicate rows, jobs the fake ran twice, the most jobs in flight at the fake (<= limit),
slot utilisation while the backlog is non-empty (samples every 0.5 s while any job is
PENDING: mean jobs IN_PROGRESS at the fake / limit, and mean slots held in Redis / limit),
jobs per minute, FAILED jobs' messages, processes that died.

    .venv/bin/python benchmarks/faults.py                 # the issue's run (~5 min)
    .venv/bin/python benchmarks/faults.py --quick         # 6 videos, short outage (~1.5 min)
    .venv/bin/python benchmarks/faults.py --rev d551de8   # vidx processes from that commit

`--rev` exports the commit (git archive) and runs the vidx processes from it; the fake
and this harness come from the checkout. Exit status 1 when an invariant failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.reliability, when run as a script

from tests.conftest import _pg_available, fresh_pg_schema  # noqa: E402
from tests.reliability.stack import Outcome, Stack, StackOptions, VideoFactory  # noqa: E402

FEATURES = ("segments", "labels")


@dataclass
class Sample:
    t: float
    pending: int
    done: int
    db_in_flight: int  # jobs STARTING, IN_PROGRESS or COLLECTING in the database
    fake_in_flight: int | None  # jobs IN_PROGRESS at the fake (Rekognition's view)
    slots: int | None  # members of the slot set in Redis (None while it is down)


@dataclass
class Sampler:
    """Every `every_s`: the jobs' states (database), jobs IN_PROGRESS at the fake, slots
    held in Redis. Read failures give None fields; the sampler never stops the run."""

    stack: Stack
    supervise: bool = False  # restart exited vidx processes (compose: restart unless-stopped)
    every_s: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    exits: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _t0: float = field(default_factory=time.monotonic)

    def start(self) -> Sampler:
        threading.Thread(target=self._run, name="sampler", daemon=True).start()
        threading.Thread(target=self._watch, name="supervisor", daemon=True).start()
        return self

    def _watch(self) -> None:
        """Note each vidx process that exits; with `supervise`, start it again."""
        seen: set[tuple[str, int]] = set()
        while not self._stop.wait(1.0):
            for name, code in self.stack.alive().items():
                if code is not None and (name, self.stack.starts[name]) not in seen:
                    seen.add((name, self.stack.starts[name]))
                    self.note(f"process {name} exited with code {code}")
                    self.exits += 1
            if self.supervise:
                for name in self.stack.restart_exited():
                    self.note(f"process {name} restarted")

    def stop(self) -> None:
        self._stop.set()

    def note(self, what: str) -> None:
        self.events.append((self.now(), what))
        print(f"  [{self.now():6.1f} s] {what}", flush=True)

    def now(self) -> float:
        return time.monotonic() - self._t0

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                states = self.stack.states()
            except Exception:  # the observer's own connection is never killed; be safe
                continue
            try:
                in_flight: int | None = int(self.stack.fake.record()["in_flight"])
            except Exception:
                in_flight = None
            done = states["SUCCEEDED"] + states["FAILED"]
            working = states["STARTING"] + states["IN_PROGRESS"] + states["COLLECTING"]
            self.samples.append(
                Sample(
                    self.now(),
                    states["PENDING"],
                    done,
                    working,
                    in_flight,
                    self.stack.slots_held(),
                )
            )

    def utilisation(self, limit: int, until: float) -> dict[str, float | None]:
        """Mean use of the limit while any job is PENDING (samples up to `until`): jobs
        IN_PROGRESS at the fake, jobs in flight by the database, slots held in Redis."""
        busy = [s for s in self.samples if s.pending > 0 and s.t <= until]

        def mean(values: list[int | None]) -> float | None:
            known = [v for v in values if v is not None]
            return statistics.mean(known) / limit if known else None

        return {
            "samples": len(busy),
            "fake": mean([s.fake_in_flight for s in busy]),
            "db": mean([s.db_in_flight for s in busy]),
            "slots": mean([s.slots for s in busy]),
        }


def export(rev: str, into: Path) -> tuple[Path, str]:
    """The tree of commit `rev` in `into`; (path, full commit id)."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    into.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    if archive.wait() != 0:
        raise SystemExit(f"git archive {commit} failed")
    return into, commit


def current_commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return out + (" + uncommitted changes" if dirty else "")


def wait_for(
    stack: Stack, sampler: Sampler, jobs: int, timeout_s: float, stall_s: float
) -> tuple[bool, float]:
    """Until every job is done, the deadline, or nothing moved for stall_s: (all done,
    sampler time of the last change of the jobs' states)."""
    deadline = time.monotonic() + timeout_s
    last, moved = None, sampler.now()
    while time.monotonic() < deadline:
        states = stack.states()
        if states != last:
            last, moved = states, sampler.now()
        if states["SUCCEEDED"] + states["FAILED"] >= jobs:
            return True, moved
        if sampler.now() - moved > stall_s:
            sampler.note(f"stalled: no job changed state for {stall_s:.0f} s: {dict(states)}")
            return False, moved
        time.sleep(1)
    sampler.note(f"deadline: {dict(stack.states())}")
    return False, moved


def when_done_fraction(stack: Stack, jobs: int, fraction: float, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        states = stack.states()
        if states["SUCCEEDED"] + states["FAILED"] >= fraction * jobs:
            return
        time.sleep(0.2)


def while_collecting(stack: Stack, timeout_s: float) -> bool:
    """Wait (up to timeout_s) for a job in COLLECTING; True when one was seen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.states()["COLLECTING"]:
            return True
        time.sleep(0.05)
    return False


def run(args: argparse.Namespace) -> int:
    if not _pg_available():
        raise SystemExit("PostgreSQL is not reachable (VIDX_TEST_PG_URL or 127.0.0.1:5432/test)")
    root = Path(tempfile.mkdtemp(prefix="vidx-faults-"))
    code, commit = (REPO, current_commit())
    if args.rev:
        code, commit = export(args.rev, root / "code")
    n_jobs = args.videos * len(FEATURES)
    print(
        f"vidx at {commit}\n{args.videos} videos x {'+'.join(FEATURES)} ({args.labels} labels "
        f"planted each), limit {args.limit}, every notification x{args.copies}, "
        f"{args.throttle:.0%} of Rekognition calls throttled, "
        f"Redis down {args.redis_outage_s:g} s, PostgreSQL backends killed once; "
        f"fake jobs run {args.job_seconds:g} s; "
        f"{'exited processes restarted' if args.supervise else 'no restarts'}\nlogs: {root}",
        flush=True,
    )
    factory = VideoFactory(root / "videos", seconds=2.0)
    videos = factory.make(args.videos)
    options = StackOptions(
        limit=args.limit,
        job_seconds=args.job_seconds,
        code=code,
        label="faults",
        reconcile_every_s=args.reconcile_every_s,  # None: vidx's defaults (production's)
        sqs_retry_s=args.sqs_retry_s,
    )
    with fresh_pg_schema(True, "faults") as url:
        stack = Stack(root / "stack", url, options).start()
        sampler = Sampler(stack, supervise=args.supervise)
        try:
            fake = stack.fake
            # the fault queue covers every job's first start and generous restarts
            fake.notification_fault(duplicate=args.copies - 1, next_jobs=4 * n_jobs)
            fake.throttle_ratio(args.throttle, seed=args.seed)
            for video in videos:
                stack.plant_labels(video, args.labels, factory.duration_ms)
            sampler.start()
            t_first = sampler.now()
            with ThreadPoolExecutor(2) as pool:  # two `vidx submit` processes at a time
                ids = [vid for vid, _ in pool.map(lambda v: stack.submit(v, FEATURES), videos)]
            sampler.note(f"{len(ids)} videos submitted")
            when_done_fraction(stack, n_jobs, 0.25, args.timeout_s)
            sampler.note(f"Redis killed for {args.redis_outage_s:g} s")
            stack.redis_outage(args.redis_outage_s)
            sampler.note("Redis back")
            when_done_fraction(stack, n_jobs, 0.5, args.timeout_s)
            collecting = while_collecting(stack, 30)
            killed = stack.kill_pg_backends()
            during = "while a job was collecting" if collecting else "(no job was collecting)"
            sampler.note(f"terminated {killed} PostgreSQL backends {during}")
            finished, last_change = wait_for(stack, sampler, n_jobs, args.timeout_s, args.stall_s)
            # (start, end) of the run, sampler clock: first submit to the last job done
            span = (t_first, last_change if finished else sampler.now())
            sampler.stop()
            time.sleep(2)  # let late duplicates reach the poller before the final read
            got = stack.outcome(ids)
            cli = stack.cli_statuses() if len(ids) <= 100 else got.statuses
            record = fake.record()
        finally:
            sampler.stop()
            stack.close()
    return report(args, root, commit, ids, got, cli, record, sampler, finished, span)


def report(
    args: argparse.Namespace,
    root: Path,
    commit: str,
    ids: list[str],
    got: Outcome,
    cli: dict[str, str],
    record: dict[str, Any],
    sampler: Sampler,
    finished: bool,
    span: tuple[float, float],
) -> int:
    succeeded = sum(j.state == "SUCCEEDED" for j in got.jobs)
    statuses = Counter(cli.get(v, "MISSING") for v in ids)
    wrong = got.wrong_counts()
    util = sampler.utilisation(args.limit, until=span[1])
    elapsed = span[1] - span[0]
    submitted = next(t for t, what in sampler.events if what.endswith("submitted"))
    done_then = max((s.done for s in sampler.samples if s.t <= submitted), default=0)
    over = sum(s.slots is not None and s.slots > args.limit for s in sampler.samples)
    deliveries = Counter(n["Delivery"].split(":")[0] for n in record["notifications"])
    throttled = sum(e.get("ThrottlingException", 0) for e in record["errors"].values())
    calls = sum(record["calls"].values())
    equal = got.stored == got.planted and not wrong

    def pct(u: float | None) -> str:
        return "n/a" if u is None else f"{u:.0%}"

    print()
    print(f"videos INDEXED                  {statuses['INDEXED']}/{len(ids)}  {dict(statuses)}")
    print(f"detections stored / planted     {got.stored} / {got.planted}"
          f"  ({'equal' if equal else 'NOT equal'}; {len(wrong)} jobs differ)")  # fmt: skip
    print(f"duplicate rows                  {got.duplicate_rows()}")
    print(f"jobs the fake ran twice         {got.twice_started()}")
    print(f"max jobs in flight (fake)       {got.max_in_flight} (limit {args.limit});"
          f" samples with slots held > limit: {over}")  # fmt: skip
    print(f"utilisation while backlog > 0   fake in flight {pct(util['fake'])}, "
          f"vidx in flight (db) {pct(util['db'])}, Redis slots held {pct(util['slots'])}"
          f" ({util['samples']} samples)")  # fmt: skip
    print(f"jobs/minute                     {succeeded / elapsed * 60:.1f}"
          f" ({succeeded} jobs SUCCEEDED in {elapsed:.0f} s from the first submit); after the"
          f" last submit {(len(got.jobs) - done_then) / max(span[1] - submitted, 1e-9) * 60:.1f}"
          f" ({len(got.jobs) - done_then} jobs done in {span[1] - submitted:.0f} s)")  # fmt: skip
    print(f"slots held at the end           {got.slots_held}")
    print(f"processes exited                {sampler.exits}")
    print(f"notifications                   {dict(deliveries)}; throttled calls "
          f"{throttled}/{calls}")  # fmt: skip
    fake_jobs = {j["JobId"]: j for j in record["jobs"]}
    running, after = [], []
    for j in got.jobs:
        seen = fake_jobs.get(j.engine_job_id or "")
        if seen and seen["FinishedAt"] and j.finished_at and j.state == "SUCCEEDED":
            running.append(seen["FinishedAt"] - seen["StartedAt"])
            after.append(j.finished_at - seen["FinishedAt"])
    if after:
        print(f"per job                         at the fake {statistics.mean(running):.1f} s; "
              f"finished there -> SUCCEEDED in vidx: mean {statistics.mean(after):.1f} s, "
              f"median {statistics.median(after):.1f} s, max {max(after):.1f} s")  # fmt: skip
    if got.failed:
        print("FAILED jobs:")
        for message, count in Counter(got.failed.values()).most_common():
            print(f"  {count} x {message}")
    jobs = {j.id: j for j in got.jobs}
    for job_id, (stored, served) in list(wrong.items())[:12]:
        j = jobs[job_id]
        print(f"  job {job_id} {j.feature} {j.state}: stored {stored}, served {served}"
              f"{'; ' + j.message if j.message else ''}")  # fmt: skip
    failures = []
    if not finished:
        failures.append("the run did not finish")
    if sampler.exits:
        failures.append(f"{sampler.exits} process exits")
    if statuses["INDEXED"] != len(ids):
        failures.append("not every video INDEXED")
    if not equal or got.duplicate_rows():
        failures.append("detections stored != planted")
    if got.max_in_flight > args.limit or over:
        failures.append("more jobs in flight than the limit")
    if failures:
        print("INVARIANTS BROKEN: " + "; ".join(failures))
    (root / "run.json").write_text(
        json.dumps(
            {
                "commit": commit,
                "args": vars(args),
                "events": sampler.events,
                "samples": [asdict(s) for s in sampler.samples],
                "wrong": {str(k): v for k, v in wrong.items()},
                "jobs": [asdict(j) for j in got.jobs],
                "rows": got.rows,
                "served": got.served,
                "fake_jobs": [
                    {
                        k: j[k]
                        for k in ("JobId", "API", "Status", "StartedAt", "FinishedAt", "Items")
                    }
                    for j in record["jobs"]
                ],
            },
            indent=1,
        )
    )
    print(f"logs and samples (run.json): {root}")
    return 1 if failures else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=40)
    ap.add_argument("--labels", type=int, default=1500, help="planted labels per video")
    ap.add_argument("--copies", type=int, default=4, help="deliveries of each notification")
    ap.add_argument("--throttle", type=float, default=0.3, help="fraction of calls throttled")
    ap.add_argument("--limit", type=int, default=3, help="VIDX_MAX_CONCURRENT_JOBS")
    ap.add_argument("--redis-outage-s", type=float, default=10.0)
    ap.add_argument("--job-seconds", type=float, default=4.0, help="how long a fake job runs")
    ap.add_argument("--seed", type=int, default=10, help="of the throttling")
    ap.add_argument("--reconcile-every-s", type=float, help="VIDX_RECONCILE_EVERY_S (60)")
    ap.add_argument("--sqs-retry-s", type=int, help="VIDX_SQS_RETRY_S (30)")
    ap.add_argument("--timeout-s", type=float, default=1800.0)
    ap.add_argument("--stall-s", type=float, default=240.0, help="give up when nothing moves")
    ap.add_argument(
        "--no-supervise",
        dest="supervise",
        action="store_false",
        help="leave exited processes down (default: restart them, as compose does)",
    )
    ap.add_argument("--rev", help="run the vidx processes from this commit (git archive)")
    ap.add_argument("--quick", action="store_true", help="6 videos, 300 labels, 3 s outage")
    args = ap.parse_args()
    if args.quick:
        args.videos, args.labels, args.redis_outage_s = 6, 300, 3.0
    if args.copies < 1 or args.videos < 1:
        raise SystemExit("--copies and --videos must be at least 1")
    raise SystemExit(run(args))


if __name__ == "__main__":
    main()
