"""Position reports under real concurrency: many couriers reporting at once to a real server of two worker
processes, each courier through two connections (so both processes and their memories take its reports), and
a server killed with SIGKILL while reports are in flight.

Each courier's reports go one after another, so what the throttle must answer is known from the client's own
clocks: a report sent after the last kept one's `next_after` is kept; one answered before it is refused with
exactly that `next_after`. The database then holds exactly the kept reports, at least the interval apart."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from daodian.accounts.models import User
from daodian.delivery.models import Courier, CourierPosition
from daodian.delivery.positions import POSITION_INTERVAL
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import PROJECT_ROOT, Settings
from tests.delivery.helpers import make_courier
from tests.factories import token_for
from tests.support.databases import drop_database, prepare_database
from tests.support.live_server import _free_port

pytestmark = pytest.mark.slow

PATH = "/api/v1/couriers/me/positions"


class Server:
    """`uvicorn daodian.asgi:app --workers 2` in a process group of its own: SIGKILL takes down all of it."""

    def __init__(self, settings: Settings) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DAODIAN_DATABASE_URL": settings.database_url, "DAODIAN_ENV": "test",
                    "DAODIAN_SECRET_KEY": "test-secret-not-for-production", "DAODIAN_PERIODIC_JOBS": "false"}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "daodian.asgi:app", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "2", "--log-level", "warning", "--no-access-log"],
            env=self.env, cwd=PROJECT_ROOT, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited with {self.process.returncode}"
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def __exit__(self, *_exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _wall() -> datetime:
    return datetime.now(UTC)


class Phone:
    """One courier's phone: its reports one after another, each with when it was sent and answered."""

    def __init__(self, courier_id: int, token: str) -> None:
        self.courier_id, self.token = courier_id, token
        self.acks: list[tuple[datetime, datetime, dict]] = []  # (sent, answered, ack)
        self.errors: list[str] = []
        self.cut = 0  # reports in flight when the server went down: sent, never answered

    def run(self, url: str, until: float, pause: tuple[float, float], rng: random.Random) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as one, \
                httpx.Client(base_url=url, headers=headers, timeout=30) as other:
            clients = [one, other]
            while time.monotonic() < until:
                body = {"lat": 30.2 + rng.random() / 10, "lng": 120.1 + rng.random() / 10, "datum": "wgs84"}
                sent = _wall()
                try:
                    answer = rng.choice(clients).post(PATH, json=body)
                except httpx.TransportError:  # the server went down: nothing acknowledged
                    self.cut += 1
                    return
                if answer.status_code != 200:
                    self.errors.append(f"{answer.status_code} {answer.text}")
                    return
                self.acks.append((sent, _wall(), answer.json()))
                due = self.kept_until()
                if rng.random() < 0.3 and due is not None:  # now and then: right after the throttle lets go
                    time.sleep(max(0.0, (due - _wall()).total_seconds()) + 0.02)
                else:
                    time.sleep(rng.uniform(*pause))

    def kept(self) -> list[datetime]:
        """The times of the reports the server said it kept."""
        return [datetime.fromisoformat(ack["next_after"]) - POSITION_INTERVAL for _, _, ack in self.acks
                if ack["kept"]]

    def kept_until(self) -> datetime | None:
        kept = self.kept()
        return kept[-1] + POSITION_INTERVAL if kept else None


def _riders(settings: Settings, count: int) -> list[Phone]:
    engine = create_db_engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            made = [make_courier(session, name=f"骑手{i}") for i in range(count)]
            for courier in made:
                courier.position_at = None
            return [Phone(c.id, token_for(session, session.get(User, c.user_id))) for c in made]
    finally:
        engine.dispose()


def _stored(settings: Settings) -> tuple[dict[int, list[datetime]], dict[int, datetime | None]]:
    """Each courier's history times, in order, and its current position's time."""
    engine = create_db_engine(settings)
    try:
        with unit_of_work(make_session_factory(engine), read_only=True) as session:
            history: dict[int, list[datetime]] = {}
            for courier_id, at in session.execute(select(CourierPosition.courier_id, CourierPosition.recorded_at)
                                                  .order_by(CourierPosition.recorded_at)):
                history.setdefault(courier_id, []).append(at)
            current = dict(session.execute(select(Courier.id, Courier.position_at)).all())
        return history, current
    finally:
        engine.dispose()


def _ride(riders: list[Phone], url: str, seconds: float, pause: tuple[float, float], seed: int) -> None:
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=r.run, args=(url, until, pause, random.Random(seed * 1000 + i)))
               for i, r in enumerate(riders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _spaced(times: list[datetime]) -> bool:
    return all(later - earlier >= POSITION_INTERVAL for earlier, later in zip(times, times[1:], strict=False))


def test_many_couriers_reporting_at_once_are_kept_exactly_per_the_throttle(backend, tmp_path):
    settings = prepare_database(backend, "daodian_test_positions_live", tmp_path)
    try:
        riders = _riders(settings, 40)
        with Server(settings) as server:
            _ride(riders, server.url, 14, (0.2, 1.2), seed=1)
        history, current = _stored(settings)
        checked = 0
        for rider in riders:
            assert not rider.errors, rider.errors
            assert rider.acks
            last: datetime | None = None  # when the last kept report's interval ends
            for sent, answered, ack in rider.acks:
                next_after = datetime.fromisoformat(ack["next_after"])
                if last is None or sent >= last:  # due when sent: kept
                    assert ack["kept"], (rider.courier_id, sent, last, ack)
                    checked += 1
                elif answered < last:  # too soon even when answered: refused, with the kept one's time
                    assert not ack["kept"] and next_after == last, (rider.courier_id, sent, last, ack)
                    checked += 1
                if ack["kept"]:
                    assert last is None or next_after - POSITION_INTERVAL >= last
                    last = next_after
            kept = rider.kept()
            assert history.get(rider.courier_id, []) == kept  # exactly the kept reports, nothing else
            assert _spaced(kept) and current[rider.courier_id] == kept[-1]
        answered = sum(len(r.acks) for r in riders)
        assert answered >= 3 * len(riders)  # however slow the machine: reports kept and refused
        assert checked >= 0.9 * answered  # few reports fell between the two clocks
    finally:
        drop_database(settings)


def test_a_server_killed_during_reports_loses_no_acknowledged_one(backend, tmp_path):
    settings = prepare_database(backend, "daodian_test_positions_kill", tmp_path)
    try:
        riders = _riders(settings, 40)
        rng = random.Random(19)
        for round_ in range(3):
            with Server(settings) as server:
                killer = threading.Timer(rng.uniform(3.0, 6.0), server.kill)
                killer.start()
                _ride(riders, server.url, 12, (0.0, 0.1), seed=round_ + 2)  # until the kill cuts them off
                killer.join()
        history, current = _stored(settings)
        acknowledged = 0
        for rider in riders:
            assert not rider.errors, rider.errors
            kept = rider.kept()
            stored = history.get(rider.courier_id, [])
            assert set(kept) <= set(stored), rider.courier_id  # every acknowledged report survived the kills
            assert _spaced(stored)  # and the throttle held across processes and restarts
            assert not stored or current[rider.courier_id] == stored[-1]
            acknowledged += len(kept)
        assert acknowledged >= 40  # a kept report per courier and round on average, give or take
        assert sum(rider.cut for rider in riders) >= 3  # the kills landed with reports in flight
    finally:
        drop_database(settings)
