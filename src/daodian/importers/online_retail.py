"""`daodian import transactions PATH --format online-retail`: the UCI Online Retail file as one merchant's
offline consumption records (a UK gift retailer, 2010-12 .. 2011-12; ../shared/datasets/README.md).

Rules (tests/analytics/test_online_retail.py checks the result against pandas on the same file):
- one merchant (external_ref `online-retail`) with one store in London (time zone Europe/London);
- one product with one SKU per StockCode (SKU code = StockCode; name = its most frequent Description);
- an invoice (InvoiceNo of 6 digits) is one consumption record, receipt id = InvoiceNo, at the earliest
  InvoiceDate of its lines (London time), currency GBP; each line's amount is Quantity x UnitPrice in
  pence (1 GBP = 100 pence), rounded half up; free lines (UnitPrice 0) are kept with amount 0;
- a cancellation (InvoiceNo `C` + 6 digits, negative Quantity) is a refund: a `consumption.refunded`
  fact with positive quantities and amounts (the file does not say which invoice it cancels, and the
  records table holds sales only);
- CustomerID -> a pseudonymous member (phone `or-<id>`: not a phone number, so no login; inactive);
  a line without one is an anonymous sale;
- rejected: adjustments (InvoiceNo `A...`), lines of an invoice with Quantity <= 0 (stock corrections),
  negative prices, unreadable lines.
Idempotent: invoices and cancellations already imported (by receipt id) are skipped. Facts are written
in time order in the same transaction, in bulk.
"""

import csv
import gzip
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from daodian.accounts.models import User
from daodian.catalog.models import Product, Sku
from daodian.importers.report import ImportReport
from daodian.kit.clock import utcnow
from daodian.kit.facts import Fact
from daodian.merchants.models import Merchant, MerchantStatus, Store
from daodian.records.models import ConsumptionLine, ConsumptionRecord
from daodian.taxonomy.models import ProductCategory
from daodian.taxonomy.service import leaf_service_category

EXTERNAL_REF = "online-retail"
TIMEZONE = "Europe/London"
CURRENCY = "GBP"
PRODUCT_CATEGORY = "home.storage"  # gifts and homeware; the platform's tree has no closer leaf
STORE_CATEGORY = "life_service.cleaning"  # a shop offers no service; a leaf is required, this is a placeholder
INVOICE = re.compile(r"^(C?)(\d{6})$")
CHUNK = 2000

Progress = Callable[[int], None]


@dataclass
class Invoice:
    number: str
    cancelled: bool
    customer: str | None
    at: datetime
    lines: list[tuple[str, str, int, int]] = field(default_factory=list)  # code, description, qty, pence


