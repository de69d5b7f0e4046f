"""Visits under real concurrency: the provider's "service done" sent twice at once (two phones, a double tap)
through a real server consumes one use of a two-use voucher, never two: one request completes the visit, the other
finds it done or loses the conditional move and rolls its use back."""

import threading

import httpx
import pytest
from sqlalchemy import func, select

from daodian.accounts.models import User
from daodian.delivery.models import Delivery, DeliveryStatus
from daodian.kit.clock import utcnow
from daodian.kit.db import unit_of_work
from daodian.vouchers.models import Verification, Voucher
from tests.delivery.helpers import at_home_shop, make_provider, visit_order
from tests.factories import make_user, token_for

pytestmark = pytest.mark.slow


def test_a_visit_completed_twice_at_once_consumes_one_use(live_server):
    factory = live_server.session_factory
    with unit_of_work(factory) as session:
        shop = at_home_shop(session, name="上门抢修", sessions=2)  # two uses: a second consumption would succeed
        provider = make_provider(session, name="并发师傅")
        token = token_for(session, session.get(User, provider.user_id))
        visits: list[tuple[int, str, int]] = []
        for i in range(8):
            order = visit_order(session, make_user(session, name=f"住户{i}"), shop)
            visit = session.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()
            voucher = session.scalars(select(Voucher).where(Voucher.order_id == order.id)).one()
            now = utcnow()
            visit.status, visit.courier_id, visit.assigned_at, visit.picked_up_at = (
                DeliveryStatus.PICKED_UP.value, provider.id, now, now)
            visits.append((visit.id, voucher.code, voucher.id))
    outcomes: dict[int, list[int]] = {v[0]: [] for v in visits}
    barrier = threading.Barrier(2)

    def phone() -> None:
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            for visit_id, code, _ in visits:
                barrier.wait()
                outcomes[visit_id].append(http.post(f"/api/v1/deliveries/{visit_id}/complete-visit",
                                                    json={"code": code}).status_code)

    threads = [threading.Thread(target=phone) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(200 in codes and set(codes) <= {200, 409} for codes in outcomes.values()), outcomes
    with unit_of_work(factory, read_only=True) as session:
        voucher_ids = [v[2] for v in visits]
        assert set(session.scalars(select(Voucher.uses_left).where(Voucher.id.in_(voucher_ids)))) == {1}
        used = dict(session.execute(select(Verification.voucher_id, func.count())
                                    .where(Verification.voucher_id.in_(voucher_ids))
                                    .group_by(Verification.voucher_id)).all())
        assert used == {v: 1 for v in voucher_ids}
        assert set(session.scalars(select(Delivery.status).where(Delivery.id.in_(outcomes)))) == {"delivered"}
