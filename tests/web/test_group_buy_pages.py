"""The group buy page: tiers, live progress fragment, and the join button leading to the order's payment."""

from tests.factories import auth, make_shop, make_user
from tests.marketing.group_buy_helpers import create_deal, join_and_pay
from tests.web.support import csrf_from, log_in


def test_the_page_shows_progress_and_joining_leads_to_the_order(client, db, settings):
    shop = make_shop(db, item_price_fen=12900)
    deal = create_deal(client, shop.merchant.id, auth(db, shop.manager), shop.item.id)
    join_and_pay(client, settings, auth(db, make_user(db, name="甲")), deal["id"])

    page = client.get(f"/group-buys/{deal['id']}")
    assert page.status_code == 200
    assert 'data-testid="tiers"' in page.text and 'hx-trigger="every 3s"' in page.text
    fragment = client.get(f"/group-buys/{deal['id']}/progress")
    assert fragment.status_code == 200 and 'data-testid="next-tier"' in fragment.text
    assert 'data-testid="join"' not in page.text  # signed out: a login link instead

    log_in(client, db, make_user(db, name="乙"))
    page = client.get(f"/group-buys/{deal['id']}")
    assert 'data-testid="join"' in page.text
    joined = client.post(f"/group-buys/{deal['id']}/join",
                         data={"csrf_token": csrf_from(client, f"/group-buys/{deal['id']}")}, follow_redirects=False)
    assert joined.status_code == 303 and joined.headers["location"].startswith("/orders/")
    assert client.get(joined.headers["location"]).status_code == 200
    assert client.get("/group-buys/999999").status_code == 404
