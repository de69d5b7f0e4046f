from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.models import AuthSession, StaffMembership, User


def user_by_phone(session: Session, phone: str) -> User | None:
    return session.scalar(select(User).where(User.phone == phone))


def live_session(session: Session, token_hash: str, kind: str, now: datetime) -> AuthSession | None:
    return session.scalar(
        select(AuthSession).where(
            AuthSession.token_hash == token_hash,
            AuthSession.kind == kind,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
    )


def memberships_of(session: Session, user_id: int) -> list[StaffMembership]:
    return list(session.scalars(select(StaffMembership).where(StaffMembership.user_id == user_id)))


def staff_of(session: Session, merchant_id: int) -> list[tuple[StaffMembership, User]]:
    stmt = (
        select(StaffMembership, User)
        .join(User, User.id == StaffMembership.user_id)
        .where(StaffMembership.merchant_id == merchant_id)
        .order_by(StaffMembership.id)
    )
    return [(m, u) for m, u in session.execute(stmt)]


def membership(session: Session, merchant_id: int, user_id: int) -> StaffMembership | None:
    return session.scalar(
        select(StaffMembership).where(StaffMembership.merchant_id == merchant_id, StaffMembership.user_id == user_id)
    )
