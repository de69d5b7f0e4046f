"""Offline sales as facts: checked against the merchant's catalog, tied to a member only with their
consent, idempotent by the POS receipt id, and appended to the outbox the analytics and mining read."""

import hashlib
import json

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize, require_login
from daodian.kit.api.pagination import PageParams
from daodian.kit.clock import utcnow
from daodian.kit.db import insert_unless_taken
from daodian.kit.events import publish
from daodian.kit.facts import append_fact
from daodian.merchants import service as merchants
from daodian.merchants import stores
from daodian.records import members, repository
from daodian.records.errors import LineNotOfMerchant, ReceiptConflict
from daodian.records.events import ConsumptionRecorded
from daodian.records.models import ConsumptionLine, ConsumptionRecord, IdentifiedBy, RecordSource
from daodian.records.schemas import (
    ConsumptionLineIn,
    ConsumptionLineRead,
    ConsumptionRecordCreate,
    MerchantRecordRead,
    MyRecordRead,
)


def content_hash(store_id: int, data: ConsumptionRecordCreate) -> str:
    """What a retry must repeat exactly: the request as validated (phone numbers normalised, times in UTC)."""
    canonical = {"store_id": store_id, **data.model_dump(mode="json", exclude={"receipt_id"})}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def record_consumption(session: Session, principal: Principal, store_id: int, data: ConsumptionRecordCreate, *,
                       source: RecordSource) -> tuple[ConsumptionRecord, bool]:
    """(the record, whether it is new). Replaying a receipt id returns the stored record unchanged."""
    store = stores.get_store(session, store_id)
    authorize(principal, Action.COUNTER, store.merchant_id)
    digest = content_hash(store.id, data)
    existing = repository.record_by_receipt(session, store.merchant_id, data.receipt_id)
    if existing is not None:
        return _replayed(existing, digest), False

    now = utcnow()
    descriptions = _describe_lines(session, store.merchant_id, data.lines)
    consumer_id, identified_by, voucher_id = None, IdentifiedBy.NONE, None
    if data.member is not None and data.member_consented:
        consumer_id, identified_by, voucher_id = members.identify(session, store.merchant_id, data.member)

    record_id = insert_unless_taken(session, ConsumptionRecord.__table__, ("merchant_id", "receipt_id"), dict(
        merchant_id=store.merchant_id, store_id=store.id, receipt_id=data.receipt_id, consumer_id=consumer_id,
        identified_by=identified_by.value, voucher_id=voucher_id, recorded_by=principal.user_id, source=source.value,
        occurred_at=data.occurred_at, total_fen=sum(line.amount_fen for line in data.lines), currency="CNY",
        content_hash=digest, created_at=now,
    ))
    if record_id is None:  # a concurrent request with the same receipt id committed first
        return _replayed(repository.record_by_receipt(session, store.merchant_id, data.receipt_id), digest), False

    lines = [ConsumptionLine(record_id=record_id, line_no=n, sku_id=line.sku_id, service_item_id=line.service_item_id,
                             description=descriptions[n], quantity=line.quantity, amount_fen=line.amount_fen)
             for n, line in enumerate(data.lines)]
    session.add_all(lines)
    session.flush()
    record = session.get(ConsumptionRecord, record_id)
    append_fact(session, "consumption.recorded", _fact_payload(record, lines), occurred_at=record.occurred_at,
                merchant_id=record.merchant_id, store_id=record.store_id, consumer_id=record.consumer_id)
    publish(session, ConsumptionRecorded(record=record))  # an identified member earns, once per record
    return record, True


def _replayed(record: ConsumptionRecord, digest: str) -> ConsumptionRecord:
    if record.content_hash != digest:
        raise ReceiptConflict(details={"record_id": record.id})
    return record


def _describe_lines(session: Session, merchant_id: int, lines: list[ConsumptionLineIn]) -> list[str]:
    """Each line's description (given, or the catalog name now); 422 if a line is not this merchant's."""
    skus = repository.sku_names_of_merchant(session, merchant_id, {ln.sku_id for ln in lines if ln.sku_id})
    items = repository.item_names_of_merchant(session, merchant_id,
                                              {ln.service_item_id for ln in lines if ln.service_item_id})
    names = [skus.get(ln.sku_id) if ln.sku_id else items.get(ln.service_item_id) for ln in lines]
    unknown = [n for n, name in enumerate(names) if name is None]
    if unknown:
        raise LineNotOfMerchant(details={"lines": unknown})
    return [(ln.description or "").strip() or name[:255] for ln, name in zip(lines, names)]


def _fact_payload(record: ConsumptionRecord, lines: list[ConsumptionLine]) -> dict:
    return {
        "record_id": record.id, "receipt_id": record.receipt_id, "source": record.source,
        "identified_by": record.identified_by, "total_fen": record.total_fen, "currency": record.currency,
        "lines": [{"sku_id": ln.sku_id, "service_item_id": ln.service_item_id, "quantity": ln.quantity,
                   "amount_fen": ln.amount_fen} for ln in lines],
    }


# --- reading ----------------------------------------------------------------------------------


def _common(record: ConsumptionRecord, lines: list[ConsumptionLine]) -> dict:
    return dict(
        id=record.id, merchant_id=record.merchant_id, store_id=record.store_id, receipt_id=record.receipt_id,
        occurred_at=record.occurred_at, total_fen=record.total_fen, currency=record.currency, source=record.source,
        identified_by=record.identified_by, created_at=record.created_at,
        lines=[ConsumptionLineRead(sku_id=ln.sku_id, service_item_id=ln.service_item_id, description=ln.description,
                                   quantity=ln.quantity, amount_fen=ln.amount_fen) for ln in lines],
    )


def merchant_reads(session: Session, records: list[ConsumptionRecord]) -> list[MerchantRecordRead]:
    lines = repository.lines_by_record(session, [r.id for r in records])
    return [MerchantRecordRead(**_common(r, lines[r.id]), consumer_id=r.consumer_id, recorded_by=r.recorded_by)
            for r in records]


def my_reads(session: Session, records: list[ConsumptionRecord]) -> list[MyRecordRead]:
    ids = [r.id for r in records]
    lines, reviews = repository.lines_by_record(session, ids), repository.review_ids_by_record(session, ids)
    return [MyRecordRead(**_common(r, lines[r.id]), review_id=reviews.get(r.id)) for r in records]


def merchant_records(session: Session, principal: Principal, merchant_id: int, params: PageParams,
                     store_id: int | None) -> tuple[list[MerchantRecordRead], str | None]:
    merchant = merchants.managed_merchant(session, principal, merchant_id, Action.CONSOLE_VIEW)
    stmt = repository.records_query(merchant_id=merchant.id, store_id=store_id)
    rows, cursor = repository.newest_first(session, stmt, ConsumptionRecord.id, params)
    return merchant_reads(session, rows), cursor


def my_records(session: Session, principal: Principal, params: PageParams) -> tuple[list[MyRecordRead], str | None]:
    require_login(principal)
    stmt = repository.records_query(consumer_id=principal.user_id)
    rows, cursor = repository.newest_first(session, stmt, ConsumptionRecord.id, params)
    return my_reads(session, rows), cursor
