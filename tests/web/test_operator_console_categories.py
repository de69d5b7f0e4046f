"""The operator manages both category trees from the console: adds a category (or a group), renames one,
retires one and brings it back, with localised messages for bad input; nobody else may; and the edits
survive a restart with the seed sync (`daodian db upgrade`) run again."""

import html as html_lib
import re

import pytest
from fastapi.testclient import TestClient

from daodian import migrate
from daodian.accounts import service as accounts
from daodian.accounts.dependencies import SESSION_COOKIE
from daodian.app import create_app
from daodian.kit.db import create_db_engine, make_session_factory, unit_of_work
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import ProductCategory, ServiceCategory
from tests.factories import make_shop, make_user
from tests.support.databases import drop_database, prepare_database
from tests.web.support import csrf_from, english, log_in

PAGE = "/admin/categories"


@pytest.fixture
def operator(client, db):
    user = make_user(db, name="运营", operator=True)
    log_in(client, db, user)
    return user


def _add(client, kind: str, **fields):
    form = {"csrf_token": csrf_from(client, PAGE), "parent": "", "code": "", "name_zh": "", "name_en": ""} | fields
    return client.post(f"/admin/categories/{kind}", data=form, follow_redirects=False)


def _codes(tree) -> set[str]:
    return {node.code for group in tree for node in [group, *group.children]}


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'data-testid="error-{field}">([^<]*)<', html)
    assert found, f"no message for {field}"
    return html_lib.unescape(found.group(1))


def test_the_operator_adds_a_service_category_that_people_can_then_pick(client, db, operator):
    response = _add(client, "service", parent="auto_service", code="auto_service.detailing",
                    name_zh="汽车精洗", name_en="Car detailing")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert 'data-testid="category-auto_service.detailing"' in page and "汽车精洗" in page
    row = taxonomy.category(db, ServiceCategory, "auto_service.detailing")
    assert (row.level, row.status) == (2, "active")
    assert "auto_service.detailing" in _codes(taxonomy.category_tree(db, ServiceCategory))
    api = client.get("/api/v1/catalog/service-categories/auto_service.detailing")
    assert api.status_code == 200 and api.json()["parent"]["code"] == "auto_service"
    shop = make_shop(db)  # a merchant files an item under it (taxonomy.leaf_service_category accepts it)
    log_in(client, db, shop.manager)
    assert 'value="auto_service.detailing"' in client.get(f"/merchant/{shop.merchant.id}/items/new").text


def test_the_operator_adds_a_product_group_and_a_category_in_it(client, db, operator):
    assert _add(client, "product", code="garden", name_zh="园艺", name_en="Garden").status_code == 303
    assert _add(client, "product", parent="garden", code="garden.seeds", name_zh="种子",
                name_en="Seeds").status_code == 303
    tree = taxonomy.category_tree(db, ProductCategory)
    garden = next(group for group in tree if group.code == "garden")
    assert [c.code for c in garden.children] == ["garden.seeds"] and garden.level == 1


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"code": "Auto Service!", "parent": "auto_service"}, "code", "小写字母"),
    ({"code": "fitness.detailing", "parent": "auto_service"}, "code", "分组的代码"),
    ({"code": "auto_service.car_wash", "parent": "auto_service"}, "code", "已被占用"),
    ({"code": "auto_service.x.y", "parent": "auto_service.car_wash"}, "parent", "分组"),
    ({"code": "auto_service.x", "parent": "no_such_group"}, "parent", "请从给出的选项中选择"),
    ({"code": "auto_service.x", "parent": "auto_service", "name_zh": ""}, "name_zh", "必填"),
])
def test_bad_input_is_shown_on_the_page_in_the_shoppers_language(client, db, operator, fields, field, message):
    before = len(taxonomy.category_tree(db, ServiceCategory))
    response = _add(client, "service", **({"name_zh": "新类目", "name_en": "New"} | fields))
    assert response.status_code == 422
    assert message in _field_error(response.text, field)
    assert "String should" not in response.text and "Value error" not in response.text
    assert 'data-testid="add-service-category" open' in response.text  # the form stays open with the input
    assert len(taxonomy.category_tree(db, ServiceCategory)) == before


def test_bad_input_reads_in_english_on_an_english_page(client, db, operator):
    english(client)
    response = _add(client, "service", parent="auto_service", code="fitness.detailing", name_zh="x", name_en="x")
    assert response.status_code == 422
    assert _field_error(response.text, "code").startswith("A group's code has no dot")


