"""The console's group buy and pre-sale pages: lists with progress, create forms, read-only clerks, 403s."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from daodian.c2b.group_buy.models import GroupBuy
from daodian.c2b.presale.models import Presale, PresaleCandidate
from daodian.kit.clock import utcnow
from tests.factories import auth, make_shop, make_user
from tests.marketing.group_buy_helpers import create_deal, join_and_pay
from tests.marketing.presale_helpers import create_presale, vote_and_pay
from tests.web.support import csrf_from, english, log_in


@pytest.fixture
def shop(db):
    return make_shop(db, name="老王车行", item_price_fen=12900, sku_price_fen=29900)


def _local(moment: datetime) -> str:
    """What a datetime-local input sends, in the store's zone (Asia/Shanghai)."""
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")


def _group_buy_form(csrf: str, item_id: int, ends: datetime, **overrides) -> dict:
    form = {"csrf_token": csrf, "service_item_id": str(item_id), "title": "周末洗车团", "starts_at": "",
            "ends_at": _local(ends), "min_participants": "", "tier_min_0": "2", "tier_price_0": "99",
            "tier_min_1": "5", "tier_price_1": "79.50", "tier_min_2": "", "tier_price_2": "",
            "tier_min_3": "", "tier_price_3": ""}
    return form | overrides


def test_the_group_buy_console_lists_progress_and_creates_through_the_form(client, db, settings, shop):
    english(client)
    deal = create_deal(client, shop.merchant.id, auth(db, shop.manager), shop.item.id)
    join_and_pay(client, settings, auth(db, make_user(db, name="甲")), deal["id"])
    join_and_pay(client, settings, auth(db, make_user(db, name="乙")), deal["id"])
    log_in(client, db, shop.manager)
    path = f"/merchant/{shop.merchant.id}/group-buys"
    page = client.get(path)
    assert page.status_code == 200
    assert f'data-testid="participants-{deal["id"]}">2<' in page.text
    assert f'data-testid="price-{deal["id"]}">¥99' in page.text
    assert f'href="/group-buys/{deal["id"]}"' in page.text and 'data-testid="nav-group-buys"' in page.text
    assert f'<option value="{shop.item.id}"' in page.text

    ends = (utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)
    created = client.post(path, data=_group_buy_form(csrf_from(client, path), shop.item.id, ends),
                          follow_redirects=False)
    assert created.status_code == 303, created.text
    new = db.scalars(select(GroupBuy).where(GroupBuy.title == "周末洗车团")).one()
    assert new.tiers == [{"min_participants": 2, "price_fen": 9900}, {"min_participants": 5, "price_fen": 7950}]
    assert new.ends_at.astimezone(UTC) == ends  # typed in Shanghai time, stored as the same moment in UTC
    assert (new.merchant_id, new.min_participants) == (shop.merchant.id, 2)
    assert 'data-testid="notice"' in client.get(created.headers["location"]).text


def test_bad_group_buy_input_is_shown_again_with_422_and_a_reason(client, db, shop):
    english(client)
    log_in(client, db, shop.owner)
    path = f"/merchant/{shop.merchant.id}/group-buys"
    form = _group_buy_form(csrf_from(client, path), shop.item.id, utcnow() + timedelta(days=3))
    bad_price = client.post(path, data=form | {"tier_price_0": "abc"})
    assert bad_price.status_code == 422 and 'data-testid="error-tiers"' in bad_price.text
    assert 'value="周末洗车团"' in bad_price.text  # the form comes back filled in
    rising = client.post(path, data=form | {"tier_price_1": "120"})
    assert rising.status_code == 422 and "Tiers need more participants and a lower price each." in rising.text
    past = client.post(path, data=form | {"ends_at": _local(utcnow() - timedelta(hours=1))})
    assert past.status_code == 422 and 'data-testid="form-error"' in past.text
    garbled = client.post(path, data=form | {"ends_at": "tomorrow"})
    assert garbled.status_code == 422 and 'data-testid="error-ends_at"' in garbled.text
    no_tiers = client.post(path, data=form | {"tier_min_0": "", "tier_price_0": "", "tier_min_1": "",
                                              "tier_price_1": ""})
    assert no_tiers.status_code == 422 and "Give at least one tier." in no_tiers.text
    foreign_item = make_shop(db, name="别家").item
    stolen = client.post(path, data=form | {"service_item_id": str(foreign_item.id)})
    assert stolen.status_code == 422 and "This merchant has no such service item." in stolen.text
    assert db.scalar(select(GroupBuy).where(GroupBuy.merchant_id == shop.merchant.id)) is None


