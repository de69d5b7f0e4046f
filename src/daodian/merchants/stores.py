"""Store rules: where a store is, when it opens, what it offers, and who may see it."""

import json
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Text, bindparam, cast, select
from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal
from daodian.geo.datum import Datum, from_wgs84_arrays, to_wgs84
from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.errors import Invalid, NotFound
from daodian.merchants import hours as hours_rules
from daodian.merchants import repository, service_items
from daodian.merchants.item_schemas import ServiceItemRead
from daodian.merchants.models import Merchant, ServiceItem, Store, StoreCategory, StoreStatus
from daodian.merchants.schemas import (
    HoursInterval,
    LocationRead,
    OpeningHours,
    StoreCreate,
    StoreDetail,
    StoreRead,
    StoreUpdate,
)
from daodian.merchants.service import is_public, merchant_read
from daodian.taxonomy import service as taxonomy
from daodian.taxonomy.models import CatalogStatus, ServiceCategory
from daodian.taxonomy.schemas import CategoryRead


def create_store(session: Session, merchant: Merchant, data: StoreCreate) -> Store:
    primary = taxonomy.leaf_service_category(session, data.primary_category)
    store = Store(merchant_id=merchant.id, name=data.name.strip(), name_en=data.name_en, address=data.address.strip(),
                  phone=data.phone, timezone=data.timezone, primary_category_id=primary.id, hours=[], closed_dates=[])
    _place(store, data.location.lat, data.location.lng, data.location.datum)
    session.add(store)
    session.flush()
    _set_categories(session, store, primary, data.categories)
    if data.hours is not None:
        set_hours(session, store, data.hours)
    session.flush()
    return store


def _place(store: Store, lat: float, lng: float, datum: Datum) -> None:
    store.input_lat, store.input_lng, store.input_datum = lat, lng, datum
    store.lat, store.lng = to_wgs84(lat, lng, datum)


def _set_categories(session: Session, store: Store, primary: ServiceCategory, codes: list[str]) -> None:
    ids = {primary.id} | {taxonomy.leaf_service_category(session, code).id for code in codes}
    repository.replace_store_categories(session, store.id, ids)


def get_store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("No such store.", code="store_not_found")
    return store


def is_listed(store: Store, merchant: Merchant) -> bool:
    return store.status != StoreStatus.CLOSED and is_public(merchant)


def visible_store(session: Session, principal: Principal, store_id: int) -> Store:
    store = get_store(session, store_id)
    merchant = session.get(Merchant, store.merchant_id)
    if not is_listed(store, merchant) and not principal.can(Action.CONSOLE_VIEW, store.merchant_id):
        raise NotFound("No such store.", code="store_not_found")
    return store


def update_store(session: Session, store: Store, data: StoreUpdate) -> Store:
    changes = data.model_dump(exclude_unset=True, exclude={"location", "primary_category", "categories"})
    for key, value in changes.items():
        if value is not None or key in ("name_en", "phone"):
            setattr(store, key, value.strip() if key in ("name", "address") else value)
    if data.location is not None:
        _place(store, data.location.lat, data.location.lng, data.location.datum)
    if data.primary_category is not None or data.categories is not None:
        primary = (taxonomy.leaf_service_category(session, data.primary_category) if data.primary_category
                   else session.get(ServiceCategory, store.primary_category_id))
        store.primary_category_id = primary.id
        codes = data.categories if data.categories is not None else _category_codes(session, store)
        _set_categories(session, store, primary, codes)
    store.updated_at = utcnow()
    session.flush()
    return store


def _category_codes(session: Session, store: Store) -> list[str]:
    ids = repository.category_ids_by_store(session, [store.id])[store.id]
    return [c.code for c in taxonomy.service_categories_by_ids(session, set(ids)).values()]


def set_hours(session: Session, store: Store, hours: OpeningHours) -> Store:
    store.hours = sorted(list(i.as_interval()) for i in hours.intervals)
    store.closed_dates = hours_rules.sorted_dates(hours.closed_dates)
    store.updated_at = utcnow()
    session.flush()
    return store


