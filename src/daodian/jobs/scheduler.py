"""The scheduler inside every server process (APScheduler's BackgroundScheduler): each periodic job on its own
interval, in a worker thread, run only by the process that takes the period's lease (kit.leases). A failing
job is logged and counted (kit.ops.metrics) and runs again next period; it never stops the others."""

import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from daodian.jobs.periodic import JOBS, PeriodicJob
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.leases import take_turn
from daodian.kit.ops.metrics import run_job
from daodian.kit.settings import Settings

log = logging.getLogger("daodian.jobs")


def run_if_due(job: PeriodicJob, factory: sessionmaker[Session], settings: Settings) -> bool:
    """One tick of one job in this process: take the period's lease, then run it. True if it ran (and succeeded)."""
    with unit_of_work(factory) as session:
        if not take_turn(session, job.name, job.every, utcnow()):
            return False
    try:
        run_job(job.name, lambda: job.work(factory, settings))
    except Exception:  # logged with its trace, counted, retried next period
        log.exception("periodic job %s failed", job.name)
        return False
    return True


def start(factory: sessionmaker[Session], settings: Settings, jobs: tuple[PeriodicJob, ...] = JOBS,
          first_in: timedelta = timedelta(seconds=5)) -> BackgroundScheduler:
    """Schedule every job (the first run soon after start-up, then every period) and start the scheduler."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                                  "misfire_grace_time": None})
    for job in jobs:
        scheduler.add_job(run_if_due, "interval", args=(job, factory, settings), id=job.name, name=job.name,
                          seconds=job.every.total_seconds(), next_run_time=utcnow() + first_in)
    scheduler.start()
    return scheduler
