"""An operator's edit of the category trees reaches every process's search and nearby indexes without a restart
(taxonomy.watch): a new category is found by its name, a renamed one by its new name."""

from daodian.accounts.service import principal_for
from daodian.nearby import process as nearby_process
from daodian.search.service import index_of
from daodian.taxonomy import editing
from daodian.taxonomy.models import ServiceCategory
from daodian.taxonomy.schemas import CategoryCreate, CategoryRename
from tests.factories import make_user

SEARCH = "/api/v1/search"


def _service_codes(client, q: str) -> list[str]:
    response = client.get(SEARCH, params={"q": q})
    assert response.status_code == 200, response.text
    return [c["code"] for c in response.json()["service_categories"]]


def _look_now(app) -> None:
    """The next search asks the trees' stamp at once instead of within taxonomy.watch.CHECK_EVERY_S."""
    index_of(app).trees.next_check = 0
    nearby_process.index_for(app.state, None).categories.watch.next_check = 0


def test_a_category_the_operator_adds_is_searchable_and_nearby_knows_it(api, app, db, world):
    assert "auto_service.detailing" not in _service_codes(api, "精洗")
    operator = principal_for(db, make_user(db, name="运营", operator=True))
    added = editing.create_category(db, operator, ServiceCategory, CategoryCreate(
        parent="auto_service", code="auto_service.detailing", name_zh="汽车精洗", name_en="Car detailing"))
    db.flush()
    assert "auto_service.detailing" not in _service_codes(api, "精洗")  # not asked again before the interval
    _look_now(app)
    assert "auto_service.detailing" in _service_codes(api, "精洗")
    assert "auto_service.detailing" in _service_codes(api, "car detailing")
    subtrees = nearby_process.index_for(app.state, None).categories
    assert added.id in subtrees.subtree(db, "auto_service")  # the group's stores include the new category's


def test_a_renamed_category_is_found_by_its_new_name(api, app, db, world):
    operator = principal_for(db, make_user(db, name="运营", operator=True))
    assert "auto_service.tyre_fitting" in _service_codes(api, "轮胎")
    editing.rename_category(db, operator, ServiceCategory, "auto_service.tyre_fitting",
                            CategoryRename(name_zh="轮毂与轮胎安装", name_en="Wheel and tyre fitting"))
    db.flush()
    _look_now(app)
    assert "auto_service.tyre_fitting" in _service_codes(api, "轮毂")
