"""Store rules: where a store is, when it opens, what it offers, and who may see it."""

from datetime import date, datetime

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal
from daodian.geo.datum import Datum, from_wgs84, to_wgs84
from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.clock import utcnow
from daodian.kit.errors import Invalid, NotFound
from daodian.merchants import hours as hours_rules
from daodian.merchants import repository, service_items
from daodian.merchants.item_schemas import ServiceItemRead
from daodian.merchants.models import Merchant, ServiceItem, Store, StoreStatus
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
    """API views of many stores in two extra queries."""
    by_store = repository.category_ids_by_store(session, [s.id for s in stores])
    all_ids = {s.primary_category_id for s in stores} | {c for ids in by_store.values() for c in ids}
    cats = {i: CategoryRead.model_validate(c) for i, c in taxonomy.service_categories_by_ids(session, all_ids).items()}
    now = utcnow()
    return [_store_read(s, cats, by_store[s.id], now) for s in stores]


def _store_read(store: Store, cats: dict[int, CategoryRead], category_ids: list[int], now: datetime) -> StoreRead:
    gcj_lat, gcj_lng = from_wgs84(store.lat, store.lng, Datum.GCJ02)
    return StoreRead(
        id=store.id, merchant_id=store.merchant_id, name=store.name, name_en=store.name_en, address=store.address,
        phone=store.phone, timezone=store.timezone, status=store.status,
        location=LocationRead(lat=store.lat, lng=store.lng, datum=Datum.WGS84),
        location_gcj02=LocationRead(lat=gcj_lat, lng=gcj_lng, datum=Datum.GCJ02),
        input_location=LocationRead(lat=store.input_lat, lng=store.input_lng, datum=store.input_datum),
        primary_category=cats[store.primary_category_id],
        categories=sorted((cats[c] for c in category_ids), key=lambda c: c.code),
        hours=opening_hours(store), open_now=is_open(store, now),
        rating_avg=round(store.rating_avg, 2), rating_count=store.rating_count,
    )


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
                        duration_min=i.duration_min, status=i.status, store_ids=stores[i.id])
        for i in items
    ]
