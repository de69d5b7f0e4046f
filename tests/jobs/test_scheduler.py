"""Periodic jobs inside the server: each once per period across processes, failures logged and retried next period,
and every job of the schedule runs on a real database."""

import threading
import time
import uuid
from datetime import timedelta

from daodian.jobs import scheduler
from daodian.jobs.periodic import JOBS, PeriodicJob
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.kit.facts import append_fact
from daodian.kit.leases import take_turn
from daodian.kit.ops.metrics import JOB_FAILURES, JOB_RUNS


def test_of_many_processes_exactly_one_takes_each_period(live_server):
    """Eight holders race for the same job at the same moment, on a real database, in their own transactions."""
    factory, job, now = live_server.session_factory, f"test-{uuid.uuid4().hex[:8]}", utcnow()
    period = timedelta(minutes=1)

    def race(at) -> list[str]:
        winners, lock = [], threading.Lock()

        def one(holder: str) -> None:
            with unit_of_work(factory) as session:
                took = take_turn(session, job, period, at, holder)
            if took:
                with lock:
                    winners.append(holder)

        threads = [threading.Thread(target=one, args=(f"process-{n}",)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return winners

    assert len(race(now)) == 1
    assert race(now + timedelta(seconds=30)) == []  # the same period: nobody
    assert len(race(now + period)) == 1  # the next one: one again


def test_a_failing_job_is_counted_and_runs_again_next_period(session_factory, settings, caplog):
    calls = []

    def flaky(factory, settings):
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the provider is down")
        return "ok"

    job = PeriodicJob(f"flaky-{uuid.uuid4().hex[:8]}", timedelta(seconds=0), flaky)
    failures, runs = JOB_FAILURES.labels(job.name)._value.get(), JOB_RUNS.labels(job.name)._value.get()
    assert scheduler.run_if_due(job, session_factory, settings) is False
    assert "periodic job" in caplog.text and "the provider is down" in caplog.text
    assert scheduler.run_if_due(job, session_factory, settings) is True
    assert JOB_FAILURES.labels(job.name)._value.get() == failures + 1
    assert JOB_RUNS.labels(job.name)._value.get() == runs + 1


def test_the_scheduler_runs_jobs_by_itself_and_one_failure_stops_nothing(live_server):
    ticks, fails = [], []

    def tick(factory, settings):
        ticks.append(time.monotonic())

    def broken(factory, settings):
        fails.append(1)
        raise ValueError("always")

    jobs = (PeriodicJob(f"tick-{uuid.uuid4().hex[:8]}", timedelta(seconds=0.3), tick),
            PeriodicJob(f"broken-{uuid.uuid4().hex[:8]}", timedelta(seconds=0.3), broken))
    running = scheduler.start(live_server.session_factory, live_server.settings, jobs, first_in=timedelta(0))
    try:
        deadline = time.monotonic() + 20
        while (len(ticks) < 3 or len(fails) < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        running.shutdown(wait=True)
    assert len(ticks) >= 3 and len(fails) >= 2


def test_every_job_of_the_schedule_runs_on_a_fresh_database(session_factory, settings, tmp_path):
    settings = settings.model_copy(update={"facts_dir": tmp_path / "facts"})
    with unit_of_work(session_factory) as session:
        append_fact(session, "test.happened", {})  # something for the facts job to export
    for job in JOBS:
        job.work(session_factory, settings)  # raises if a job is miswired
    assert (tmp_path / "facts" / "_manifest.json").exists()
