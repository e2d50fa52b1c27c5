"""Job leases: one task run at a time starts or collects a job.

Delivery is at least once (SNS repeats notifications, Celery redelivers with acks_late),
so twin runs of a step meet. The first to claim the job owns it: its owner token (the
Celery task id, which a task's retries keep) and an expiry are stored on the row by a
compare-and-set. Every later write of the step re-checks ownership in its own
transaction (`hold`), which also locks the job row until that transaction commits: a run
that lost the job, or whose lease another run took over after it expired, writes
nothing and removes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, update
from sqlalchemy.orm import Session

from models import AnalysisJob, JobState, utcnow
from worker.context import AppContext
from worker.errors import VidxError


class LeaseLostError(VidxError):
    """Another run owns the job now: this run stops without writing."""


def claim(
    ctx: AppContext,
    job_id: int,
    owner: str,
    from_states: Iterable[JobState],
    to_state: JobState,
    lease_s: float,
    *,
    take_expired: bool,
    now: datetime | None = None,
    **values: Any,
) -> bool:
    """Move the job from one of `from_states` to `to_state`, owned by `owner`; True if won.

    A job already in `to_state` is won again by its own owner (a retry of the same task)
    and, with `take_expired`, by anyone once the lease has run out (its run died).
    """
    now = now or utcnow()
    mine_or_lapsed = AnalysisJob.lease_owner == owner
    if take_expired:
        mine_or_lapsed = or_(
            mine_or_lapsed, AnalysisJob.lease_until.is_(None), AnalysisJob.lease_until < now
        )
    with ctx.db.session() as s:
        result = s.execute(
            update(AnalysisJob)
            .where(
                AnalysisJob.id == job_id,
                or_(
                    AnalysisJob.state.in_(list(from_states)),
                    and_(AnalysisJob.state == to_state, mine_or_lapsed),
                ),
            )
            .values(
                state=to_state,
                lease_owner=owner,
                lease_until=now + timedelta(seconds=lease_s),
                updated_at=now,
                **values,
            )
        )
        return bool(cast(CursorResult[Any], result).rowcount)


def hold(session: Session, job_id: int, owner: str, state: JobState, lease_s: float) -> None:
    """In the caller's transaction: extend the lease, or raise LeaseLostError.

    The UPDATE locks the job's row until the transaction ends, so two runs never
    interleave their writes of one job.
    """
    now = utcnow()
    result = session.execute(
        update(AnalysisJob)
        .where(
            AnalysisJob.id == job_id,
            AnalysisJob.lease_owner == owner,
            AnalysisJob.state == state,
        )
        .values(lease_until=now + timedelta(seconds=lease_s), updated_at=now)
    )
    if not cast(CursorResult[Any], result).rowcount:
        raise LeaseLostError(f"job {job_id} is no longer owned by this run")


def end(job: AnalysisJob) -> None:
    """The owner is done with the job (it is in its next state)."""
    job.lease_owner = None
    job.lease_until = None
