"""Consent to be identified to a merchant (PIPL Art. 23): who, to whom, for what, since when, until when.

A merchant learns a member's identity (name, phone, purchase profile) only while the member's consent
for that merchant is live. Withdrawing keeps the row (the history is the evidence) and stamps
`withdrawn_at`; granting again adds a new row. At most one live consent per (consumer, merchant, scope),
enforced by a partial unique index.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from daodian.accounts.authz import Principal, require_login
from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class ConsentScope(StrEnum):
    IDENTITY = "identity"  # name, phone and the purchase profile, shown in the merchant's member list


class MerchantConsent(Base):
    __tablename__ = "merchant_consents"
    __table_args__ = (
        Index("uq_merchant_consents_live", "consumer_id", "merchant_id", "scope", unique=True,
              sqlite_where=text("withdrawn_at IS NULL"), postgresql_where=text("withdrawn_at IS NULL")),
    )

    id: Mapped[IdPk]
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    scope: Mapped[ConsentScope] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(32))  # where it was given: "api", "page", "counter"


def live_consent(session: Session, consumer_id: int, merchant_id: int,
                 scope: ConsentScope = ConsentScope.IDENTITY) -> MerchantConsent | None:
    return session.scalar(select(MerchantConsent).where(
        MerchantConsent.consumer_id == consumer_id, MerchantConsent.merchant_id == merchant_id,
        MerchantConsent.scope == scope, MerchantConsent.withdrawn_at.is_(None)))


def grant(session: Session, principal: Principal, merchant_id: int, *, scope: ConsentScope = ConsentScope.IDENTITY,
          source: str = "api") -> tuple[MerchantConsent, bool]:
    """(the live consent, whether it is new). Granting twice changes nothing."""
    require_login(principal)
    existing = live_consent(session, principal.user_id, merchant_id, scope)
    if existing is not None:
        return existing, False
    consent = MerchantConsent(consumer_id=principal.user_id, merchant_id=merchant_id, scope=scope.value,
                              granted_at=utcnow(), source=source)
    session.add(consent)
    session.flush()
    return consent, True


def withdraw(session: Session, consumer_id: int, merchant_id: int | None = None,
             scope: ConsentScope | None = None) -> int:
    """Withdraw live consents (all merchants when `merchant_id` is None); returns how many. Idempotent."""
    stmt = update(MerchantConsent).where(MerchantConsent.consumer_id == consumer_id,
                                         MerchantConsent.withdrawn_at.is_(None))
    if merchant_id is not None:
        stmt = stmt.where(MerchantConsent.merchant_id == merchant_id)
    if scope is not None:
        stmt = stmt.where(MerchantConsent.scope == scope)
    result = session.execute(stmt.values(withdrawn_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def consents_of(session: Session, consumer_id: int) -> list[MerchantConsent]:
    """Every consent the consumer ever gave, newest first (withdrawn ones included: that is the record)."""
    return list(session.scalars(select(MerchantConsent).where(MerchantConsent.consumer_id == consumer_id)
                                .order_by(MerchantConsent.id.desc())))


def consenting_consumers(session: Session, merchant_id: int,
                         scope: ConsentScope = ConsentScope.IDENTITY) -> dict[int, datetime]:
    """consumer id -> since when, for every live consent to `merchant_id`."""
    rows = session.execute(select(MerchantConsent.consumer_id, MerchantConsent.granted_at).where(
        MerchantConsent.merchant_id == merchant_id, MerchantConsent.scope == scope,
        MerchantConsent.withdrawn_at.is_(None)))
    return {consumer_id: granted_at for consumer_id, granted_at in rows}
