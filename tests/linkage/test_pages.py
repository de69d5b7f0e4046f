"""The operator's link page (/admin/links): mined candidates with their figures, approve and reject,
curated links added and adjusted; what an operator decides here is what consumers get from
GET /api/v1/products/{id}/services. Nobody but operators may see or change anything."""

import re

import pytest
from sqlalchemy import select

from daodian.linkage.models import CategoryLink, LinkSource, LinkStatus
from daodian.mining import rules as mining
from daodian.mining import service as mining_service
from daodian.mining.sources import ClosedLoop
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from tests.factories import make_merchant, make_product, make_user
from tests.web.support import csrf_from, english, log_in

LIST = "/admin/links"
DAY = 86_400
# Ten people per pair buy the product on day 0 and use the service on day 1 (lift 3 over three pairs).
PLANTED = [("food.tea", "dining.cafe"), ("pets.food", "pet_service.grooming"), ("av.mic", "leisure.ktv")]


def _loop(db) -> ClosedLoop:
    products = db.scalars(select(ProductCategory).order_by(ProductCategory.id)).all()
    services = db.scalars(select(ServiceCategory).order_by(ServiceCategory.id)).all()
    product_index = {c.code: i for i, c in enumerate(products)}
    service_index = {c.code: i for i, c in enumerate(services)}
    who, bought, used = [], [], []
    for k, (product, service) in enumerate(PLANTED):
        who += [k * 100 + person for person in range(10)]
        bought += [product_index[product]] * 10
        used += [service_index[service]] * 10
    return ClosedLoop(mining.Events.of(who, bought, [0] * len(who)), mining.Events.of(who, used, [DAY] * len(who)),
                      products, services)


def _mine(db) -> dict[tuple[str, str], CategoryLink]:
    """Run the real miner on a planted closed loop; its candidates by (product code, service code)."""
    loop = _loop(db)
    assert mining_service.mine(db, loop=loop).created == len(PLANTED)
    products = {c.id: c.code for c in loop.product_categories}
    services = {c.id: c.code for c in loop.service_categories}
    return {(products[r.product_category_id], services[r.service_category_id]): r
            for r in db.scalars(select(CategoryLink).where(CategoryLink.source == LinkSource.MINED))}


def _service_codes(client, product_id) -> dict[str, dict]:
    response = client.get(f"/api/v1/products/{product_id}/services")
    assert response.status_code == 200, response.text
    return {s["service_category"]["code"]: s for s in response.json()["services"]}


def _row(html: str, link_id: int) -> str:
    match = re.search(rf'<tr data-testid="link-{link_id}".*?</tr>', html, re.S)
    assert match, f"link {link_id} is not listed"
    return match.group(0)


def _stored(db, link_id: int) -> CategoryLink:
    db.expire_all()
    return db.get(CategoryLink, link_id)


@pytest.fixture
def operator(db, client):
    user = make_user(db, operator=True, name="运营")
    log_in(client, db, user)
    return user


def test_operator_approves_a_mined_candidate_and_consumers_get_it(client, db, operator):
    tea = make_product(db, make_merchant(db, make_user(db)), category="food.tea", name="西湖龙井")
    link = _mine(db)[("food.tea", "dining.cafe")]
    assert "dining.cafe" not in _service_codes(client, tea.id)  # a candidate is not shown to consumers

    listing = f"{LIST}?source=mined&status=candidate"
    page = client.get(listing)
    assert page.status_code == 200 and "商品 → 服务关联" in page.text
    row = _row(page.text, link.id)
    assert "茶" in row and "候选" in row and "挖掘" in row
    assert f'data-testid="lift">{link.lift:.2f}<' in row and f'data-testid="pair-count">{link.pair_count:,}<' in row
    assert f'data-testid="confidence">{link.confidence * 100:.2f}%<' in row and "30 天" in row
    assert link.pair_count == 10 and link.antecedent_count == 10

    response = client.post(f"{LIST}/{link.id}/decision", follow_redirects=False,
                           data={"csrf_token": csrf_from(client, listing), "status": "live", "next": listing})
    assert response.status_code == 303
    assert response.headers["location"] == f"{LIST}?source=mined&status=candidate&saved={link.id}"
    stored = _stored(db, link.id)
    assert stored.status == LinkStatus.LIVE and stored.reviewed_by == operator.id and stored.reviewed_at is not None
    served = _service_codes(client, tea.id)["dining.cafe"]
    assert served["sources"] == ["mined"] and served["strength"] == pytest.approx(stored.strength)

    after = client.get(response.headers["location"])
    assert 'data-testid="saved-notice"' in after.text and f'data-testid="link-{link.id}"' not in after.text
    live = client.get(f"{LIST}?source=mined&status=live")
    assert "已上线" in _row(live.text, link.id) and f'data-testid="approve-{link.id}"' not in live.text


