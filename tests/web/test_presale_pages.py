"""The pre-sale page: candidates with progress, and voting from the page into the deposit order."""

from sqlalchemy import select

from daodian.c2b.presale.models import PresaleVote
from tests.factories import auth, make_shop, make_user
from tests.marketing.presale_helpers import create_presale
from tests.web.support import csrf_from, log_in


def test_a_consumer_votes_from_the_page_and_lands_on_the_deposit_order(client, db):
    shop = make_shop(db)
    sale = create_presale(client, shop.merchant.id, auth(db, shop.manager), [shop.sku.id], threshold=3)
    candidate = sale["candidates"][0]["id"]
    page = client.get(f"/presales/{sale['id']}")
    assert page.status_code == 200 and f'data-testid="candidate-{candidate}"' in page.text
    consumer = make_user(db)
    log_in(client, db, consumer)
    form = {"csrf_token": csrf_from(client, f"/presales/{sale['id']}"), "store_id": str(shop.store.id)}
    response = client.post(f"/presales/{sale['id']}/candidates/{candidate}/vote", data=form, follow_redirects=False)
    assert response.status_code == 303
    ballot = db.scalar(select(PresaleVote).where(PresaleVote.consumer_id == consumer.id))
    assert response.headers["location"] == f"/orders/{ballot.deposit_order_id}"
    again = client.post(f"/presales/{sale['id']}/candidates/{candidate}/vote", data=form, follow_redirects=False)
    assert again.headers["location"].endswith("problem=presale_already_voted")
    assert "data-testid=\"vote-problem\"" in client.get(again.headers["location"]).text


def test_an_unknown_presale_page_is_404(client):
    assert client.get("/presales/987654").status_code == 404
