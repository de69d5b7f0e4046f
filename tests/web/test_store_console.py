"""The merchant console's stores: who may open and change them, and the opening-hours form."""

import pytest

from daodian.accounts.models import StaffRole
from daodian.merchants.models import Store
from tests.factories import add_staff, make_merchant, make_store, make_user
from tests.web.support import csrf_from, day_cell, english, hours_form, log_in, row_keys, stored_hours

FRIDAY, MONDAY = 5, 1


@pytest.fixture
def owned(db, client):
    owner = make_user(db, name="王老板")
    merchant = make_merchant(db, owner, name="老王汽修")
    store = make_store(db, merchant, name="老王汽修西湖店")
    log_in(client, db, owner)
    return {"owner": owner, "merchant": merchant, "store": store}


def _csrf(client, store) -> str:
    return csrf_from(client, f"/merchant/stores/{store.id}")


def test_console_needs_a_login(client, db):
    store = make_store(db, make_merchant(db, make_user(db)))
    for path in ("/merchant", f"/merchant/stores/{store.id}", f"/merchant/{store.merchant_id}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=/merchant")


def test_owner_sees_merchants_stores_and_the_edit_page(client, owned):
    merchant, store = owned["merchant"], owned["store"]
    page = client.get(f"/merchant/{merchant.id}")
    assert page.status_code == 200 and "老王汽修西湖店" in page.text and f'data-testid="edit-store-{store.id}"' in page.text
    edit = client.get(f"/merchant/stores/{store.id}")
    assert edit.status_code == 200 and "营业时间" in edit.text and "周五" in edit.text and "次日" in edit.text
    assert len(row_keys(edit.text)) == 7 and 'value="09:00"' in edit.text
    english(client)
    edit = client.get(f"/merchant/stores/{store.id}")
    assert "Opening hours" in edit.text and "Friday" in edit.text and "next day" in edit.text


