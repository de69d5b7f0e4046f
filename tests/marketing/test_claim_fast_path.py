"""The claim's fast path answers as the FastAPI route does; claims in one transaction (SQLite's batches)
and gathered caller lookups keep every outcome exact."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select, update

from daodian.accounts.models import AuthSession, User
from daodian.accounts.tokens.batched import live_user_ids
from daodian.accounts.tokens.hashing import hash_token
from daodian.coupons import claim_sets, claims, stock
from daodian.coupons.claim_batches import ClaimBatches
from daodian.coupons.errors import ClaimLimitReached, SoldOut
from daodian.coupons.models import Coupon, CouponStock, CouponTemplate
from daodian.coupons.schemas import CouponRead
from daodian.kit.clock import utcnow
from daodian.kit.db import make_session_factory, read_connection, unit_of_work
from tests.factories import auth, make_shop, make_user
from tests.marketing.helpers import template_body

# A query string sends a claim past the fast path to the FastAPI route (which ignores it): the two answer
# the same request side by side.
VIA_ROUTE = "?via=route"


@pytest.fixture
def shop(db):
    return make_shop(db)


def _template(client, db, shop, **overrides) -> dict:
    response = client.post(f"/api/v1/merchants/{shop.merchant.id}/coupon-templates",
                           json=template_body(**overrides), headers=auth(db, shop.manager))
    assert response.status_code == 201, response.text
    return response.json()


def _claim(client, template_id: int, headers: dict | None, via_route: bool = False):
    return client.post(f"/api/v1/coupons/{template_id}/claims{VIA_ROUTE if via_route else ''}", headers=headers or {})


def _shape(response) -> tuple:
    """Status and body with the values that differ per coupon (ids, codes, times) reduced to their keys."""
    body = response.json()
    if "error" in body:
        return response.status_code, response.headers["content-type"], body
    volatile = {"id", "code", "claimed_at", "valid_from", "valid_until", "remaining"}
    template = {k: v for k, v in body["template"].items() if k != "remaining"}
    return (response.status_code, response.headers["content-type"],
            {k: (k if k in volatile else v) for k, v in body.items() if k != "template"}, template)


def test_success_and_every_refusal_read_the_same_on_both_paths(client, db, shop):
    two = _template(client, db, shop, total_quantity=3, per_user_limit=1)
    first, second, third = (auth(db, make_user(db)) for _ in range(3))
    fast, route = _claim(client, two["id"], first), _claim(client, two["id"], second, via_route=True)
    assert fast.status_code == 201 and _shape(fast) == _shape(route)
    assert fast.json()["template"]["remaining"] == 2 and route.json()["template"]["remaining"] == 1
    CouponRead.model_validate(fast.json())
    # the per-person limit
    assert _shape(_claim(client, two["id"], first)) == _shape(_claim(client, two["id"], second, via_route=True))
    assert _claim(client, two["id"], first).json()["error"]["code"] == "coupon_limit_reached"
    # sold out (the last one goes, then both refuse, the fast path from its memo)
    assert _claim(client, two["id"], third).status_code == 201
    late = auth(db, make_user(db))
    fast, route = _claim(client, two["id"], late), _claim(client, two["id"], late, via_route=True)
    assert (fast.status_code, fast.json()["error"]["code"]) == (409, "coupon_sold_out")
    assert _shape(fast) == _shape(route)
    # not open yet, and no such template
    later = _template(client, db, shop, claim_starts_at=(utcnow() + timedelta(days=1)).isoformat())
    assert _shape(_claim(client, later["id"], late)) == _shape(_claim(client, later["id"], late, via_route=True))
    assert _claim(client, later["id"], late).json()["error"]["code"] == "coupon_not_claimable"
    missing = _claim(client, 987654321, late)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "coupon_template_not_found")
    assert _shape(missing) == _shape(_claim(client, 987654321, late, via_route=True))


@pytest.mark.parametrize("headers", [None, {"Authorization": "Bearer not-a-live-token"},
                                     {"Authorization": "Basic dXNlcjpwdw=="}, {"Authorization": "Bearer "}])
def test_without_a_live_bearer_token_the_route_says_401(client, db, shop, headers):
    template = _template(client, db, shop)
    response = _claim(client, template["id"], headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")
    assert db.scalar(select(func.count()).select_from(Coupon)) == 0


@pytest.mark.parametrize("path_id", ["0", "9007199254740992", "01", "abc"])
def test_ids_the_fast_path_does_not_take_get_the_routes_answer(client, db, shop, path_id):
    response = client.post(f"/api/v1/coupons/{path_id}/claims", headers=auth(db, make_user(db)))
    assert response.status_code in (404, 422)
    assert response.json()["error"]["code"] in ("validation_error", "not_found", "coupon_template_not_found")


def test_a_revoked_token_or_a_deactivated_account_claims_nothing(client, db, shop):
    template = _template(client, db, shop)
    revoked_user, inactive_user = make_user(db), make_user(db)
    revoked, inactive = auth(db, revoked_user), auth(db, inactive_user)
    db.execute(update(AuthSession).where(AuthSession.user_id == revoked_user.id).values(revoked_at=utcnow()))
    db.execute(update(User).where(User.id == inactive_user.id).values(is_active=False))
    db.flush()
    for headers in (revoked, inactive):
        assert _claim(client, template["id"], headers).status_code == 401
    assert db.scalar(select(func.count()).select_from(Coupon)) == 0


def test_gathered_lookups_find_only_live_tokens_of_active_accounts(db, session_factory):
    live, revoked, expired, inactive = (make_user(db) for _ in range(4))
    tokens = {name: auth(db, user)["Authorization"].split()[1]
              for name, user in (("live", live), ("revoked", revoked), ("expired", expired), ("inactive", inactive))}
    db.execute(update(AuthSession).where(AuthSession.user_id == revoked.id).values(revoked_at=utcnow()))
    db.execute(update(AuthSession).where(AuthSession.user_id == expired.id)
               .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.execute(update(User).where(User.id == inactive.id).values(is_active=False))
    db.flush()
    hashes = {name: hash_token(token) for name, token in tokens.items()}
    with read_connection(session_factory) as connection:
        found = live_user_ids(connection, [*hashes.values(), hashes["live"], hash_token("unknown")])
    assert found == {hashes["live"]: live.id}


def test_claims_in_one_transaction_refuse_only_their_own_claim(client, db, shop, session_factory):
    template_id = _template(client, db, shop, total_quantity=3, per_user_limit=1)["id"]
    a, b, c, d = (make_user(db).id for _ in range(4))
    db.flush()
    memo = claims.ClaimMemo()
    outcomes = claim_sets.claim_many(session_factory, [(a, template_id), (a, template_id), (b, template_id),
                                                   (c, template_id), (d, template_id)], memo)
    kinds = [type(o) for o in outcomes]
    assert kinds == [CouponRead, ClaimLimitReached, CouponRead, CouponRead, SoldOut]
    assert template_id in memo.sold_out
    holders = sorted(db.scalars(select(Coupon.consumer_id).where(Coupon.template_id == template_id)))
    assert holders == sorted([a, b, c])
    assert db.scalar(select(func.sum(CouponStock.remaining)).where(CouponStock.template_id == template_id)) == 0


def test_stock_is_spread_over_slots_and_every_coupon_can_be_taken(db, session_factory, client, shop):
    assert stock.shares(100) == [7, 7, 7, 7] + [6] * 12
    assert stock.shares(3) == [1, 1, 1] and stock.shares(0) == [0]
    template_id = _template(client, db, shop, total_quantity=20, per_user_limit=1)["id"]
    consumers = [make_user(db).id for _ in range(21)]
    db.flush()
    outcomes = claim_sets.claim_many(session_factory, [(c, template_id) for c in consumers])
    assert sum(isinstance(o, CouponRead) for o in outcomes) == 20 and isinstance(outcomes[-1], SoldOut)


def test_a_batch_never_waits_for_a_slot_another_transaction_holds(backend, engine):
    """On PostgreSQL a transaction claiming for many, holding slot locks of its own, must not wait for
    another's (that could deadlock): it reports StockBusy, and coupons.claim_batches claims that one
    alone. SQLite has one writer at a time, so there is nothing to wait for."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        user = make_user(session)
        template = CouponTemplate(name="一张", kind="amount", amount_fen=100, scope="platform", scope_values=[],
                                  claim_starts_at=utcnow(), claim_ends_at=utcnow() + timedelta(days=1), valid_days=1,
                                  total_quantity=1, per_user_limit=1, created_by=user.id)
        session.add(template)
        session.flush()
        stock.fill(session, template.id, 1)
        template_id, user_id = template.id, user.id
    try:
        with engine.connect() as holder, engine.connect() as batch:
            holder.begin()
            holder.execute(select(CouponStock).where(CouponStock.template_id == template_id).with_for_update())
            batch.begin()
            assert stock.take_many(batch, template_id, 1, {}) == (0, True)  # none taken, and others hold stock
            batch.rollback()
            holder.rollback()
            batch.begin()  # with the lock gone the same take succeeds
            assert stock.take_many(batch, template_id, 1, {}) == (1, False)
            batch.rollback()
    finally:  # nothing else was written (no coupon, no fact: facts could not be deleted)
        with engine.begin() as connection:
            connection.execute(delete(CouponTemplate).where(CouponTemplate.id == template_id))
            connection.execute(delete(User).where(User.id == user_id))


def test_a_claim_queued_right_after_a_batch_ends_is_written(client, db, shop, settings, session_factory):
    """The caller of a batch's last claim resumes before the finished writer's done callback runs; a claim it
    queues at once must still find a writer (it once waited for ever)."""
    template_id = _template(client, db, shop)["id"]
    first, second = make_user(db).id, make_user(db).id
    db.flush()
    app = SimpleNamespace(state=SimpleNamespace(settings=settings, session_factory=session_factory))
    batches = ClaimBatches(app)

    async def one_after_the_other() -> list[CouponRead]:
        done = [await batches.claim(first, template_id)]
        done.append(await batches.claim(second, template_id))  # queued in the same loop turn as the first returns
        return done

    coupons = asyncio.run(asyncio.wait_for(one_after_the_other(), timeout=10))
    assert len({c.id for c in coupons}) == 2
    holders = db.scalars(select(Coupon.consumer_id).where(Coupon.template_id == template_id).order_by(Coupon.id))
    assert list(holders) == [first, second]