def test_operator_rejects_a_candidate_and_the_miner_leaves_it_rejected(client, db, operator):
    food = make_product(db, make_merchant(db, make_user(db)), category="pets.food", name="猫粮")
    link = _mine(db)[("pets.food", "pet_service.grooming")]
    csrf = csrf_from(client, LIST)
    response = client.post(f"{LIST}/{link.id}/decision", data={"csrf_token": csrf, "status": "rejected",
                                                               "next": "https://evil.example/"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{LIST}?saved={link.id}"
    assert _stored(db, link.id).status == LinkStatus.REJECTED
    assert mining_service.mine(db, loop=_loop(db)).updated == len(PLANTED)  # a later run keeps the decision
    assert _stored(db, link.id).status == LinkStatus.REJECTED
    assert "pet_service.grooming" not in _service_codes(client, food.id)
    for bad in ("", "approved"):
        refused = client.post(f"{LIST}/{link.id}/decision", data={"csrf_token": csrf, "status": bad})
        assert refused.status_code == 422
    assert client.post(f"{LIST}/999999999/decision", data={"csrf_token": csrf, "status": "live"}).status_code == 404


def test_filters_by_source_and_status_and_pages_keep_them(client, db, operator):
    mined = _mine(db)
    curated = client.get(f"{LIST}?source=curated&status=live&limit=3")
    assert curated.status_code == 200
    rows = re.findall(r'<tr data-testid="link-\d+" data-status="(\w+)" data-source="(\w+)"', curated.text)
    assert len(rows) == 3 and set(rows) == {("live", "curated")}
    more = re.search(r'href="([^"]+)" data-testid="more"', curated.text).group(1).replace("&amp;", "&")
    assert "source=curated" in more and "status=live" in more and "cursor=" in more
    next_page = client.get(LIST + more)
    assert set(re.findall(r'data-status="(\w+)" data-source="(\w+)"', next_page.text)) == {("live", "curated")}

    candidates = client.get(f"{LIST}?status=candidate").text
    assert {int(i) for i in re.findall(r'<tr data-testid="link-(\d+)"', candidates)} == {r.id for r in mined.values()}
    assert 'data-testid="mining-figures"' not in client.get(f"{LIST}?source=curated").text
    by_product = client.get(f"{LIST}?product_category=wedding").text
    assert len(re.findall(r'<tr data-testid="link-', by_product)) == 3  # photo, planning, banquet
    assert client.get(f"{LIST}?status=approved").status_code == 422
    assert client.get(f"{LIST}?source=guessed").status_code == 422
    assert client.get(f"{LIST}?product_category=nothing.here").status_code == 404
    assert "没有符合筛选条件的关联" in client.get(f"{LIST}?source=mined&status=rejected").text


def test_operator_adds_a_curated_link_and_consumers_see_it(client, db, operator):
    tea = make_product(db, make_merchant(db, make_user(db)), category="food.tea", name="西湖龙井")
    form = client.get(f"{LIST}/new")
    assert form.status_code == 200 and 'name="product_category"' in form.text and 'value="food"' in form.text
    csrf = csrf_from(client, f"{LIST}/new")
    created = client.post(f"{LIST}/new", follow_redirects=False, data={
        "csrf_token": csrf, "product_category": "food.tea", "service_category": "dining.cafe", "strength": "0.55",
        "status": "live"})
    assert created.status_code == 303, created.text
    link_id = int(created.headers["location"].rsplit("=", 1)[1])
    stored = _stored(db, link_id)
    assert (stored.source, stored.status, stored.strength) == (LinkSource.CURATED, LinkStatus.LIVE, 0.55)
    assert stored.reviewed_by == operator.id
    assert _service_codes(client, tea.id)["dining.cafe"]["strength"] == 0.55

    again = client.post(f"{LIST}/new", data={"csrf_token": csrf, "product_category": "food.tea",
                                             "service_category": "dining.cafe", "strength": "0.3", "status": "live"})
    assert again.status_code == 422 and "这条人工关联已经存在" in again.text
    assert f'href="/admin/links/{link_id}" data-testid="existing-link"' in again.text


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"strength": "abc"}, "strength", "请输入 0 到 1 之间的数"),
    ({"strength": "nan"}, "strength", "请输入 0 到 1 之间的数"),
    ({"strength": "1.5"}, "strength", "数值超出范围"),
    ({"service_category": "dining"}, "service_category", "请选择具体的服务"),
    ({"product_category": "nothing.here"}, "_form", "请从给出的选项中选择"),
    ({"status": "approved"}, "status", "请从给出的选项中选择"),
])
def test_add_form_mistakes_come_back_as_messages(client, db, operator, fields, field, message):
    before = db.scalar(select(CategoryLink.id).order_by(CategoryLink.id.desc()).limit(1))
    data = {"csrf_token": csrf_from(client, f"{LIST}/new"), "product_category": "food.tea",
            "service_category": "dining.cafe", "strength": "0.5", "status": "live", **fields}
    response = client.post(f"{LIST}/new", data=data)
    assert response.status_code == 422
    testid = "form-error" if field == "_form" else f"error-{field}"
    assert re.search(rf'data-testid="{testid}">[^<]*{message}', response.text), response.text
    assert db.scalar(select(CategoryLink.id).order_by(CategoryLink.id.desc()).limit(1)) == before


