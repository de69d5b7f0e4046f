from collections import defaultdict

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from daodian.accounts.models import User
from daodian.catalog.models import Product, Sku
from daodian.kit.api.pagination import PageParams
from daodian.merchants.models import ServiceItem, Store
from daodian.records.models import ConsumptionLine, ConsumptionRecord, Review, ReviewStatus
from daodian.vouchers.models import Verification, Voucher


def newest_first(session: Session, stmt: Select, id_column, params: PageParams) -> tuple[list, str | None]:
    """Keyset pages, newest first: the cursor is the last id seen, the next page holds smaller ids."""
    if params.after_id is not None:
        stmt = stmt.where(id_column < params.after_id)
    rows = list(session.scalars(stmt.order_by(id_column.desc()).limit(params.limit + 1)))
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    return rows, (str(rows[-1].id) if more and rows else None)


# --- members ----------------------------------------------------------------------------------


def active_user_id_by_phone(session: Session, phone: str) -> int | None:
    return session.scalar(select(User.id).where(User.phone == phone, User.is_active.is_(True)))


def active_user_id_by_member_code(session: Session, code: str) -> int | None:
    return session.scalar(select(User.id).where(User.member_code == code, User.is_active.is_(True)))


def member_code_of(session: Session, user_id: int) -> str | None:
    return session.scalar(select(User.member_code).where(User.id == user_id))


def set_member_code_once(session: Session, user_id: int, code: str) -> None:
    # Conditional: two first requests racing both end up with the code of whichever wrote first.
    session.execute(update(User).where(User.id == user_id, User.member_code.is_(None)).values(member_code=code)
                    .execution_options(synchronize_session=False))


# --- consumption records ----------------------------------------------------------------------


def record_by_receipt(session: Session, merchant_id: int, receipt_id: str) -> ConsumptionRecord | None:
    return session.scalar(select(ConsumptionRecord).where(ConsumptionRecord.merchant_id == merchant_id,
                                                          ConsumptionRecord.receipt_id == receipt_id))


def sku_names_of_merchant(session: Session, merchant_id: int, sku_ids: set[int]) -> dict[int, str]:
    if not sku_ids:
        return {}
    rows = session.execute(select(Sku.id, Product.name_zh, Sku.spec_zh).join(Product, Product.id == Sku.product_id)
                           .where(Sku.id.in_(sku_ids), Product.merchant_id == merchant_id))
    return {sku_id: f"{name} {spec}".strip() for sku_id, name, spec in rows}


def item_names_of_merchant(session: Session, merchant_id: int, item_ids: set[int]) -> dict[int, str]:
    if not item_ids:
        return {}
    rows = session.execute(select(ServiceItem.id, ServiceItem.name_zh)
                           .where(ServiceItem.id.in_(item_ids), ServiceItem.merchant_id == merchant_id))
    return dict(rows.all())


def lines_by_record(session: Session, record_ids: list[int]) -> dict[int, list[ConsumptionLine]]:
    grouped: dict[int, list[ConsumptionLine]] = defaultdict(list)
    if record_ids:
        stmt = select(ConsumptionLine).where(ConsumptionLine.record_id.in_(record_ids)).order_by(
            ConsumptionLine.record_id, ConsumptionLine.line_no)
        for line in session.scalars(stmt):
            grouped[line.record_id].append(line)
    return grouped


def records_query(*, merchant_id: int | None = None, store_id: int | None = None,
                  consumer_id: int | None = None) -> Select:
    stmt = select(ConsumptionRecord)
    if merchant_id is not None:
        stmt = stmt.where(ConsumptionRecord.merchant_id == merchant_id)
    if store_id is not None:
        stmt = stmt.where(ConsumptionRecord.store_id == store_id)
    if consumer_id is not None:
        stmt = stmt.where(ConsumptionRecord.consumer_id == consumer_id)
    return stmt


def record_has_product_line(session: Session, record_id: int) -> bool:
    return session.scalar(select(func.count()).select_from(ConsumptionLine).where(
        ConsumptionLine.record_id == record_id, ConsumptionLine.sku_id.is_not(None))) > 0


# --- reviews ----------------------------------------------------------------------------------


def review_ids_by_record(session: Session, record_ids: list[int]) -> dict[int, int]:
    if not record_ids:
        return {}
    return dict(session.execute(select(Review.record_id, Review.id).where(Review.record_id.in_(record_ids))).all())


def review_exists(session: Session, *, record_id: int | None, verification_id: int | None) -> bool:
    if record_id is not None:
        return session.scalar(select(Review.id).where(Review.record_id == record_id)) is not None
    return session.scalar(select(Review.id).where(Review.verification_id == verification_id)) is not None


def verification_basis(session: Session, verification_id: int):
    """(id, store_id, merchant_id, reversed_at, consumer_id) of a counter verification, or None."""
    return session.execute(
        select(Verification.id, Verification.store_id, Verification.merchant_id, Verification.reversed_at,
               Voucher.consumer_id).join(Voucher, Voucher.id == Verification.voucher_id)
        .where(Verification.id == verification_id)).first()


def visible_reviews_query(store_id: int) -> Select:
    return select(Review).where(Review.store_id == store_id, Review.status == ReviewStatus.VISIBLE)


def display_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())


def add_to_store_rating(session: Session, store_id: int, rating: int, now) -> None:
    """Fold one rating into the running average in a single statement: concurrent reviews serialise on the
    row lock and each sees the other's result, so none is lost. Whatever the store started with (an
    imported rating) stays in as the prior it is."""
    session.execute(update(Store).where(Store.id == store_id).values(
        rating_avg=(Store.rating_avg * Store.rating_count + float(rating)) / (Store.rating_count + 1),
        rating_count=Store.rating_count + 1,
        updated_at=now,  # the nearby index polls updated_at
    ).execution_options(synchronize_session=False))


def remove_from_store_rating(session: Session, store_id: int, rating: int, now) -> None:
    """The inverse of add_to_store_rating, for a review an operator hides."""
    session.execute(update(Store).where(Store.id == store_id, Store.rating_count > 0).values(
        rating_avg=func.coalesce(
            (Store.rating_avg * Store.rating_count - float(rating)) / func.nullif(Store.rating_count - 1, 0), 0.0),
        rating_count=Store.rating_count - 1,
        updated_at=now,
    ).execution_options(synchronize_session=False))


def hide_review_if_visible(session: Session, review_id: int) -> bool:
    result = session.execute(update(Review).where(Review.id == review_id, Review.status == ReviewStatus.VISIBLE)
                             .values(status=ReviewStatus.HIDDEN).execution_options(synchronize_session=False))
    return result.rowcount == 1