def test_hours_form_accepts_past_midnight_and_closed_days(client, db, owned):
    store = owned["store"]
    rows = [(d, "09:00", "21:00", False) for d in range(2, 5)] + [(FRIDAY, "18:00", "02:00", True)]
    form = hours_form(_csrf(client, store), rows, closed_dates="2030-10-01\n2030-10-02")
    response = client.post(f"/merchant/stores/{store.id}/hours", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/merchant/stores/{store.id}?saved=hours"
    assert [5, 18 * 60, 26 * 60] in stored_hours(db, store)
    assert not any(wd == MONDAY for wd, _, _ in stored_hours(db, store))
    assert "营业时间已保存" in client.get(response.headers["location"]).text
    public = client.get(f"/s/{store.id}").text
    assert day_cell(public, FRIDAY) == "周五 18:00–次日 02:00" and day_cell(public, MONDAY) == "周一 休息"
    assert f'href="/merchant/stores/{store.id}"' in public  # the owner gets an edit link on the public page
    assert "2030-10-01, 2030-10-02" in public
    english(client)
    public = client.get(f"/s/{store.id}").text
    assert day_cell(public, FRIDAY) == "Friday 18:00–02:00 (next day)" and day_cell(public, MONDAY) == "Monday Closed"


def test_hours_form_rejects_inverted_hours_with_a_message(client, db, owned):
    store = owned["store"]
    before = stored_hours(db, store)
    form = hours_form(_csrf(client, store), [(FRIDAY, "18:00", "02:00", False)])
    response = client.post(f"/merchant/stores/{store.id}/hours", data=form)
    assert response.status_code == 422
    assert "打烊时间须晚于开门时间" in response.text and 'value="18:00"' in response.text  # what was typed stays
    assert stored_hours(db, store) == before


@pytest.mark.parametrize("rows, closed, message", [
    ([(1, "09:00", "12:00", False), (1, "11:00", "14:00", False)], "", "部分营业时段相互重叠"),
    ([(7, "20:00", "03:00", True), (1, "02:00", "10:00", False)], "", "部分营业时段相互重叠"),
    ([(1, "9am", "21:00", False)], "", "时间格式应为"),
    ([(1, "09:00", "21:00", False)], "next monday", "休息日请按 YYYY-MM-DD 填写"),
])
def test_hours_form_explains_other_mistakes(client, db, owned, rows, closed, message):
    store = owned["store"]
    before = stored_hours(db, store)
    response = client.post(f"/merchant/stores/{store.id}/hours", data=hours_form(_csrf(client, store), rows, closed))
    assert response.status_code == 422 and message in response.text
    assert stored_hours(db, store) == before


def test_midnight_on_the_same_day_means_the_end_of_the_day(client, db, owned):
    store = owned["store"]
    form = hours_form(_csrf(client, store), [(MONDAY, "10:00", "00:00", False)])
    client.post(f"/merchant/stores/{store.id}/hours", data=form)
    assert stored_hours(db, store) == [[1, 600, 1440]]
    assert day_cell(client.get(f"/s/{store.id}").text, MONDAY) == "周一 10:00–24:00"
    assert 'value="00:00"' in client.get(f"/merchant/stores/{store.id}").text  # a time input cannot show 24:00


def test_removing_rows_and_adding_one_without_javascript(client, db, owned):
    store = owned["store"]
    edit = client.get(f"/merchant/stores/{store.id}").text
    form = {"csrf_token": _csrf(client, store), "closed_dates": "", "add_row": "3"}
    for key, weekday in row_keys(edit):
        form |= {f"weekday-{key}": str(weekday), f"opens-{key}": "09:00", f"closes-{key}": "21:00"}
    response = client.post(f"/merchant/stores/{store.id}/hours", data=form)
    assert response.status_code == 200 and len(row_keys(response.text)) == 8  # one more, nothing saved
    assert len(stored_hours(db, store)) == 7
    del form["add_row"]
    monday_key = next(key for key, weekday in row_keys(edit) if weekday == MONDAY)
    form[f"remove-{monday_key}"] = "1"
    client.post(f"/merchant/stores/{store.id}/hours", data=form)
    assert [wd for wd, _, _ in stored_hours(db, store)] == [2, 3, 4, 5, 6, 7]


def test_htmx_saves_return_the_form_fragment(client, db, owned):
    store = owned["store"]
    headers = {"HX-Request": "true", "X-CSRF-Token": _csrf(client, store)}
    form = hours_form("", [(FRIDAY, "18:00", "02:00", True)])
    del form["csrf_token"]  # htmx sends the token as a header
    response = client.post(f"/merchant/stores/{store.id}/hours", data=form, headers=headers)
    assert response.status_code == 200 and "<html" not in response.text
    assert 'data-testid="hours-saved"' in response.text and stored_hours(db, store) == [[5, 1080, 1560]]
    bad = client.post(f"/merchant/stores/{store.id}/hours", headers=headers,
                      data={"weekday-a1": "5", "opens-a1": "18:00", "closes-a1": "02:00"})
    assert bad.status_code == 422 and "<html" not in bad.text and "打烊时间须晚于开门时间" in bad.text
    row = client.get(f"/merchant/stores/{store.id}/hours/row", params={"weekday": 3}, headers={"HX-Request": "true"})
    assert row.status_code == 200 and 'value="3"' in row.text and row.text.lstrip().startswith("<tr")


def test_store_details_form(client, db, owned):
    store = owned["store"]
    data = {"csrf_token": _csrf(client, store), "name": "老王汽修湖滨店", "name_en": "Lakeside", "address": "湖滨路 2 号",
            "phone": "0571-8888 8888", "status": "paused"}
    response = client.post(f"/merchant/stores/{store.id}", data=data, follow_redirects=False)
    assert response.status_code == 303
    db.expire_all()
    saved = db.get(Store, store.id)
    assert (saved.name, saved.name_en, saved.status) == ("老王汽修湖滨店", "Lakeside", "paused")
    bad = client.post(f"/merchant/stores/{store.id}", data=data | {"name": "  ", "phone": "call me"})
    assert bad.status_code == 422 and "此项必填" in bad.text and "格式不正确" in bad.text
    db.expire_all()
    assert db.get(Store, store.id).name == "老王汽修湖滨店"


def test_a_clerk_cannot_edit_a_store(client, db):
    owner, clerk = make_user(db), make_user(db)
    merchant = make_merchant(db, owner)
    store = make_store(db, merchant)
    add_staff(db, merchant, clerk, StaffRole.CLERK)
    log_in(client, db, clerk)
    before = (stored_hours(db, store), db.get(Store, store.id).name)
    assert client.get(f"/merchant/{merchant.id}").status_code == 200
    assert client.get(f"/merchant/stores/{store.id}").status_code == 403
    csrf = csrf_from(client, f"/merchant/{merchant.id}")
    hours = client.post(f"/merchant/stores/{store.id}/hours", data=hours_form(csrf, [(1, "08:00", "09:00", False)]))
    details = client.post(f"/merchant/stores/{store.id}", data={"csrf_token": csrf, "name": "改名", "address": "x"})
    assert hours.status_code == 403 and details.status_code == 403
    assert (stored_hours(db, store), db.get(Store, store.id).name) == before


def test_an_owner_of_another_merchant_cannot_open_or_change_the_store(client, db):
    store = make_store(db, make_merchant(db, make_user(db), name="商户X"), name="X店")
    intruder = make_user(db)
    make_merchant(db, intruder, name="商户Y")
    log_in(client, db, intruder)
    before = stored_hours(db, store)
    assert client.get(f"/merchant/stores/{store.id}").status_code in (403, 404)
    assert client.get(f"/merchant/{store.merchant_id}").status_code in (403, 404)
    csrf = csrf_from(client, "/merchant")
    response = client.post(f"/merchant/stores/{store.id}/hours", data=hours_form(csrf, [(1, "08:00", "09:00", False)]))
    assert response.status_code in (403, 404) and stored_hours(db, store) == before
    assert "X店" not in client.get("/merchant").text


def test_unknown_console_objects_are_404_pages(client, owned):
    assert client.get("/merchant/stores/99999999").status_code == 404
    assert client.get("/merchant/99999999").status_code == 404
    assert client.get("/merchant/items/99999999").status_code == 404
