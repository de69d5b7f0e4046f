"""Deliveries under real concurrency: two couriers accepting one delivery at once through a real server, and
a dispatch runner killed with SIGKILL in the middle of its cycles."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from daodian.delivery.models import Delivery, DeliveryAssignment
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.kit.settings import PROJECT_ROOT
from tests.delivery.helpers import delivery_order, make_courier
from tests.factories import make_shop, make_user, token_for
from tests.support.databases import drop_database, prepare_database

pytestmark = pytest.mark.slow


def test_of_two_couriers_accepting_at_once_one_wins(live_server):
    factory = live_server.session_factory
    with unit_of_work(factory) as session:
        shop = make_shop(session, name="抢单车行")
        deliveries = [delivery_order(session, make_user(session, name=f"顾客{i}"), shop) for i in range(20)]
        couriers = [make_courier(session, name=f"骑手{i}") for i in range(2)]
        tokens = [token_for(session, session.get(type(shop.owner), c.user_id)) for c in couriers]
        delivery_ids = [session.scalars(select(Delivery.id).where(Delivery.order_id == o.id)).one() for o in deliveries]
    outcomes: dict[int, list[int]] = {d: [] for d in delivery_ids}
    barrier = threading.Barrier(2)

    def rider(token: str) -> None:
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            for delivery_id in delivery_ids:
                barrier.wait()
                outcomes[delivery_id].append(http.post(f"/api/v1/deliveries/{delivery_id}/accept").status_code)

    threads = [threading.Thread(target=rider, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(sorted(codes) == [200, 409] for codes in outcomes.values()), outcomes
    with unit_of_work(factory, read_only=True) as session:
        live = session.execute(select(DeliveryAssignment.delivery_id, func.count())
                               .where(DeliveryAssignment.delivery_id.in_(delivery_ids),
                                      DeliveryAssignment.released_at.is_(None))
                               .group_by(DeliveryAssignment.delivery_id)).all()
    assert sorted(live) == sorted((d, 1) for d in delivery_ids)


def test_a_dispatch_runner_killed_mid_cycle_loses_nothing_and_assigns_nothing_twice(backend, tmp_path):
    settings = prepare_database(backend, "daodian_test_dispatch_kill", tmp_path)
    engine = create_db_engine(settings)
    factory = make_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            shop = make_shop(session, name="调度车行")
            consumer = make_user(session, name="常客")
            for _ in range(80):
                delivery_order(session, consumer, shop)
            for i in range(25):
                make_courier(session, name=f"骑手{i}", lat=30.25 + i * 0.001, lng=120.14 + (i % 7) * 0.002)
            session.execute(Delivery.__table__.update().values(ready_at=Delivery.placed_at))  # all ready now
        env = {**os.environ, "DAODIAN_DATABASE_URL": settings.database_url, "DAODIAN_ENV": "test",
               "DAODIAN_SECRET_KEY": "test-secret-not-for-production"}
        command = [str(Path(sys.executable).with_name("daodian")), "jobs", "dispatch"]  # the installed command
        rng = random.Random(7)
        for _ in range(4):
            runner = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 2.5))  # start-up is ~1 s: some kills land before, some inside the cycle
            runner.send_signal(signal.SIGKILL)
            runner.wait()
        finished = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr[-2000:]
        with unit_of_work(factory, read_only=True) as session:
            total = session.scalar(select(func.count()).select_from(Delivery))
            statuses = dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
            live = session.execute(select(DeliveryAssignment.delivery_id, func.count())
                                   .where(DeliveryAssignment.released_at.is_(None))
                                   .group_by(DeliveryAssignment.delivery_id)).all()
            unassigned_but_marked = session.scalar(
                select(func.count()).select_from(Delivery)
                .where(Delivery.status == "assigned",
                       ~select(DeliveryAssignment.id).where(DeliveryAssignment.delivery_id == Delivery.id,
                                                           DeliveryAssignment.released_at.is_(None)).exists()))
        assert total == 80 and set(statuses) <= {"waiting", "assigned"}, statuses  # nothing lost or half-done
        assigned = statuses.get("assigned", 0)
        assert assigned >= 1, statuses  # the runner that was left alone did its work
        assert len(live) == assigned and all(count == 1 for _, count in live)  # one live assignment each
        assert unassigned_but_marked == 0
    finally:
        engine.dispose()
        drop_database(settings)