def close_store(session: Session, store: Store) -> None:
    store.status = StoreStatus.CLOSED
    store.updated_at = utcnow()
    session.flush()


def is_open(store: Store, moment: datetime | None = None) -> bool:
    if store.status != StoreStatus.OPEN:
        return False
    intervals = [tuple(i) for i in store.hours]
    return hours_rules.is_open_at(intervals, store.closed_dates, store.timezone, moment or utcnow())


def opening_hours(store: Store) -> OpeningHours:
    intervals = [
        HoursInterval(weekday=wd, opens=hours_rules.hhmm(o), closes="24:00" if c == hours_rules.MINUTES_PER_DAY
                      else hours_rules.hhmm(c), next_day=c > hours_rules.MINUTES_PER_DAY)
        for wd, o, c in store.hours
    ]
    return OpeningHours(intervals=intervals, closed_dates=[date.fromisoformat(d) for d in store.closed_dates])


def list_stores(session: Session, params: PageParams, *, merchant_id: int | None, category_code: str | None,
                public_only: bool) -> tuple[list[StoreRead], str | None]:
    category_ids = taxonomy.subtree_ids(session, ServiceCategory, category_code) if category_code else None
    stmt = repository.stores_query(merchant_id=merchant_id, category_ids=category_ids, public_only=public_only)
    stores, cursor = fetch_page(session, stmt, Store.id, params)
    return store_reads(session, stores), cursor


def store_reads(session: Session, stores: list[Store]) -> list[StoreRead]:
    """API views of many stores in one extra query. Built from the database's rows, which were checked on
    the way in, so without validating them again (a validated opening-hours interval costs more than
    the rest of a store)."""
    now = utcnow()
    own, cats = _category_views(session, [s.id for s in stores])
    facts = [_Facts(s.id, s.merchant_id, s.name, s.name_en, s.address, s.phone, s.lat, s.lng, s.input_lat, s.input_lng,
                    str(s.input_datum), s.timezone, str(s.status), s.primary_category_id,
                    *_week(tuple(tuple(i) for i in s.hours)), tuple(s.closed_dates), s.rating_avg, s.rating_count)
             for s in stores]
    return [_store_read(view) for view in _views(session, facts, own, cats, {s.id: is_open(s, now) for s in stores})]


def store_reads_by_id(session: Session, store_ids: list[int], open_now: dict[int, bool] | None = None) -> list[StoreRead]:
    """`store_views` as StoreRead models, for responses built from models."""
    return [_store_read(view) for view in store_views(session, store_ids, open_now)]


class _Facts(NamedTuple):
    """What a store's view is made of."""

    id: int
    merchant_id: int
    name: str
    name_en: str | None
    address: str
    phone: str | None
    lat: float
    lng: float
    input_lat: float
    input_lng: float
    input_datum: str
    timezone: str
    status: str
    primary_category_id: int
    intervals: tuple[dict, ...]  # HoursInterval dicts
    week: tuple[tuple[int, int, int], ...]  # the same, as merchants.hours has them
    closed_dates: tuple[str, ...]
    rating_avg: float
    rating_count: int


_CATEGORY_COLUMNS = (ServiceCategory.id, ServiceCategory.code, ServiceCategory.name_zh, ServiceCategory.name_en,
                     ServiceCategory.level)
# One statement, compiled once: a store's row once per category it offers (its primary one among them), its
# hours as the stored text (stores share a few weeks: each is parsed and formatted once, _week).
_VIEWS = (select(Store.id, Store.merchant_id, Store.name, Store.name_en, Store.address, Store.phone, Store.lat, Store.lng,
                 Store.input_lat, Store.input_lng, Store.input_datum, Store.timezone, Store.status,
                 Store.primary_category_id, cast(Store.hours, Text), cast(Store.closed_dates, Text), Store.rating_avg,
                 Store.rating_count, *_CATEGORY_COLUMNS)
          .join(StoreCategory, StoreCategory.store_id == Store.id)
          .join(ServiceCategory, ServiceCategory.id == StoreCategory.category_id)
          .where(Store.id.in_(bindparam("ids", expanding=True))))
_MARK = -918273645  # an id no store has, to find the IN list in the compiled statement