def pence(quantity: int, unit_price: Decimal) -> int:
    return int((Decimal(quantity) * unit_price * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read_invoices(path: Path, report: ImportReport, on_progress: Progress | None = None
                  ) -> tuple[dict[str, Invoice], dict[str, str]]:
    """(invoices by number, product name by StockCode); bad lines go to the report."""
    zone = ZoneInfo(TIMEZONE)
    invoices: dict[str, Invoice] = {}
    names: dict[str, Counter] = {}
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            if on_progress and number % 10_000 == 0:
                on_progress(10_000)
            invoice_no, code = (row.get("InvoiceNo") or "").strip(), (row.get("StockCode") or "").strip()
            match = INVOICE.match(invoice_no)
            if not match:
                report.reject(number, invoice_no, "not_a_sale", "not an invoice or a cancellation (an adjustment)")
                continue
            try:
                quantity = int(float(row["Quantity"]))
                price = Decimal(row["UnitPrice"])
                at = datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
                customer = str(int(float(row["CustomerID"]))) if row.get("CustomerID") else None
            except (ValueError, InvalidOperation, KeyError, TypeError):
                report.reject(number, invoice_no, "unreadable", "quantity, price, date or customer unreadable")
                continue
            cancelled = bool(match.group(1))
            if not code:
                report.reject(number, invoice_no, "unreadable", "no StockCode")
            elif price < 0:
                report.reject(number, invoice_no, "negative_price", "negative unit price")
            elif (quantity <= 0) != cancelled:
                report.reject(number, invoice_no, "not_a_sale",
                              "a cancellation with a positive quantity" if cancelled else "quantity <= 0 on an invoice")
            else:
                description = (row.get("Description") or "").strip()
                if description:
                    names.setdefault(code, Counter())[description] += 1
                invoice = invoices.get(invoice_no)
                if invoice is None:
                    invoice = invoices[invoice_no] = Invoice(invoice_no, cancelled, customer, at)
                invoice.at = min(invoice.at, at)
                invoice.customer = invoice.customer or customer
                invoice.lines.append((code, description, abs(quantity), pence(abs(quantity), price)))
    codes = {code for inv in invoices.values() for code, *_ in inv.lines}
    product_names = {c: (names[c].most_common(1)[0][0] if c in names else c) for c in codes}
    return invoices, product_names


def import_online_retail(session: Session, path: Path, *, merchant_name: str = "Online Retail (UK)",
                         on_progress: Progress | None = None) -> ImportReport:
    report = ImportReport(source=str(path))
    invoices, product_names = read_invoices(path, report, on_progress)
    merchant, store, clerk = _merchant(session, merchant_name)
    skus = _skus(session, merchant.id, product_names, invoices)
    members = _members(session, {inv.customer for inv in invoices.values() if inv.customer})
    done = set(session.scalars(select(ConsumptionRecord.receipt_id).where(
        ConsumptionRecord.merchant_id == merchant.id))) | _refunded_receipts(session, merchant.id)
    fresh = sorted((inv for inv in invoices.values() if inv.number not in done), key=lambda i: (i.at, i.number))
    report.unchanged = sum(len(inv.lines) for inv in invoices.values() if inv.number in done)
    now = utcnow()
    for start in range(0, len(fresh), CHUNK):
        chunk = fresh[start:start + CHUNK]
        sales = [inv for inv in chunk if not inv.cancelled]
        record_ids = _insert_records(session, merchant.id, store.id, clerk.id, sales, members, skus, now)
        facts = []
        for inv in chunk:
            lines = [{"sku_id": skus[code], "service_item_id": None, "quantity": qty, "amount_fen": amount}
                     for code, _, qty, amount in inv.lines]
            payload = {"record_id": record_ids.get(inv.number), "receipt_id": inv.number, "source": "pos",
                       "identified_by": "member_code" if inv.customer else "none",
                       "total_fen": sum(line["amount_fen"] for line in lines), "currency": CURRENCY, "lines": lines}
            facts.append({"kind": "consumption.refunded" if inv.cancelled else "consumption.recorded",
                          "occurred_at": inv.at, "recorded_at": now, "merchant_id": merchant.id, "store_id": store.id,
                          "consumer_id": members.get(inv.customer), "payload": payload})
        session.execute(insert(Fact), facts)
        report.created += sum(len(inv.lines) for inv in chunk)
    session.flush()
    return report


def _merchant(session: Session, name: str) -> tuple[Merchant, Store, User]:
    clerk = _system_user(session, "import-or", "Online Retail import")
    merchant = session.scalar(select(Merchant).where(Merchant.external_ref == EXTERNAL_REF))
    if merchant is None:
        merchant = Merchant(name=name, name_en=name, description="UCI Online Retail data set (imported).",
                            status=MerchantStatus.ACTIVE, external_ref=EXTERNAL_REF)
        session.add(merchant)
        session.flush()
    store = session.scalar(select(Store).where(Store.external_ref == f"{EXTERNAL_REF}:store"))
    if store is None:
        store = Store(merchant_id=merchant.id, name=name, name_en=name, address="London, United Kingdom",
                      lat=51.5074, lng=-0.1278, input_lat=51.5074, input_lng=-0.1278, input_datum="wgs84",
                      timezone=TIMEZONE, hours=[], closed_dates=[], external_ref=f"{EXTERNAL_REF}:store",
                      primary_category_id=leaf_service_category(session, STORE_CATEGORY).id)
        session.add(store)
        session.flush()
    return merchant, store, clerk


def _system_user(session: Session, phone: str, name: str) -> User:
    user = session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(phone=phone, display_name=name, password_hash="!", is_active=False)
        session.add(user)
        session.flush()
    return user


def _members(session: Session, customers: set[str]) -> dict[str, int]:
    phones = {f"or-{c}": c for c in customers}
    found = {phone: uid for uid, phone in session.execute(select(User.id, User.phone).where(User.phone.like("or-%")))}
    new = [{"phone": p, "display_name": f"Online Retail {c}", "password_hash": "!", "is_active": False,
            "is_operator": False, "failed_logins": 0, "created_at": utcnow()} for p, c in phones.items() if p not in found]
    for start in range(0, len(new), CHUNK):
        session.execute(insert(User), new[start:start + CHUNK])
    found = {phone: uid for uid, phone in session.execute(select(User.id, User.phone).where(User.phone.like("or-%")))}
    return {c: found[p] for p, c in phones.items()}


def _skus(session: Session, merchant_id: int, names: dict[str, str], invoices: dict[str, Invoice]) -> dict[str, int]:
    def existing() -> dict[str, int]:
        return dict(session.execute(select(Sku.code, Sku.id).join(Product, Product.id == Sku.product_id)
                                    .where(Product.merchant_id == merchant_id)).all())

    known = existing()
    missing = sorted(set(names) - set(known))
    if missing:
        category = session.scalar(select(ProductCategory.id).where(ProductCategory.code == PRODUCT_CATEGORY))
        prices: dict[str, int] = {}
        for inv in invoices.values():  # the last sold price, as the SKU's list price
            for code, _, qty, amount in inv.lines:
                if not inv.cancelled and qty:
                    prices[code] = amount // qty
        now = utcnow()
        for start in range(0, len(missing), CHUNK):
            codes = missing[start:start + CHUNK]
            ids = session.execute(insert(Product).returning(Product.id, sort_by_parameter_order=True), [
                {"merchant_id": merchant_id, "category_id": category, "name_zh": names[c][:120],
                 "name_en": names[c][:120], "description": "", "status": "active", "created_at": now,
                 "updated_at": now} for c in codes]).scalars().all()
            session.execute(insert(Sku), [{"product_id": pid, "code": c, "spec_zh": "", "price_fen": prices.get(c, 0),
                                           "status": "active"} for pid, c in zip(ids, codes)])
        known = existing()
    return known


def _refunded_receipts(session: Session, merchant_id: int) -> set[str]:
    payloads = session.scalars(select(Fact.payload).where(Fact.merchant_id == merchant_id,
                                                          Fact.kind == "consumption.refunded"))
    return {p.get("receipt_id") for p in payloads}


def _insert_records(session: Session, merchant_id: int, store_id: int, clerk_id: int, sales: list[Invoice],
                    members: dict[str, int], skus: dict[str, int], now: datetime) -> dict[str, int]:
    if not sales:
        return {}
    # Core inserts in bulk: records.service records one receipt at a time, far too slow for 20,000.
    records, lines = ConsumptionRecord.__table__, ConsumptionLine.__table__
    rows = [{"merchant_id": merchant_id, "store_id": store_id, "receipt_id": inv.number,
             "consumer_id": members.get(inv.customer), "identified_by": "member_code" if inv.customer else "none",
             "voucher_id": None, "recorded_by": clerk_id, "source": "pos", "occurred_at": inv.at,
             "total_fen": sum(line[3] for line in inv.lines), "currency": CURRENCY,
             "content_hash": _digest(inv), "created_at": now} for inv in sales]
    ids = session.execute(insert(records).returning(records.c.id, sort_by_parameter_order=True), rows).scalars().all()
    session.execute(insert(lines), [
        {"record_id": rid, "line_no": n, "sku_id": skus[code], "service_item_id": None,
         "description": (description or code)[:255], "quantity": qty, "amount_fen": amount}
        for rid, inv in zip(ids, sales) for n, (code, description, qty, amount) in enumerate(inv.lines)])
    return {inv.number: rid for inv, rid in zip(sales, ids)}


def _digest(inv: Invoice) -> str:
    canonical = {"receipt_id": inv.number, "customer": inv.customer, "at": inv.at.isoformat(), "lines": inv.lines}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def count_lines(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return sum(1 for _ in io.BufferedReader(fh)) - 1
