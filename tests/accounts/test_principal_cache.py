"""A token's principal is remembered by the process, and whatever changes who an account is takes effect at once:
logout, a staff role given, changed or taken, a revoked or expired token, a change another process recorded."""

import time
from datetime import timedelta

from sqlalchemy import insert, update

from daodian.accounts.authz import Principal
from daodian.accounts.models import AuthSession, StaffRole, User
from daodian.accounts.tokens.changes import PrincipalChange
from daodian.accounts.tokens.hashing import hash_token
from daodian.accounts.tokens.lookup import POLL_INTERVAL_S
from daodian.accounts.tokens.memory import PRINCIPALS, PrincipalCache
from daodian.kit.clock import utcnow
from tests.factories import PASSWORD, auth, make_merchant, make_user

ME = "/api/v1/me"


def _login(api, user) -> dict[str, str]:
    response = api.post("/api/v1/auth/login", json={"phone": user.phone, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _remembered(headers: dict[str, str]) -> bool:
    return PRINCIPALS.get(("bearer", hash_token(headers["Authorization"].split()[1]))) is not None


def test_a_known_token_is_answered_from_memory_and_logout_ends_it_at_once(api, db):
    headers = _login(api, make_user(db))
    assert api.get(ME, headers=headers).status_code == 200
    assert _remembered(headers)
    assert api.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert not _remembered(headers)
    response = api.get(ME, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


def test_a_staff_role_given_changed_and_taken_counts_from_the_next_request(api, db):
    owner, clerk = make_user(db), make_user(db)
    merchant = make_merchant(db, owner)
    owner_headers, clerk_headers = auth(db, owner), auth(db, clerk)
    templates = f"/api/v1/merchants/{merchant.id}/coupon-templates"  # console.view: any staff role
    staff = f"/api/v1/merchants/{merchant.id}/staff"
    assert api.get(templates, headers=clerk_headers).status_code in (403, 404)
    assert _remembered(clerk_headers)

    given = api.post(staff, json={"phone": clerk.phone, "role": "clerk"}, headers=owner_headers)
    assert given.status_code == 201, given.text
    assert api.get(templates, headers=clerk_headers).status_code == 200
    assert api.get(ME, headers=clerk_headers).json()["memberships"] == [{"merchant_id": merchant.id, "role": "clerk"}]
    assert api.get(staff, headers=clerk_headers).status_code == 200 and api.post(
        staff, json={"phone": make_user(db).phone, "role": "clerk"}, headers=clerk_headers).status_code == 403

    assert api.post(staff, json={"phone": clerk.phone, "role": "manager"}, headers=owner_headers).status_code == 201
    assert api.get(ME, headers=clerk_headers).json()["memberships"][0]["role"] == "manager"

    assert api.delete(f"{staff}/{clerk.id}", headers=owner_headers).status_code == 204
    assert api.get(templates, headers=clerk_headers).status_code in (403, 404)


def test_a_token_expired_or_revoked_or_whose_account_is_deactivated_is_refused_at_once(api, db):
    expired, inactive, revoked = make_user(db), make_user(db), make_user(db)
    tokens = {user.id: auth(db, user) for user in (expired, inactive, revoked)}
    for headers in tokens.values():
        assert api.get(ME, headers=headers).status_code == 200

    db.query(AuthSession).filter_by(user_id=expired.id).one().expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    assert api.get(ME, headers=tokens[expired.id]).status_code == 401
    assert _remembered(tokens[inactive.id])  # only the account that changed was forgotten

    db.get(User, inactive.id).is_active = False
    db.flush()
    assert api.get(ME, headers=tokens[inactive.id]).status_code == 401
    assert api.get(ME, headers=tokens[revoked.id]).status_code == 200

    # A bulk statement (a script, an erasure) names no account: every one is looked up again.
    db.execute(update(AuthSession).where(AuthSession.user_id == revoked.id).values(revoked_at=utcnow()))
    assert not _remembered(tokens[revoked.id])
    assert api.get(ME, headers=tokens[revoked.id]).status_code == 401


def test_a_change_recorded_by_another_process_is_honoured_after_the_next_poll(api, db, connection):
    user = make_user(db)
    headers = auth(db, user)
    assert api.get(ME, headers=headers).status_code == 200
    # Another process revokes the token and records it; nothing of that passes through this process's ORM.
    connection.execute(update(AuthSession.__table__).where(AuthSession.__table__.c.user_id == user.id)
                       .values(revoked_at=utcnow()))
    connection.execute(insert(PrincipalChange.__table__).values(account_id=user.id, changed_at=utcnow()))
    assert _remembered(headers)  # this process has not looked yet
    time.sleep(POLL_INTERVAL_S + 0.2)
    assert api.get(ME, headers=headers).status_code == 401


def test_an_expired_entry_is_not_answered_and_a_lookup_overtaken_by_a_change_stores_nothing():
    cache = PrincipalCache()
    principal = Principal(user_id=7, roles={1: StaffRole.CLERK})
    cache.put(("bearer", "gone"), principal, utcnow() - timedelta(seconds=1), cache.generation)
    assert cache.get(("bearer", "gone")) is None
    cache.put(("bearer", "live"), principal, utcnow() + timedelta(days=1), cache.generation)
    assert cache.get(("bearer", "live")) == principal

    started = cache.generation  # a lookup starts, reading the old roles...
    cache.forget({7})  # ...and the account changes meanwhile
    cache.put(("bearer", "live"), principal, utcnow() + timedelta(days=1), started)
    assert cache.get(("bearer", "live")) is None

    cache.put(("bearer", "a"), principal, utcnow() + timedelta(days=1), cache.generation)
    cache.put(("bearer", "b"), Principal(user_id=8), utcnow() + timedelta(days=1), cache.generation)
    cache.forget({None})  # a bulk change names no one: everyone is forgotten
    assert cache.get(("bearer", "a")) is None and cache.get(("bearer", "b")) is None
