"""Account rules: registration, login with throttling, sessions and tokens, staff membership."""

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from daodian.accounts import known_devices, login_throttle, repository
from daodian.accounts.authz import Principal
from daodian.accounts.errors import InvalidCredentials, PhoneTaken
from daodian.accounts.models import AuthSession, StaffMembership, StaffRole, User
from daodian.accounts.passwords import hash_password, verify_password
from daodian.accounts.schemas import MembershipRead, MeRead
from daodian.accounts.tokens import changes  # noqa: F401 - records (and forgets) whatever changes a principal, in every process
from daodian.accounts.tokens.hashing import hash_token
from daodian.kit.clock import utcnow
from daodian.kit.errors import Conflict, NotFound
from daodian.kit.settings import get_settings


def register(session: Session, *, phone: str, password: str, display_name: str, is_operator: bool = False) -> User:
    if repository.user_by_phone(session, phone):
        raise PhoneTaken()
    user = User(phone=phone, display_name=display_name.strip(), password_hash=hash_password(password),
                is_operator=is_operator)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, phone: str, password: str, address: str | None = None,
                 device_cookie: str | None = None, secret: str | None = None) -> User:
    """The account for this phone and password, throttled per phone, client address and known device
    (accounts.login_throttle): a blocked attempt is refused before the password is looked at. The caller
    commits a failure although the request fails: the count is what slows guessing."""
    secret = secret or get_settings().secret_key
    user = repository.user_by_phone(session, phone)
    now = utcnow()
    device_id = known_devices.device_of(device_cookie, user.id if user else None, secret)
    who = login_throttle.attempt(phone=phone, address=address, device_id=device_id, secret=secret)
    login_throttle.check(session, who, now)
    if not verify_password(user.password_hash if user else None, password) or not user or not user.is_active:
        login_throttle.record_failure(session, who, now)
        raise InvalidCredentials()
    login_throttle.record_success(session, who)
    return user


def open_session(session: Session, user: User, *, kind: str, days: int) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(days=days)
    session.add(AuthSession(token_hash=hash_token(token), user_id=user.id, kind=kind, expires_at=expires_at))
    session.flush()
    return token, expires_at


def revoke(session: Session, token: str, *, kind: str) -> None:
    record = repository.live_session(session, hash_token(token), kind, utcnow())
    if record:
        record.revoked_at = utcnow()
        session.flush()


def principal_for_token(session: Session, token: str, *, kind: str) -> Principal | None:
    record = repository.live_session(session, hash_token(token), kind, utcnow())
    if record is None:
        return None
    user = session.get(User, record.user_id)
    if user is None or not user.is_active:
        return None
    return principal_for(session, user)


def principal_for(session: Session, user: User) -> Principal:
    roles = {m.merchant_id: StaffRole(m.role) for m in repository.memberships_of(session, user.id)}
    return Principal(user_id=user.id, display_name=user.display_name, is_operator=user.is_operator, roles=roles)


def me(session: Session, user_id: int) -> MeRead:
    # Columns, not entities: loading a User into the session cost more than the rest of GET /me.
    rows = repository.account_with_roles(session, user_id)
    if not rows:
        raise NotFound()
    found = rows[0]
    memberships = [MembershipRead(merchant_id=row.merchant_id, role=row.role) for row in rows
                   if row.merchant_id is not None]
    return MeRead(id=found.id, phone=found.phone, display_name=found.display_name, is_operator=found.is_operator,
                  memberships=memberships)


def add_staff(session: Session, *, merchant_id: int, phone: str, role: StaffRole) -> tuple[StaffMembership, User]:
    user = repository.user_by_phone(session, phone)
    if user is None:
        raise NotFound("No account has this phone number; ask them to register first.", code="user_not_found")
    existing = repository.membership(session, merchant_id, user.id)
    if existing:
        if existing.role == StaffRole.OWNER and role != StaffRole.OWNER:
            _ensure_another_owner(session, merchant_id, user.id)
        existing.role = role
        session.flush()
        return existing, user
    membership = StaffMembership(merchant_id=merchant_id, user_id=user.id, role=role)
    session.add(membership)
    session.flush()
    return membership, user


def remove_staff(session: Session, *, merchant_id: int, user_id: int) -> None:
    membership = repository.membership(session, merchant_id, user_id)
    if membership is None:
        raise NotFound("This person is not on the staff.")
    if membership.role == StaffRole.OWNER:
        _ensure_another_owner(session, merchant_id, user_id)
    session.delete(membership)
    session.flush()


def _ensure_another_owner(session: Session, merchant_id: int, leaving_user_id: int) -> None:
    owners = [m for m, _ in repository.staff_of(session, merchant_id) if m.role == StaffRole.OWNER]
    if all(m.user_id == leaving_user_id for m in owners):
        raise Conflict("A merchant must keep at least one owner.", code="last_owner")


def staff_list(session: Session, merchant_id: int) -> list[tuple[StaffMembership, User]]:
    return repository.staff_of(session, merchant_id)


def make_owner(session: Session, *, merchant_id: int, user_id: int) -> None:
    session.add(StaffMembership(merchant_id=merchant_id, user_id=user_id, role=StaffRole.OWNER))
    session.flush()