def _fetch_views(session: Session, ids: list[int]) -> list[tuple]:
    """_VIEWS' rows, run on the driver's cursor: SQLAlchemy's statement and row handling (a fetch per row)
    cost a page of results more than the database does."""
    conn = session.connection()
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_views_sql(conn.dialect, len(ids)), ids)
        return cursor.fetchall()
    finally:
        cursor.close()


def _views_sql(dialect, count: int) -> str:
    """_VIEWS as the driver's SQL for `count` ids."""
    return _views_template(dialect).replace(str(_MARK), ", ".join(["?" if dialect.paramstyle == "qmark" else "%s"] * count))


@lru_cache(maxsize=4)
def _views_template(dialect) -> str:
    compiled = _VIEWS.params(ids=[_MARK]).compile(dialect=dialect, compile_kwargs={"literal_binds": True,
                                                                                   "render_postcompile": True})
    return str(compiled)


_STORE_CATEGORIES = (select(StoreCategory.store_id, *_CATEGORY_COLUMNS)
                     .join(ServiceCategory, ServiceCategory.id == StoreCategory.category_id)
                     .where(StoreCategory.store_id.in_(bindparam("ids", expanding=True))))


def store_views(session: Session, store_ids: list[int], open_now: dict[int, bool] | None = None) -> list[dict]:
    """What `store_reads` gives, as JSON-ready dicts (the StoreRead schema), for the stores of these ids
    that exist, in the order given: for pages of many results that are serialised at once (one query).
    `open_now` may say which are open (a caller that has just worked it out); else it is worked out here."""
    facts: dict[int, _Facts] = {}
    own: dict[int, list[int]] = {}
    cats: dict[int, dict] = {}
    rows = _fetch_views(session, list(store_ids)) if store_ids else ()
    for *store, hours, closed, avg, count, category_id, code, name_zh, name_en, level in rows:
        if store[0] not in facts:
            facts[store[0]] = _Facts(*store, *_week(_parsed(hours)), _dates(closed), avg, count)
        own.setdefault(store[0], []).append(category_id)
        cats[category_id] = {"code": code, "name_zh": name_zh, "name_en": name_en, "level": level}
    found = [facts[i] for i in store_ids if i in facts]
    if open_now is None:
        now = utcnow()
        open_now = {f.id: f.status == StoreStatus.OPEN and hours_rules.is_open_at(
            list(f.week), list(f.closed_dates), f.timezone, now) for f in found}
    return _views(session, found, own, cats, open_now)


def _category_views(session: Session, store_ids: list[int]) -> tuple[dict[int, list[int]], dict[int, dict]]:
    """Each store's service category ids, and CategoryRead dicts by id."""
    own: dict[int, list[int]] = {i: [] for i in store_ids}
    cats: dict[int, dict] = {}
    for store_id, category_id, code, name_zh, name_en, level in (
            session.connection().execute(_STORE_CATEGORIES, {"ids": store_ids}) if store_ids else ()):
        own[store_id].append(category_id)
        cats[category_id] = {"code": code, "name_zh": name_zh, "name_en": name_en, "level": level}
    return own, cats


def _views(session: Session, facts: list[_Facts], own: dict[int, list[int]], cats: dict[int, dict],
           open_now: dict[int, bool]) -> list[dict]:
    """The views: GCJ-02 positions in one vectorised conversion. A store offers its primary service, so
    that is among its categories; one that is not is looked up."""
    missing = {f.primary_category_id for f in facts} - cats.keys()
    for category_id, c in taxonomy.service_categories_by_ids(session, missing).items() if missing else ():
        cats[category_id] = {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en, "level": c.level}
    gcj_lat, gcj_lng = from_wgs84_arrays([f.lat for f in facts], [f.lng for f in facts], Datum.GCJ02)
    return [{
        "id": f.id, "merchant_id": f.merchant_id, "name": f.name, "name_en": f.name_en, "address": f.address,
        "phone": f.phone, "location": {"lat": f.lat, "lng": f.lng, "datum": "wgs84"},
        "location_gcj02": {"lat": la, "lng": ln, "datum": "gcj02"},
        "input_location": {"lat": f.input_lat, "lng": f.input_lng, "datum": f.input_datum},
        "timezone": f.timezone, "status": f.status, "primary_category": cats[f.primary_category_id],
        "categories": sorted((cats[c] for c in own.get(f.id, ())), key=_by_code),
        "hours": {"intervals": f.intervals, "closed_dates": f.closed_dates},
        "open_now": open_now[f.id], "rating_avg": round(f.rating_avg, 2), "rating_count": f.rating_count,
    } for f, la, ln in zip(facts, gcj_lat.tolist(), gcj_lng.tolist())]


