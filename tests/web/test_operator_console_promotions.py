"""The operator creates a store promotion from /admin/promotions and ends one early, through
merchants.promotions; times are typed in the store's local time; bad input is shown localised; nobody
else may."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from daodian.kit.clock import utcnow
from daodian.merchants.models import StorePromotion
from tests.factories import make_user
from tests.web.support import csrf_from, english, log_in

PAGE = "/admin/promotions"
LOCAL = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def operator(client, db):
    user = make_user(db, name="运营", operator=True)
    log_in(client, db, user)
    return user


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")


def _create(client, **fields):
    now = utcnow()
    form = {"csrf_token": csrf_from(client, PAGE), "store_id": "", "starts": _local(now - timedelta(hours=1)),
            "ends": _local(now + timedelta(days=3)), "note": "春季推广"} | fields
    return client.post(f"{PAGE}/new", data=form, follow_redirects=False)


def _promotions(db, store_id: int) -> list[StorePromotion]:
    db.expire_all()
    return list(db.scalars(select(StorePromotion).where(StorePromotion.store_id == store_id)))


def test_the_operator_creates_a_promotion_in_local_time_and_ends_it_early(client, db, operator, shop):
    starts = datetime(2031, 5, 1, 9, 0, tzinfo=LOCAL)
    response = _create(client, store_id=str(shop.store.id), starts="2031-05-01T09:00", ends="2031-05-08T21:30")
    assert response.status_code == 303
    [promotion] = _promotions(db, shop.store.id)
    assert promotion.starts_at == starts.astimezone(UTC) and promotion.note == "春季推广"
    assert promotion.ends_at == datetime(2031, 5, 8, 13, 30, tzinfo=UTC)
    page = client.get(response.headers["location"]).text
    assert "推广已创建" in page and f'data-testid="promotion-{promotion.id}"' in page
    assert f'data-testid="promotion-status-{promotion.id}">未开始' in page and "2031-05-01 09:00" in page

    ended = client.post(f"{PAGE}/{promotion.id}/end", data={"csrf_token": csrf_from(client, PAGE)},
                        follow_redirects=False)
    assert ended.status_code == 303
    assert _promotions(db, shop.store.id)[0].cancelled_at is not None
    page = client.get(ended.headers["location"]).text
    assert f'data-testid="promotion-{promotion.id}"' not in page  # running and upcoming only
    assert f'data-testid="promotion-status-{promotion.id}">已取消' in client.get(PAGE, params={"all": "true"}).text


def test_a_running_promotion_lifts_the_store_and_shows_its_end_button(client, db, operator, shop):
    assert _create(client, store_id=str(shop.store.id)).status_code == 303
    [promotion] = _promotions(db, shop.store.id)
    page = client.get(PAGE).text
    assert f'data-testid="promotion-status-{promotion.id}">进行中' in page
    assert f'data-testid="end-promotion-{promotion.id}"' in page


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"store_id": ""}, "store_id", "没有这个编号的门店"),
    ({"store_id": "999999999999"}, "store_id", "没有这个编号的门店"),
    ({"starts": "明天"}, "starts", "请输入日期和时间"),
    ({"ends": "2031-13-40T99:00"}, "ends", "请输入日期和时间"),
    ({"starts": "2031-05-02T09:00", "ends": "2031-05-01T09:00"}, "ends", "结束时间必须晚于开始时间"),
    ({"starts": "2031-01-01T09:00", "ends": "2032-06-01T09:00"}, "ends", "最长 366 天"),
    ({"starts": "2020-01-01T09:00", "ends": "2020-01-02T09:00"}, "ends", "结束时间必须是将来"),
    ({"note": "长" * 300}, "note", "过长"),
])
def test_bad_input_is_shown_localised(client, db, operator, shop, fields, field, message):
    response = _create(client, **({"store_id": str(shop.store.id)} | fields))
    assert response.status_code == 422
    shown = response.text[response.text.index(f'data-testid="error-{field}"'):]
    assert message in shown[:shown.index("</span>")]
    assert "ends_at" not in response.text and "Value error" not in response.text
    assert _promotions(db, shop.store.id) == []


def test_bad_input_reads_in_english_on_an_english_page(client, db, operator, shop):
    english(client)
    response = _create(client, store_id=str(shop.store.id), starts="2031-05-02T09:00", ends="2031-05-01T09:00")
    assert response.status_code == 422 and "The end must be after the start." in response.text


def test_nobody_but_an_operator_creates_or_ends_promotions(client, db, shop):
    promotion = StorePromotion(store_id=shop.store.id, starts_at=utcnow(), ends_at=utcnow() + timedelta(days=1),
                               note="", created_by=make_user(db, operator=True).id)
    db.add(promotion)
    db.flush()
    log_in(client, db, shop.owner)
    csrf = csrf_from(client, "/merchant")
    assert client.get(PAGE).status_code == 403
    form = {"csrf_token": csrf, "store_id": str(shop.store.id), "starts": "2031-05-01T09:00",
            "ends": "2031-05-02T09:00", "note": ""}
    assert client.post(f"{PAGE}/new", data=form).status_code == 403
    assert client.post(f"{PAGE}/{promotion.id}/end", data={"csrf_token": csrf}).status_code == 403
    assert [p.id for p in _promotions(db, shop.store.id)] == [promotion.id]
    assert _promotions(db, shop.store.id)[0].cancelled_at is None
