"""Each job once per period, however many server processes run the scheduler: a row per job whose `due_at` a
process moves forward with one conditional UPDATE. The process whose UPDATE changed the row runs the job; the
others, whose UPDATE found it moved, skip this period. A process that dies mid-job loses only that period:
the next one runs it again (every job is safe to rerun)."""

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import String, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from daodian.kit.db import Base, UTCDateTime

HOLDER = f"{socket.gethostname()}:{os.getpid()}"[:128]


class JobLease(Base):
    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the next period starts here
    holder: Mapped[str | None] = mapped_column(String(128))  # who took the last period
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def take_turn(session: Session, job: str, period: timedelta, now: datetime, holder: str = HOLDER) -> bool:
    """True if this caller runs `job` for the period starting now; commit before running it."""
    try:
        with session.begin_nested():  # the first run ever: the row appears, due at once
            session.execute(insert(JobLease).values(job=job, due_at=now, holder=None, taken_at=None))
    except IntegrityError:
        pass  # it exists (another process made it first, or long ago)
    taken = session.execute(
        update(JobLease).where(JobLease.job == job, JobLease.due_at <= now)
        .values(due_at=now + period, holder=holder, taken_at=now).execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1