def _by_code(category: dict) -> str:
    return category["code"]


@lru_cache(maxsize=4096)  # stores share a few weeks of hours: each is formatted once
def _week(hours: tuple[tuple[int, int, int], ...]) -> tuple[tuple[dict, ...], tuple[tuple[int, int, int], ...]]:
    """A week of hours as HoursInterval dicts, and as it was given."""
    return tuple({"weekday": wd, "opens": hours_rules.hhmm(o),
                  "closes": "24:00" if c == hours_rules.MINUTES_PER_DAY else hours_rules.hhmm(c),
                  "next_day": c > hours_rules.MINUTES_PER_DAY} for wd, o, c in hours), hours


@lru_cache(maxsize=4096)
def _parsed(text: str | None) -> tuple[tuple[int, int, int], ...]:
    """A week of hours as stored (JSON text)."""
    return tuple(tuple(i) for i in json.loads(text or "[]"))


@lru_cache(maxsize=4096)
def _dates(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text or "[]"))


def _store_read(view: dict) -> StoreRead:
    """A StoreRead from a view, constructed: every value was checked when it was written."""
    loc = {k: LocationRead.model_construct(lat=view[k]["lat"], lng=view[k]["lng"], datum=Datum(view[k]["datum"]))
           for k in ("location", "location_gcj02", "input_location")}
    hours = OpeningHours.model_construct(
        intervals=[HoursInterval.model_construct(**i) for i in view["hours"]["intervals"]],
        closed_dates=[date.fromisoformat(d) for d in view["hours"]["closed_dates"]])
    return StoreRead.model_construct(**{
        **view, **loc, "status": StoreStatus(view["status"]), "hours": hours,
        "primary_category": CategoryRead.model_construct(**view["primary_category"]),
        "categories": [CategoryRead.model_construct(**c) for c in view["categories"]]})


def store_detail(session: Session, store: Store, *, include_hidden_items: bool) -> StoreDetail:
    merchant = session.get(Merchant, store.merchant_id)
    items = service_items.items_by_ids(session, repository.item_ids_at_store(session, store.id))
    if not include_hidden_items:
        items = [i for i in items if i.status == CatalogStatus.ACTIVE]
    return StoreDetail(**store_reads(session, [store])[0].model_dump(), merchant=merchant_read(merchant),
                       service_items=item_reads(session, items))


# --- which stores offer which service items ---------------------------------------------------


def set_item_stores(session: Session, item: ServiceItem, store_ids: list[int]) -> None:
    wanted = set(store_ids)
    own = repository.store_ids_of_merchant(session, item.merchant_id, wanted)
    if own != wanted:
        raise Invalid("Some stores do not belong to this merchant.", code="store_not_of_merchant",
                      details={"store_ids": sorted(wanted - own)})
    repository.replace_item_stores(session, item.id, wanted)
    session.flush()


def item_reads(session: Session, items: list[ServiceItem]) -> list[ServiceItemRead]:
    stores = repository.store_ids_by_item(session, [i.id for i in items])
    cats = taxonomy.service_categories_by_ids(session, {i.category_id for i in items})
    return [
        ServiceItemRead(id=i.id, merchant_id=i.merchant_id, category=CategoryRead.model_validate(cats[i.category_id]),
                        name_zh=i.name_zh, name_en=i.name_en, description=i.description, price_fen=i.price_fen,
                        duration_min=i.duration_min, status=i.status, at_home=bool(i.at_home),
                        store_ids=stores[i.id])
        for i in items
    ]
