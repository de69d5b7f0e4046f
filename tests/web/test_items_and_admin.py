"""Service items in the console (prices typed in yuan, stored in fen) and the operator's approval page."""

import pytest

from daodian.accounts.models import StaffRole
from daodian.merchants.models import Merchant, MerchantStatus, ServiceItem
from tests.factories import add_staff, make_item, make_merchant, make_store, make_user
from tests.web.support import csrf_from, english, log_in


@pytest.fixture
def owned(db, client):
    owner = make_user(db)
    merchant = make_merchant(db, owner, name="老王汽修")
    stores = [make_store(db, merchant, name="西湖店"), make_store(db, merchant, name="滨江店")]
    log_in(client, db, owner)
    return {"owner": owner, "merchant": merchant, "stores": stores}


def _item_form(client, merchant, **fields) -> dict:
    return {"csrf_token": csrf_from(client, f"/merchant/{merchant.id}/items"), "name_zh": "精洗", "name_en": "Deep wash",
            "service_category": "auto_service.car_wash", "price": "12.3", "duration_min": "45", "description": ""
            } | fields


def _items(db, merchant) -> list[ServiceItem]:
    db.expire_all()
    return list(db.query(ServiceItem).filter_by(merchant_id=merchant.id))


def test_create_a_service_item_with_a_yuan_price(client, db, owned):
    merchant, stores = owned["merchant"], owned["stores"]
    form = client.get(f"/merchant/{merchant.id}/items/new")
    assert form.status_code == 200 and "价格（元）" in form.text and "洗车" in form.text and "滨江店" in form.text
    data = _item_form(client, merchant, store_ids=[str(stores[1].id)])
    response = client.post(f"/merchant/{merchant.id}/items/new", data=data, follow_redirects=False)
    assert response.status_code == 303
    [item] = _items(db, merchant)
    assert (item.name_zh, item.price_fen, item.duration_min) == ("精洗", 1230, 45)
    listing = client.get(response.headers["location"])
    assert "服务项目已保存" in listing.text and "¥12.30" in listing.text and "滨江店" in listing.text
    assert "精洗" in client.get(f"/s/{stores[1].id}").text and "精洗" not in client.get(f"/s/{stores[0].id}").text
    english(client)
    listing = client.get(f"/merchant/{merchant.id}/items")
    assert "Deep wash" in listing.text and "45 min" in listing.text and "Service items" in listing.text


@pytest.mark.parametrize("fields, message", [
    ({"price": "abc"}, "请以元为单位输入价格"),
    ({"price": "1.234"}, "请以元为单位输入价格"),
    ({"price": "-5"}, "请以元为单位输入价格"),
    ({"price": "99999999999"}, "价格过高"),
    ({"name_zh": ""}, "此项必填"),
    ({"duration_min": "0"}, "数值超出范围"),
    ({"price": "0"}, "数值超出范围"),  # prices start at 1 fen (README: free services are not sold)
    ({"duration_min": "soon"}, "请输入整数"),
])
def test_item_form_mistakes_come_back_as_messages(client, db, owned, fields, message):
    merchant = owned["merchant"]
    response = client.post(f"/merchant/{merchant.id}/items/new", data=_item_form(client, merchant, **fields))
    assert response.status_code == 422 and message in response.text
    assert _items(db, merchant) == []


@pytest.mark.parametrize("price, fen", [("99", 9900), ("¥1,299.5", 129950), ("0.01", 1)])
def test_prices_people_type(client, db, owned, price, fen):
    merchant = owned["merchant"]
    client.post(f"/merchant/{merchant.id}/items/new", data=_item_form(client, merchant, price=price))
    assert [i.price_fen for i in _items(db, merchant)] == [fen]


def test_a_store_of_another_merchant_is_refused_and_nothing_is_saved(client, db, owned):
    merchant = owned["merchant"]
    foreign = make_store(db, make_merchant(db, make_user(db)), name="别家店")
    data = _item_form(client, merchant, store_ids=[str(foreign.id)])
    response = client.post(f"/merchant/{merchant.id}/items/new", data=data)
    assert response.status_code == 422 and 'data-testid="form-error"' in response.text
    assert _items(db, merchant) == []  # the item inserted before the refusal was rolled back


def test_edit_a_service_item(client, db, owned):
    merchant, stores = owned["merchant"], owned["stores"]
    item = make_item(db, merchant, [stores[0].id], price_fen=19900)
    page = client.get(f"/merchant/items/{item.id}")
    assert page.status_code == 200 and 'value="199.00"' in page.text and "编辑服务项目" in page.text
    data = _item_form(client, merchant, name_zh="大保养", price="299", status="hidden",
                      service_category="auto_service.oil_change", store_ids=[str(s.id) for s in stores])
    assert client.post(f"/merchant/items/{item.id}", data=data, follow_redirects=False).status_code == 303
    db.expire_all()
    saved = db.get(ServiceItem, item.id)
    assert (saved.name_zh, saved.price_fen, saved.status) == ("大保养", 29900, "hidden")
    bad = client.post(f"/merchant/items/{item.id}", data=data | {"price": "free"})
    assert bad.status_code == 422
    db.expire_all()
    assert db.get(ServiceItem, item.id).price_fen == 29900
    assert "大保养" in client.get(f"/s/{stores[1].id}").text  # staff see hidden items, marked
    client.cookies.clear()
    assert "大保养" not in client.get(f"/s/{stores[1].id}").text


def test_a_clerk_sees_items_but_cannot_change_them(client, db):
    owner, clerk = make_user(db), make_user(db)
    merchant = make_merchant(db, owner)
    item = make_item(db, merchant, [make_store(db, merchant).id])
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    log_in(client, db, clerk)
    listing = client.get(f"/merchant/{merchant.id}/items")
    assert listing.status_code == 200 and "小保养" in listing.text and f"/merchant/items/{item.id}" not in listing.text
    assert client.get(f"/merchant/{merchant.id}/items/new").status_code == 403
    assert client.get(f"/merchant/items/{item.id}").status_code == 403
    data = _item_form(client, merchant, price="1")
    assert client.post(f"/merchant/items/{item.id}", data=data).status_code == 403
    assert client.post(f"/merchant/{merchant.id}/items/new", data=data).status_code == 403
    db.expire_all()
    assert db.get(ServiceItem, item.id).price_fen == 19900 and len(_items(db, merchant)) == 1


def test_operator_approves_a_pending_merchant(client, db):
    pending = make_merchant(db, make_user(db), name="新来的商户", status=MerchantStatus.PENDING)
    log_in(client, db, make_user(db, operator=True))
    page = client.get("/admin")
    assert page.status_code == 200 and "待审核商户" in page.text and "新来的商户" in page.text
    response = client.post(f"/admin/merchants/{pending.id}/approve", data={"csrf_token": csrf_from(client, "/admin")},
                           follow_redirects=False)
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Merchant, pending.id).status == MerchantStatus.ACTIVE
    english(client)
    page = client.get(response.headers["location"])
    assert "Merchant approved." in page.text and "新来的商户" not in page.text


def test_only_operators_reach_the_admin_page(client, db):
    pending = make_merchant(db, make_user(db), status=MerchantStatus.PENDING)
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/login?next=/admin"
    owner = make_user(db)
    make_merchant(db, owner)
    log_in(client, db, owner)
    assert client.get("/admin").status_code == 403
    csrf = csrf_from(client, "/merchant")
    assert client.post(f"/admin/merchants/{pending.id}/approve", data={"csrf_token": csrf}).status_code == 403
    db.expire_all()
    assert db.get(Merchant, pending.id).status == MerchantStatus.PENDING
