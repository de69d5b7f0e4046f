from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from daodian.kit.db import UTCDateTime
from daodian.vouchers.models import Verification, VerificationFailure, Voucher

# The counter's statements, built once (building one cost about what running it does).
_BY_CODE = select(Voucher).where(Voucher.code == bindparam("code")).execution_options(populate_existing=True)
_FAILURES_BY_TERMINAL = (
    select(VerificationFailure.terminal, func.count())
    .where(VerificationFailure.terminal.in_(bindparam("terminals", expanding=True)),
           VerificationFailure.attempted_at >= bindparam("since", type_=UTCDateTime()))
    .group_by(VerificationFailure.terminal))
_USES_LEFT_IN_ORDER = select(func.coalesce(func.sum(Voucher.uses_left), 0)).where(
    Voucher.order_id == bindparam("order_id"))


def voucher_by_code(session: Session, code: str) -> Voucher | None:
    return session.scalar(_BY_CODE, {"code": code})


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


def failures_by_terminal(session: Session, terminals: list[str], since: datetime) -> dict[str, int]:
    """Wrong codes per terminal since `since` (terminals without any are absent), in one read."""
    return dict(session.execute(_FAILURES_BY_TERMINAL, {"terminals": terminals, "since": since}).all())


def verifications_query(*, merchant_id: int) -> Select:
    return select(Verification).where(Verification.merchant_id == merchant_id)


def uses_left_in_order(session: Session, order_id: int) -> int:
    return session.scalar(_USES_LEFT_IN_ORDER, {"order_id": order_id})