def _presale_form(csrf: str, sku_id: int, closes: datetime, **overrides) -> dict:
    form = {"csrf_token": csrf, "title": "新款脚垫", "closes_at": _local(closes), "sku_id_0": str(sku_id),
            "deposit_0": "50", "threshold_0": "3", "sku_id_1": "", "deposit_1": "", "threshold_1": "",
            "sku_id_2": "", "deposit_2": "", "threshold_2": ""}
    return form | overrides


def test_the_presale_console_lists_votes_and_creates_through_the_form(client, db, settings, shop):
    english(client)
    sale = create_presale(client, shop.merchant.id, auth(db, shop.manager), [shop.sku.id], threshold=4)
    candidate = sale["candidates"][0]["id"]
    vote_and_pay(client, settings, auth(db, make_user(db)), sale["id"], candidate, shop.store.id)
    log_in(client, db, shop.manager)
    path = f"/merchant/{shop.merchant.id}/presales"
    page = client.get(path)
    assert page.status_code == 200
    assert f'data-testid="votes-{candidate}">' in page.text and ": 1 / 4" in page.text
    assert f'href="/presales/{sale["id"]}"' in page.text and f'data-testid="status-{sale["id"]}">Voting<' in page.text

    closes = (utcnow() + timedelta(days=5)).replace(second=0, microsecond=0)
    created = client.post(path, data=_presale_form(csrf_from(client, path), shop.sku.id, closes),
                          follow_redirects=False)
    assert created.status_code == 303, created.text
    new = db.scalars(select(Presale).where(Presale.title == "新款脚垫")).one()
    assert new.closes_at.astimezone(UTC) == closes
    row = db.scalars(select(PresaleCandidate).where(PresaleCandidate.presale_id == new.id)).one()
    assert (row.sku_id, row.deposit_fen, row.threshold) == (shop.sku.id, 5000, 3)


def test_bad_presale_input_is_shown_again_with_422_and_a_reason(client, db, shop):
    english(client)
    log_in(client, db, shop.manager)
    path = f"/merchant/{shop.merchant.id}/presales"
    form = _presale_form(csrf_from(client, path), shop.sku.id, utcnow() + timedelta(days=5))
    too_much = client.post(path, data=form | {"deposit_0": "500"})  # the SKU costs 299
    assert too_much.status_code == 422 and "The deposit must be below the price." in too_much.text
    zero = client.post(path, data=form | {"threshold_0": "0"})
    assert zero.status_code == 422 and "A threshold is at least one vote." in zero.text
    twice = client.post(path, data=form | {"sku_id_1": str(shop.sku.id), "deposit_1": "20", "threshold_1": "2"})
    assert twice.status_code == 422 and "Each SKU may be a candidate once." in twice.text
    missing = client.post(path, data=form | {"closes_at": ""})
    assert missing.status_code == 422 and 'data-testid="error-closes_at"' in missing.text
    assert db.scalar(select(Presale).where(Presale.merchant_id == shop.merchant.id)) is None


def test_clerks_read_only_other_merchants_403_signed_out_to_login(client, db, shop):
    create_deal(client, shop.merchant.id, auth(db, shop.manager), shop.item.id)
    for path in (f"/merchant/{shop.merchant.id}/group-buys", f"/merchant/{shop.merchant.id}/presales"):
        signed_out = client.get(path, follow_redirects=False)
        assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login?next=")

        log_in(client, db, shop.clerk)
        page = client.get(path)
        assert page.status_code == 200 and 'data-testid="create-' not in page.text
        refused = client.post(path, data={"csrf_token": csrf_from(client, path), "title": "x"})
        assert refused.status_code == 403

        other = make_shop(db, name="别家")
        log_in(client, db, other.owner)
        assert client.get(path).status_code == 403
        own = path.replace(str(shop.merchant.id), str(other.merchant.id))
        assert client.post(path, data={"csrf_token": csrf_from(client, own), "title": "x"}).status_code == 403
        client.cookies.clear()