def test_renaming_retiring_and_reactivating(client, db, operator):
    csrf = csrf_from(client, PAGE)
    edit = client.get("/admin/categories/service/auto_service.car_wash")
    assert edit.status_code == 200 and 'value="洗车"' in edit.text
    empty = client.post("/admin/categories/service/auto_service.car_wash",
                        data={"csrf_token": csrf, "name_zh": " ", "name_en": "Wash"})
    assert empty.status_code == 422 and "必填" in _field_error(empty.text, "name_zh")
    renamed = client.post("/admin/categories/service/auto_service.car_wash",
                          data={"csrf_token": csrf, "name_zh": "洗车美容", "name_en": "Car wash & care"},
                          follow_redirects=False)
    assert renamed.status_code == 303
    db.expire_all()
    assert taxonomy.category(db, ServiceCategory, "auto_service.car_wash").name_zh == "洗车美容"

    retire = client.post("/admin/categories/service/auto_service.car_wash/status",
                         data={"csrf_token": csrf, "status": "retired"}, follow_redirects=False)
    assert retire.status_code == 303
    db.expire_all()
    assert "auto_service.car_wash" not in _codes(taxonomy.category_tree(db, ServiceCategory))
    assert "auto_service.car_wash" not in client.get("/api/v1/catalog/service-categories").text
    page = client.get(PAGE).text
    assert 'data-testid="category-status-auto_service.car_wash">已停用' in page
    assert 'data-testid="reactivate-auto_service.car_wash"' in page

    back = client.post("/admin/categories/service/auto_service.car_wash/status",
                       data={"csrf_token": csrf, "status": "active"}, follow_redirects=False)
    assert back.status_code == 303
    db.expire_all()
    assert "auto_service.car_wash" in _codes(taxonomy.category_tree(db, ServiceCategory))


def test_a_retired_group_takes_its_categories_along_and_must_come_back_first(client, db, operator):
    csrf = csrf_from(client, PAGE)
    for code in ("pets.food", "pets"):
        client.post(f"/admin/categories/product/{code}/status", data={"csrf_token": csrf, "status": "retired"})
    db.expire_all()
    assert not {"pets", "pets.grooming"} & _codes(taxonomy.category_tree(db, ProductCategory))
    refused = client.post("/admin/categories/product/pets.food/status", data={"csrf_token": csrf, "status": "active"})
    assert refused.status_code == 422 and "请先重新启用" in refused.text
    adding = _add(client, "product", parent="pets", code="pets.toys", name_zh="玩具", name_en="Toys")
    assert adding.status_code == 422  # a retired group is not offered, nor taken
    assert client.post("/admin/categories/product/pets/status",
                       data={"csrf_token": csrf, "status": "sideways"}).status_code == 422


def test_nobody_but_an_operator_manages_categories(client, db):
    shop = make_shop(db)
    assert client.get(PAGE, follow_redirects=False).headers["location"].startswith("/login")
    log_in(client, db, shop.owner)
    csrf = csrf_from(client, "/merchant")
    assert client.get(PAGE).status_code == 403
    assert client.get("/admin/categories/service/auto_service.car_wash").status_code == 403
    form = {"csrf_token": csrf, "parent": "auto_service", "code": "auto_service.sneaky", "name_zh": "偷", "name_en": "x"}
    assert client.post("/admin/categories/service", data=form).status_code == 403
    assert client.post("/admin/categories/service/auto_service.car_wash",
                       data={"csrf_token": csrf, "name_zh": "偷改", "name_en": "x"}).status_code == 403
    assert client.post("/admin/categories/service/auto_service.car_wash/status",
                       data={"csrf_token": csrf, "status": "retired"}).status_code == 403
    db.expire_all()
    seed = taxonomy.category(db, ServiceCategory, "auto_service.car_wash")
    assert (seed.name_zh, seed.status) == ("洗车", "active")
    assert "auto_service.sneaky" not in _codes(taxonomy.category_tree(db, ServiceCategory))


def test_operator_edits_survive_a_restart_and_the_seed_sync(backend, tmp_path):
    """On a database of its own: edits through the pages, then what a deploy does (`daodian db upgrade`, which
    syncs the seed tree) and a new app process; the edits are all still there."""
    settings = prepare_database(backend, "daodian_test_operator_categories", tmp_path)
    try:
        engine = create_db_engine(settings)
        factory = make_session_factory(engine)
        with unit_of_work(factory) as db:
            operator = make_user(db, name="运营", operator=True)
            token, _ = accounts.open_session(db, operator, kind="cookie", days=1)
        with TestClient(create_app(settings)) as client:
            client.cookies.set(SESSION_COOKIE, token)
            assert _add(client, "service", parent="fitness", code="fitness.climbing", name_zh="攀岩馆",
                        name_en="Climbing gym").status_code == 303
            csrf = csrf_from(client, PAGE)
            assert client.post("/admin/categories/service/dining.cafe", data={
                "csrf_token": csrf, "name_zh": "咖啡", "name_en": "Coffee"}, follow_redirects=False).status_code == 303
            assert client.post("/admin/categories/product/food.snacks/status", data={
                "csrf_token": csrf, "status": "retired"}, follow_redirects=False).status_code == 303

        assert migrate.upgrade(settings, engine) == 0  # the re-sync finds nothing of its own to change back

        with TestClient(create_app(settings)) as client:  # a restarted process
            client.cookies.set(SESSION_COOKIE, token)
            page = client.get(PAGE).text
            assert 'data-testid="category-fitness.climbing"' in page and "攀岩馆" in page
            services = client.get("/api/v1/catalog/service-categories/dining.cafe").json()
            assert (services["name_zh"], services["name_en"]) == ("咖啡", "Coffee")
            assert "food.snacks" not in client.get("/api/v1/catalog/product-categories").text
            assert 'data-testid="category-status-food.snacks">已停用' in page
        engine.dispose()
    finally:
        drop_database(settings)
