from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from daodian.kit.clock import utcnow
from daodian.kit.db import Base, BigId, IdPk, UTCDateTime


class Voucher(Base):
    """A paid right to a service item: `uses_total` uses, redeemed at the counter one at a time.

    Invariant: used + uses_left + refunded_uses = uses_total, where used = verifications not reversed.
    """

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("uses_left >= 0", name="uses_left_not_negative"),
        CheckConstraint("refunded_uses >= 0 AND uses_left + refunded_uses <= uses_total", name="uses_add_up"),
    )

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(24), unique=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"))
    consumer_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    service_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_items.id"))
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)  # what the whole voucher cost
    uses_total: Mapped[int] = mapped_column(Integer)
    uses_left: Mapped[int] = mapped_column(Integer)
    refunded_uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Verification(Base):
    """One use of a voucher at a store's counter (核销); a manager may reverse it for a while."""

    __tablename__ = "verifications"

    id: Mapped[IdPk]
    voucher_id: Mapped[int] = mapped_column(BigId, ForeignKey("vouchers.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(BigId, ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int] = mapped_column(BigId, ForeignKey("stores.id"), index=True)
    staff_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    terminal_id: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversed_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class VerificationFailure(Base):
    """A wrong code typed at a terminal; enough of them in a window throttle that terminal."""

    __tablename__ = "verification_failures"

    id: Mapped[IdPk]
    terminal: Mapped[str] = mapped_column(String(96), index=True)  # "user:<id>:store:<id>" or "terminal:<header>"
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
