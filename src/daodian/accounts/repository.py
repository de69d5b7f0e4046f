from datetime import datetime

from sqlalchemy import Row, bindparam, select
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


# Built once: building a statement cost as much as running it (GET /me runs both).
_ACCOUNT = select(User.id, User.phone, User.display_name, User.is_operator).where(User.id == bindparam("user_id"))
_ROLES = (select(StaffMembership.merchant_id, StaffMembership.role)
          .where(StaffMembership.user_id == bindparam("user_id")).order_by(StaffMembership.id))


def account_columns(session: Session, user_id: int) -> Row | None:
    """(id, phone, display_name, is_operator) of an account."""
    return session.execute(_ACCOUNT, {"user_id": user_id}).first()


def roles_of(session: Session, user_id: int) -> list[tuple[int, str]]:
    """(merchant id, role) of each staff membership of an account, in the order they were made."""
    return [tuple(row) for row in session.execute(_ROLES, {"user_id": user_id})]


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
