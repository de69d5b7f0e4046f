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


# Built once: building a statement cost as much as running it. One statement for GET /me: the account's columns
# on every row, with one row per staff membership (or one row of NULLs when it has none).
_ACCOUNT_WITH_ROLES = (
    select(User.id, User.phone, User.display_name, User.is_operator, StaffMembership.merchant_id,
           StaffMembership.role)
    .outerjoin(StaffMembership, StaffMembership.user_id == User.id)
    .where(User.id == bindparam("user_id"))
    .order_by(StaffMembership.id)
)


def account_with_roles(session: Session, user_id: int) -> list[Row]:
    """(id, phone, display_name, is_operator, merchant_id, role) per staff membership of an account, in the order
    they were made; one row with merchant_id None when it has none; no row when there is no such account.
    Run as Core on the session's connection: these are columns, not entities, and the ORM's execution path
    (its options, its loading) cost more than the statement."""
    return session.connection().execute(_ACCOUNT_WITH_ROLES, {"user_id": user_id}).all()


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
