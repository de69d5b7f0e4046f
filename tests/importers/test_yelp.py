"""The Yelp importer against the real Boston file (read in place, never copied) and against broken lines."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from daodian.importers.yelp import import_yelp
from daodian.importers.yelp_categories import map_categories, target_codes
from daodian.kit.settings import PROJECT_ROOT
from daodian.merchants import stores as store_service
from daodian.merchants.models import Merchant, Store, StoreCategory, StoreStatus
from daodian.taxonomy.models import ServiceCategory
from daodian.taxonomy.tree import SERVICE_TREE, walk

YELP = PROJECT_ROOT.parent / "shared" / "datasets" / "yelp_boston" / "yelp_academic_dataset_business.json"
EXPECTED_REJECTED = Path(__file__).with_name("yelp_boston_rejected.tsv")

needs_yelp = pytest.mark.skipif(not YELP.exists(), reason=f"data set not present at {YELP}")


def expected_rejections() -> list[tuple[int, str, str, str]]:
    rows = []
    for line in EXPECTED_REJECTED.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            number, ref, code, reason = line.split("\t")
            rows.append((int(number), ref, code, reason))
    return rows


def yelp_rows(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model).where(model.external_ref.like("yelp:%")))


def store_by_ref(db, business_id: str) -> Store:
    return db.scalars(select(Store).where(Store.external_ref == f"yelp:{business_id}")).one()


def category_codes(db, store: Store) -> set[str]:
    ids = db.scalars(select(StoreCategory.category_id).where(StoreCategory.store_id == store.id))
    return set(db.scalars(select(ServiceCategory.code).where(ServiceCategory.id.in_(list(ids)))))


def test_mapping_targets_are_leaf_service_categories():
    leaves = {node.code for node, *_ in walk(SERVICE_TREE) if not node.children}
    assert target_codes() <= leaves
    assert map_categories(["Bars", "Irish", "Pubs", "Nightlife", "Karaoke", "Restaurants"]).categories == [
        "dining.western", "leisure.ktv"]
    assert map_categories(["Auto Repair", "Tires", "Oil Change Stations"]).primary == "auto_service.oil_change"
    assert map_categories(["Nightlife", "Bars"]).primary is None


@needs_yelp
def test_real_file_imports_every_line_or_says_why(db):
    report = import_yelp(db, YELP)
    rejected = [(r.line, r.ref, r.code, r.reason) for r in report.rejected]
    assert rejected == expected_rejections()
    assert (report.created, report.updated, report.unchanged, len(rejected)) == (1859, 0, 0, 146)
    assert report.created + len(rejected) == 2005
    assert yelp_rows(db, Store) == yelp_rows(db, Merchant) == 1859

    again = import_yelp(db, YELP)
    assert (again.created, again.updated, again.unchanged, len(again.rejected)) == (0, 0, 1859, 146)
    assert yelp_rows(db, Store) == yelp_rows(db, Merchant) == 1859


@needs_yelp
def test_known_businesses_keep_their_facts(db):
    import_yelp(db, YELP)
    kinsale = store_by_ref(db, "s9QfbcJnTeHb0H2V7CIqxA")  # line 36: an Irish pub with karaoke
    assert (kinsale.name, kinsale.rating_avg, kinsale.rating_count) == ("The Kinsale", 3.5, 155)
    assert kinsale.address == "2 Center Plz, Downtown, Boston, MA 02108"
    assert (kinsale.timezone, kinsale.input_datum, kinsale.status) == ("America/New_York", "wgs84", StoreStatus.OPEN)
    assert (kinsale.lat, kinsale.lng) == (42.359797999999998, -71.060252000000006)
    assert category_codes(db, kinsale) == {"dining.western", "leisure.ktv"}
    assert db.get(ServiceCategory, kinsale.primary_category_id).code == "dining.western"
    assert kinsale.hours[:2] == [[1, 660, 1500], [2, 660, 1500]]  # Monday 11:00 - 01:00
    assert [5, 660, 1560] in kinsale.hours and [6, 600, 1560] in kinsale.hours  # Fri, Sat until 02:00
    hours = store_service.opening_hours(kinsale)  # the API's view validates too
    friday = next(i for i in hours.intervals if i.weekday == 5)
    assert (friday.opens, friday.closes, friday.next_day) == ("11:00", "02:00", True)

    diner = store_by_ref(db, "wfbTZGw1bO_UKkn7V02WsA")  # open 09:00-09:00: round the clock
    assert diner.hours[0] == [1, 540, 1980]
    store_service.opening_hours(diner)

    closed = store_by_ref(db, "Jp9svt7sRT4zwdbzQ8KQmw")  # line 1: "open": false
    assert closed.status == StoreStatus.CLOSED and closed.hours == []
    assert db.get(Merchant, closed.merchant_id).external_ref == "yelp:Jp9svt7sRT4zwdbzQ8KQmw"


def business(business_id: str, **changes) -> dict:
    record = {"business_id": business_id, "name": f"Shop {business_id}", "full_address": "1 Main St\nBoston, MA",
              "latitude": 42.35, "longitude": -71.06, "categories": ["Hair Salons"], "stars": 4.0,
              "review_count": 12, "open": True, "type": "business",
              "hours": {"Friday": {"open": "18:00", "close": "02:00"}}}
    record.update(changes)
    return record


def write_lines(path: Path, lines: list) -> Path:
    with path.open("wb") as f:
        for line in lines:
            f.write((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n")
    return path


def test_bad_lines_are_reported_and_good_ones_still_imported(db, tmp_path):
    without_coordinates = business("nocoords")
    del without_coordinates["latitude"]
    path = write_lines(tmp_path / "mixed.json", [
        business("good-1"),
        b'{"business_id": "broken", "name": ',
        b"[1, 2, 3]",
        business("", name="No id"),
        business("empty-name", name="   "),
        without_coordinates,
        business("text-lat", latitude="north"),
        business("null-island", latitude=0, longitude=0),
        business("bar", categories=["Bars", "Nightlife"]),
        business("bad-hours", hours={"Friday": {"open": "25:00", "close": "02:00"}}),
        business("funday", hours={"Funday": {"open": "08:00", "close": "12:00"}}),
        business("good-1", name="Second copy"),
        b"\xff\xfe not utf-8",
        b"",
        business("too-many-stars", stars=7),
        business("long-name", name="x" * 121),
        business("good-2", categories=["Auto Repair", "Tires"], open=False),
    ])
    report = import_yelp(db, path)
    assert [(r.line, r.ref, r.code) for r in report.rejected] == [
        (2, None, "malformed_json"), (3, None, "not_an_object"), (4, None, "missing_business_id"),
        (5, "empty-name", "empty_name"), (6, "nocoords", "missing_coordinates"),
        (7, "text-lat", "invalid_coordinates"), (8, "null-island", "invalid_coordinates"),
        (9, "bar", "unmapped_categories"), (10, "bad-hours", "invalid_hours"), (11, "funday", "invalid_hours"),
        (12, "good-1", "duplicate_business_id"), (13, None, "not_utf8"), (15, "too-many-stars", "invalid_rating"),
        (16, "long-name", "invalid_field"),
    ]
    assert all(r.reason for r in report.rejected)
    assert "line 1" in report.rejected[10].reason and "Bars, Nightlife" in report.rejected[7].reason
    assert (report.created, report.lines) == (2, 16)  # the blank line 14 holds no business
    good = store_by_ref(db, "good-2")
    assert good.status == StoreStatus.CLOSED
    assert category_codes(db, good) == {"auto_service.tyre_fitting", "auto_service.repair"}
    assert store_by_ref(db, "good-1").hours == [[5, 1080, 1560]]


def test_reimport_updates_changed_rows_in_place(db, tmp_path):
    path = write_lines(tmp_path / "v1.json", [business("a"), business("b")])
    assert import_yelp(db, path).created == 2
    store_b = store_by_ref(db, "b")
    path = write_lines(tmp_path / "v2.json", [business("a"), business("b", stars=2.5, name="Renamed",
                                                                          categories=["Nail Salons"])])
    report = import_yelp(db, path)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    db.refresh(store_b)
    assert (store_b.name, store_b.rating_avg) == ("Renamed", 2.5)
    assert category_codes(db, store_b) == {"beauty_service.nail"}
    assert db.get(Merchant, store_b.merchant_id).name == "Renamed"
    assert yelp_rows(db, Store) == 2


def test_fallback_category_takes_unmapped_businesses(db, tmp_path):
    path = write_lines(tmp_path / "bars.json", [business("pub", categories=["Pubs", "Bars"])])
    assert len(import_yelp(db, path).rejected) == 1
    report = import_yelp(db, path, fallback="dining.western")
    assert (report.created, len(report.rejected)) == (1, 0)
    assert category_codes(db, store_by_ref(db, "pub")) == {"dining.western"}