def test_operator_changes_a_curated_links_strength_and_status(client, db, operator):
    oil = make_product(db, make_merchant(db, make_user(db)), category="auto.oil")
    link = db.scalar(select(CategoryLink).join(ProductCategory, ProductCategory.id == CategoryLink.product_category_id)
                     .where(ProductCategory.code == "auto.oil", CategoryLink.source == LinkSource.CURATED))
    english(client)
    page = client.get(f"{LIST}/{link.id}")
    assert page.status_code == 200 and "Edit link" in page.text and "Motor oil" in page.text
    csrf = csrf_from(client, f"{LIST}/{link.id}")
    bad = client.post(f"{LIST}/{link.id}", data={"csrf_token": csrf, "strength": "-0.1", "status": "live"})
    assert bad.status_code == 422 and "This number is out of range." in bad.text
    saved = client.post(f"{LIST}/{link.id}", data={"csrf_token": csrf, "strength": "0.4", "status": "live"},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{LIST}?saved={link.id}"
    assert _stored(db, link.id).strength == 0.4
    assert _service_codes(client, oil.id)["auto_service.oil_change"]["strength"] == 0.4
    assert f"Link {link.id} saved." in client.get(saved.headers["location"]).text

    client.post(f"{LIST}/{link.id}", data={"csrf_token": csrf, "strength": "0.4", "status": "rejected"})
    assert _stored(db, link.id).status == LinkStatus.REJECTED
    assert "auto_service.oil_change" not in _service_codes(client, oil.id)
    assert client.get(f"{LIST}/999999999").status_code == 404


def test_the_console_nav_links_operators_to_the_page(client, db, operator):
    assert 'href="/admin/links" data-testid="nav-links"' in client.get("/admin").text


@pytest.mark.parametrize("who", ["merchant_owner", "consumer"])
def test_only_operators_see_or_change_links(client, db, who):
    link = _mine(db)[("food.tea", "dining.cafe")]
    for path in (LIST, f"{LIST}/new", f"{LIST}/{link.id}"):
        assert client.get(path, follow_redirects=False).headers["location"] == f"/login?next={path}"
    user = make_user(db, name="店主" if who == "merchant_owner" else "顾客")
    if who == "merchant_owner":
        make_merchant(db, user)
    log_in(client, db, user)
    for path in (LIST, f"{LIST}/new", f"{LIST}/{link.id}", f"{LIST}?status=candidate"):
        assert client.get(path).status_code == 403
    assert 'data-testid="nav-links"' not in client.get("/merchant").text
    csrf = csrf_from(client, "/merchant")
    attempts = [
        (f"{LIST}/{link.id}/decision", {"status": "live"}),
        (f"{LIST}/{link.id}", {"strength": "1", "status": "live"}),
        (f"{LIST}/new", {"product_category": "food.tea", "service_category": "dining.cafe", "strength": "1",
                         "status": "live"}),
    ]
    for path, fields in attempts:
        assert client.post(path, data={"csrf_token": csrf, **fields}).status_code == 403
    stored = _stored(db, link.id)
    assert (stored.status, stored.reviewed_at) == (LinkStatus.CANDIDATE, None)
    assert db.scalar(select(CategoryLink.id).where(CategoryLink.source == LinkSource.CURATED,
                                                   CategoryLink.reviewed_at.is_not(None))) is None


def test_an_operators_form_without_its_csrf_token_is_refused(client, db, operator):
    link = _mine(db)[("food.tea", "dining.cafe")]
    for data in ({"status": "live"}, {"status": "live", "csrf_token": "0" * 64}):
        assert client.post(f"{LIST}/{link.id}/decision", data=data).status_code == 403
    assert _stored(db, link.id).status == LinkStatus.CANDIDATE
