"""The delivery pages without a browser: the courier's page, tracking, the dispatch boards and who sees them."""

from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import select

from daodian.accounts.models import User
from daodian.delivery.models import Delivery
from tests.delivery.helpers import delivery_order, make_courier
from tests.factories import make_shop, make_user
from tests.web.support import csrf_from, log_in


@contextmanager
def login_client(app, db, user):
    """A browser-like client logged in as `user`, with the CSRF token of its pages in `.csrf`."""
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        log_in(client, db, user)
        client.csrf = csrf_from(client, "/orders")
        yield client


def _delivery(db, order) -> Delivery:
    return db.scalars(select(Delivery).where(Delivery.order_id == order.id)).one()


def test_the_courier_page_lists_waiting_deliveries_and_takes_one(db, app, shop, consumer):
    courier = make_courier(db)
    delivery = _delivery(db, delivery_order(db, consumer, shop))
    with login_client(app, db, db.get(User, courier.user_id)) as client:
        page = client.get("/courier")
        assert page.status_code == 200 and f'data-testid="available-{delivery.id}"' in page.text
        taken = client.post(f"/courier/deliveries/{delivery.id}/accept", data={"csrf_token": client.csrf})
        assert taken.status_code == 303
        assert f'data-testid="route-{delivery.id}"' in client.get("/courier").text
        early = client.post(f"/courier/deliveries/{delivery.id}/pickup", data={"csrf_token": client.csrf})
        assert early.status_code == 409 and 'data-code="not_ready_yet"' in early.text


def test_a_consumer_tracks_their_own_delivery_and_nobody_else_does(db, app, shop, consumer):
    order = delivery_order(db, consumer, shop)
    with login_client(app, db, consumer) as client:
        page = client.get(f"/orders/{order.id}/tracking")
        assert page.status_code == 200
        assert _delivery(db, order).handover_code in page.text and 'data-testid="tracking-map"' in page.text
    with login_client(app, db, make_user(db, name="路人")) as client:
        assert client.get(f"/orders/{order.id}/tracking").status_code == 404


def test_dispatch_boards_belong_to_their_merchant_and_the_operator(db, app, shop, consumer):
    order = delivery_order(db, consumer, shop)
    delivery = _delivery(db, order)
    rider = make_courier(db, merchant=shop.merchant, name="自家骑手")
    with login_client(app, db, shop.manager) as client:
        board = client.get(f"/merchant/{shop.merchant.id}/dispatch")
        assert board.status_code == 200 and f'data-testid="waiting-{delivery.id}"' in board.text
        moved = client.post(f"/merchant/{shop.merchant.id}/dispatch",
                            data={"csrf_token": client.csrf, "delivery_id": delivery.id, "courier_id": rider.id})
        assert moved.status_code == 303
    db.refresh(delivery)
    assert delivery.courier_id == rider.id
    other = make_shop(db, name="别家")
    with login_client(app, db, other.owner) as client:
        assert client.get(f"/merchant/{shop.merchant.id}/dispatch").status_code == 404
        assert client.get("/admin/dispatch").status_code == 404
    with login_client(app, db, make_user(db, name="运营", operator=True)) as client:
        assert f'data-testid="active-{delivery.id}"' in client.get("/admin/dispatch").text
