from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from daodian.vouchers.models import Verification, VerificationFailure, Voucher


def voucher_by_code(session: Session, code: str) -> Voucher | None:
    return session.scalar(select(Voucher).where(Voucher.code == code).execution_options(populate_existing=True))


def vouchers_by_ids(session: Session, ids: set[int]) -> dict[int, Voucher]:
    if not ids:
        return {}
    return {v.id: v for v in session.scalars(select(Voucher).where(Voucher.id.in_(ids))
                                             .execution_options(populate_existing=True))}


def vouchers_of_order(session: Session, order_id: int) -> list[Voucher]:
    return list(session.scalars(select(Voucher).where(Voucher.order_id == order_id).order_by(Voucher.id)
                                .execution_options(populate_existing=True)))


def vouchers_query(*, consumer_id: int) -> Select:
    return select(Voucher).where(Voucher.consumer_id == consumer_id)


def failures_since(session: Session, terminals: list[str], since: datetime) -> int:
    return session.scalar(select(func.count()).select_from(VerificationFailure)
                          .where(VerificationFailure.terminal.in_(terminals), VerificationFailure.attempted_at >= since))


def verifications_query(*, merchant_id: int) -> Select:
    return select(Verification).where(Verification.merchant_id == merchant_id)


def uses_left_in_order(session: Session, order_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(Voucher.uses_left), 0)).where(Voucher.order_id == order_id))
