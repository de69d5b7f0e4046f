"""The pre-sale page's live fragment: time left and each candidate's paid votes, polled while the vote is not closed."""

from datetime import UTC, datetime, timedelta

from daodian.c2b.presale import close as presale_close
from daodian.c2b.presale.pages import time_left
from tests.factories import auth, make_product, make_shop, make_user, sku_of
from tests.marketing.presale_helpers import create_presale, end_presale, vote_and_pay
from tests.web.support import english


def test_the_fragment_follows_paid_votes_and_stops_polling_once_closed(client, db, session_factory, settings):
    shop = make_shop(db)
    other = sku_of(db, make_product(db, shop.merchant, name="防滑脚垫", price_fen=19900))
    sale = create_presale(client, shop.merchant.id, auth(db, shop.manager), [shop.sku.id, other.id], threshold=2)
    first, second = (c["id"] for c in sale["candidates"])
    url = f"/presales/{sale['id']}/progress"

    page = client.get(f"/presales/{sale['id']}")
    assert f'hx-get="{url}"' in page.text and 'hx-trigger="every 3s"' in page.text
    assert f'id="candidate-progress-{first}"' in page.text and "hx-swap-oob" not in page.text

    vote_and_pay(client, settings, auth(db, make_user(db, name="甲")), sale["id"], first, shop.store.id)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'data-testid="vote-' not in fragment.text  # no page, no forms
    assert 'hx-trigger="every 3s"' in fragment.text
    for candidate, votes in ((first, 1), (second, 0)):
        assert f'<div id="candidate-progress-{candidate}" hx-swap-oob="true">' in fragment.text
        assert f'data-testid="votes-{candidate}">已有 {votes} 票 / 需 2 票</p>' in fragment.text
    assert 'data-testid="time-left">还剩 2 天 23 小时' in fragment.text

    english(client)
    in_english = client.get(url).text
    assert f'data-testid="votes-{first}">1 of 2 votes</p>' in in_english and 'data-testid="time-left">2 d 23 h ' in in_english
    client.cookies.delete("daodian_lang")

    vote_and_pay(client, settings, auth(db, make_user(db, name="乙")), sale["id"], first, shop.store.id)
    end_presale(session_factory, sale["id"])
    counting = client.get(url).text
    assert "投票已截止，正在计票。" in counting and 'hx-trigger="every 3s"' in counting  # until the close runs
    assert presale_close.close(session_factory, settings, sale["id"]) is True
    db.expire_all()
    closed = client.get(url).text
    assert "hx-trigger" not in closed and "投票已结束" in closed
    assert f'data-testid="outcome-{first}"' in closed and f'data-testid="outcome-{second}"' in closed
    assert f'data-testid="votes-{first}">已有 2 票 / 需 2 票</p>' in closed
    assert client.get("/presales/987654/progress").status_code == 404


def test_time_left_counts_whole_minutes_and_ends_at_the_close():
    closes = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert time_left(closes, closes - timedelta(days=2, hours=3, minutes=4, seconds=30)) == {
        "days": 2, "hours": 3, "minutes": 4}
    assert time_left(closes, closes - timedelta(seconds=59)) == {"days": 0, "hours": 0, "minutes": 0}
    assert time_left(closes, closes) is None
