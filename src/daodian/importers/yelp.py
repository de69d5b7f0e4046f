"""`daodian import yelp PATH`: Yelp academic data set businesses as merchants and stores.

Each business becomes one merchant and one store, both with `external_ref = "yelp:<business_id>"`, so
a re-import finds and updates them instead of adding copies. A bad line is reported and skipped,
never fatal. The caller owns the transaction (a dry run simply rolls it back).

On re-import the store's fields follow the file (it is the source of those facts); the merchant's
status does not, because suspending or approving a merchant is the operator's decision.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from daodian.importers.report import ImportReport
from daodian.importers.yelp_categories import target_codes
from daodian.importers.yelp_records import TIMEZONE, Rejected, YelpStore, business_id, decode, parse
from daodian.kit.clock import utcnow
from daodian.merchants.models import Merchant, MerchantStatus, Store, StoreCategory
from daodian.taxonomy import service as taxonomy

BATCH = 500

Progress = Callable[[int], None]


def import_yelp(session: Session, path: Path, *, fallback: str | None = None, dry_run: bool = False,
                on_progress: Progress | None = None) -> ImportReport:
    """Import a Yelp business file; `fallback` (a leaf code) takes businesses whose categories map to nothing."""
    category_ids = _category_ids(session, target_codes() | ({fallback} if fallback else set()))
    report = ImportReport(source=str(path), dry_run=dry_run)
    batch: list[YelpStore] = []
    for record in _records(path, fallback, report, on_progress):
        batch.append(record)
        if len(batch) >= BATCH:
            _upsert(session, batch, category_ids, report)
            batch = []
    if batch:
        _upsert(session, batch, category_ids, report)
    return report


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def _category_ids(session: Session, codes: set[str]) -> dict[str, int]:
    # Resolving every target up front turns a mapping that names a missing or non-leaf category into
    # one clear error before any row is written, not a failure half way.
    return {code: taxonomy.leaf_service_category(session, code).id for code in sorted(codes)}


def _records(path: Path, fallback: str | None, report: ImportReport,
             on_progress: Progress | None) -> Iterator[YelpStore]:
    first_line: dict[str, int] = {}
    number = 0
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if on_progress and number % 100 == 0:
                on_progress(100)
            if not raw.strip():
                continue  # a blank line holds no business; not worth a rejection
            obj = None
            try:
                obj = decode(raw)
                record = parse(obj, number, fallback)
                if record.ref in first_line:
                    raise Rejected("duplicate_business_id", f"business_id already seen on line {first_line[record.ref]}")
            except Rejected as exc:
                report.reject(number, business_id(obj), exc.code, exc.reason)
                continue
            first_line[record.ref] = number
            yield record
    if on_progress:
        on_progress(number % 100)


def _upsert(session: Session, batch: list[YelpStore], category_ids: dict[str, int], report: ImportReport) -> None:
    refs = [r.ref for r in batch]
    merchants = {m.external_ref: m for m in session.scalars(select(Merchant).where(Merchant.external_ref.in_(refs)))}
    stores = {s.external_ref: s for s in session.scalars(select(Store).where(Store.external_ref.in_(refs)))}
    linked: dict[int, set[int]] = {}
    rows = session.execute(select(StoreCategory.store_id, StoreCategory.category_id)
                           .where(StoreCategory.store_id.in_([s.id for s in stores.values()])))
    for store_id, category_id in rows:
        linked.setdefault(store_id, set()).add(category_id)

    now = utcnow()
    touched: set[str] = set()
    for record in batch:
        merchant = merchants.get(record.ref)
        if merchant is None:
            merchants[record.ref] = Merchant(name=record.name, name_en=record.name, description="",
                                             status=MerchantStatus.ACTIVE, external_ref=record.ref,
                                             created_at=now, updated_at=now)
            session.add(merchants[record.ref])
            touched.add(record.ref)
        elif (merchant.name, merchant.name_en) != (record.name, record.name):
            merchant.name = merchant.name_en = record.name
            merchant.updated_at = now
            touched.add(record.ref)
    session.flush()

    new_stores: list[tuple[Store, YelpStore]] = []
    for record in batch:
        fields = _store_fields(record, category_ids)
        wanted = {category_ids[c] for c in record.categories}
        store = stores.get(record.ref)
        if store is None:
            store = Store(merchant_id=merchants[record.ref].id, external_ref=record.ref, closed_dates=[],
                          created_at=now, updated_at=now, **fields)
            session.add(store)
            new_stores.append((store, record))
            report.created += 1
            continue
        store_same = all(getattr(store, key) == value for key, value in fields.items())
        categories_same = linked.get(store.id, set()) == wanted
        if not store_same:
            for key, value in fields.items():
                setattr(store, key, value)
        if not categories_same:
            session.execute(delete(StoreCategory).where(StoreCategory.store_id == store.id))
            session.add_all(StoreCategory(store_id=store.id, category_id=c) for c in sorted(wanted))
        if store_same and categories_same and record.ref not in touched:
            report.unchanged += 1
        else:
            store.updated_at = now
            report.updated += 1
    session.flush()
    session.add_all(StoreCategory(store_id=store.id, category_id=category_ids[c])
                    for store, record in new_stores for c in record.categories)
    session.flush()


def _store_fields(record: YelpStore, category_ids: dict[str, int]) -> dict:
    # Yelp gives WGS-84, which is also what `lat`/`lng` hold, so input and normalised coordinates agree.
    return dict(name=record.name, name_en=record.name, address=record.address,
                lat=record.lat, lng=record.lng, input_lat=record.lat, input_lng=record.lng, input_datum="wgs84",
                timezone=TIMEZONE, hours=record.hours, status=record.status,
                primary_category_id=category_ids[record.primary], rating_avg=record.rating_avg,
                rating_count=record.rating_count)
