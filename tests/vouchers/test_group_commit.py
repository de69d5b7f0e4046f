"""Verifications written together (kit.api.group_commit): one transaction for the units that arrive together,
each in its savepoint or (as the route runs them) without one, every answer the one a transaction of its own
would give."""

import asyncio
from functools import partial

import pytest
from sqlalchemy import func, select, text

from daodian.kit import codes
from daodian.kit.api.group_commit import group_commit_of
from daodian.kit.db import gathered
from daodian.kit.errors import Conflict, DomainError
from daodian.kit.facts import Fact
from daodian.orders import service as order_service
from daodian.orders.models import Order, OrderStatus
from daodian.orders.schemas import OrderCreate, OrderLineIn
from daodian.vouchers import counter
from daodian.vouchers.errors import VoucherForeignStore, VoucherNotFound, VoucherUsedUp
from daodian.vouchers.models import Verification, VerificationFailure, Voucher
from tests.factories import auth, make_store, make_voucher, principal_of


class Refused(Conflict):
    code = "refused_after_writing"


@pytest.fixture
def vouchers(db, settings, shop, consumer) -> list[Voucher]:
    return [make_voucher(db, settings, consumer, shop.item, shop.store) for _ in range(3)]


def _verify(app, shop, code: str, terminal: str = "pos-1", savepoint: bool = False):
    """A verification as the route hands it to the group commit (without a savepoint of its own)."""
    settings = app.state.settings
    return group_commit_of(app).run(
        partial(counter.verify_as, user_id=shop.clerk.id, raw_code=code, store_id=shop.store.id, terminal_id=terminal,
                settings=settings),
        after_error=partial(counter.after_refusal, shop.clerk.id, shop.store.id, terminal),
        wants=counter.wants(shop.clerk.id, code, shop.store.id, terminal), savepoint=savepoint)


def _together(*calls):
    """Start every call in one event loop turn, so that one writer takes them all in one batch."""
    async def main():
        return await asyncio.gather(*calls, return_exceptions=True)
    return asyncio.run(main())


def _uses_left(db, voucher: Voucher) -> int:
    db.expire_all()
    return db.get(Voucher, voucher.id).uses_left


@pytest.mark.parametrize("savepoint", [False, True])
def test_a_batch_answers_each_verification_as_alone(app, db, shop, vouchers, savepoint):
    first, second, third = (v.code for v in vouchers)
    typo = codes.new_code()
    answers = _together(*(_verify(app, shop, code, terminal, savepoint) for code, terminal in [
        (first, "pos-1"), (first, "pos-2"), (typo, "pos-1"), (second, "pos-1"), (codes.display(third).lower(), "pos-1")]))
    ok = [a for a in answers if not isinstance(a, Exception)]
    assert [a.voucher_id for a in ok] == [vouchers[0].id, vouchers[1].id, vouchers[2].id]
    assert all(a.uses_left == 0 and a.store_id == shop.store.id for a in ok)
    assert isinstance(answers[1], VoucherUsedUp)  # the same code again in the same batch: its use is gone
    assert isinstance(answers[2], VoucherNotFound)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Verification)) == 3
    # Written together at the batch's end (kit.db.insert_later): each answer names its own row, as does its fact.
    rows = {v.id: v.voucher_id for v in db.scalars(select(Verification))}
    assert {a.id: a.voucher_id for a in ok} == rows
    facts = db.scalars(select(Fact).where(Fact.kind == "voucher.verified")).all()
    assert {f.payload["verification_id"]: f.payload["voucher_id"] for f in facts} == rows
    # The wrong code counts against its terminal although its unit was rolled back.
    assert db.scalars(select(VerificationFailure.terminal)).all() == [f"user:{shop.clerk.id}:store:{shop.store.id}",
                                                                     f"store:{shop.store.id}:terminal:pos-1"]


def _order_of(db, settings, consumer, shop, quantity: int) -> list[Voucher]:
    """A paid order of `quantity` single-use vouchers of the shop's item."""
    order = order_service.create_order(db, principal_of(db, consumer), OrderCreate(
        lines=[OrderLineIn(service_item_id=shop.item.id, quantity=quantity)], store_id=shop.store.id), settings)
    order_service.mark_paid(db, order, amount_fen=order.total_fen, payment_id=0, provider="test", settings=settings)
    return list(db.scalars(select(Voucher).where(Voucher.order_id == order.id).order_by(Voucher.id)))


def test_a_batch_counts_down_the_uses_left_in_an_order_it_holds(app, db, settings, shop, consumer):
    """Vouchers of one order verified in one batch share one count of what is left in it: the order completes
    with its last use, in the batch that consumes it, and not before."""
    three, two = _order_of(db, settings, consumer, shop, 3), _order_of(db, settings, consumer, shop, 2)
    answers = _together(*(_verify(app, shop, v.code, f"pos-{n}") for n, v in enumerate([three[0], two[0], three[1],
                                                                                       two[1]])))
    assert not any(isinstance(a, Exception) for a in answers)
    db.expire_all()
    assert db.get(Order, two[0].order_id).status == OrderStatus.COMPLETED
    assert db.get(Order, three[0].order_id).status == OrderStatus.VOUCHER_ISSUED
    assert not isinstance(_together(_verify(app, shop, three[2].code))[0], Exception)
    db.expire_all()
    assert db.get(Order, three[0].order_id).status == OrderStatus.COMPLETED


def test_a_batch_judges_each_verification_by_its_own_store(app, db, shop, vouchers):
    """The same code at two stores of the merchant in one batch: refused where the item is not offered (the
    lookup read for both stores at once), consumed where it is."""
    elsewhere = make_store(db, shop.merchant, name="不做此项的店")
    db.flush()
    code = vouchers[0].code
    settings = app.state.settings
    at_elsewhere = group_commit_of(app).run(
        partial(counter.verify_as, user_id=shop.clerk.id, raw_code=code, store_id=elsewhere.id, terminal_id=None,
                settings=settings), wants=counter.wants(shop.clerk.id, code, elsewhere.id, None), savepoint=False)
    refused, verified = _together(at_elsewhere, _verify(app, shop, code))
    assert isinstance(refused, VoucherForeignStore)
    assert verified.store_id == shop.store.id and verified.uses_left == 0


def test_units_of_a_batch_share_one_transaction(app, shop):
    seen = []

    def unit(session):
        seen.append(session)
        return len(seen)

    group = group_commit_of(app)
    assert _together(*(group.run(unit) for _ in range(4))) == [1, 2, 3, 4]
    assert len({id(session) for session in seen}) == 1


def test_a_refusal_after_writing_undoes_only_its_own_unit(app, db, shop, vouchers):
    """A unit that consumed a use and then refused rolls back to its savepoint: the use is back, and the next
    unit of the same batch, which finds the voucher afresh, consumes it."""
    code = vouchers[0].code

    def refuse_after_verifying(session):
        counter.verify_as(session, user_id=shop.clerk.id, raw_code=code, store_id=shop.store.id, terminal_id=None,
                          settings=app.state.settings)
        raise Refused("refused after the use was consumed")

    group = group_commit_of(app)
    refused, verified = _together(group.run(refuse_after_verifying), _verify(app, shop, code))
    assert isinstance(refused, Refused)
    assert verified.voucher_id == vouchers[0].id and verified.uses_left == 0
    assert _uses_left(db, vouchers[0]) == 0
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Verification)) == 1


def test_a_refusal_that_wrote_nothing_keeps_what_the_batch_read(app, shop):
    """A unit refused before writing anything (a wrong code) leaves the batch's lookups as they were; one refused
    after writing has them read again (kit.api.group_commit._Writes)."""
    loads: list[set] = []

    def load(keys):
        loads.append(set(keys))
        return {key: f"value of {key}" for key in keys}

    def look_up(key, session):
        return gathered(session, "test.kind", key, load)

    def refuse_after(write: bool, session):
        gathered(session, "test.kind", "a", load)
        if write:
            session.execute(text("UPDATE stores SET name = name WHERE id = :id"), {"id": shop.store.id})
        raise Refused("refused")

    group = group_commit_of(app)
    wants = {"test.kind": ["a", "b"]}
    answers = _together(group.run(partial(look_up, "a"), wants=wants),
                        group.run(partial(refuse_after, False), wants=wants),
                        group.run(partial(look_up, "b"), wants=wants))
    assert answers[0] == "value of a" and isinstance(answers[1], Refused) and answers[2] == "value of b"
    assert loads == [{"a", "b"}]  # read once for the whole batch
    loads.clear()
    answers = _together(group.run(partial(look_up, "a"), wants=wants),
                        group.run(partial(refuse_after, True), wants=wants),
                        group.run(partial(look_up, "b"), wants=wants))
    assert answers[0] == "value of a" and isinstance(answers[1], Refused) and answers[2] == "value of b"
    assert loads == [{"a", "b"}, {"a", "b"}]  # the rollback undid a write: read again


def test_a_unit_that_fails_otherwise_is_run_alone_and_fails_alone(app, db, shop, vouchers):
    runs = []

    def broken(session):
        runs.append(session)
        raise RuntimeError("a bug")

    group = group_commit_of(app)
    verified, failed, also = _together(_verify(app, shop, vouchers[0].code), group.run(broken),
                                       _verify(app, shop, vouchers[1].code))
    assert isinstance(failed, RuntimeError) and not isinstance(failed, DomainError)
    assert len(runs) == 2 and runs[0] is not runs[1]  # once in the batch, once in a transaction of its own
    assert (verified.voucher_id, also.voucher_id) == (vouchers[0].id, vouchers[1].id)
    assert _uses_left(db, vouchers[0]) == _uses_left(db, vouchers[1]) == 0


def test_verifications_over_http_still_answer_one_by_one(client, db, shop, vouchers):
    clerk = auth(db, shop.clerk)
    ok = client.post("/api/v1/vouchers/verify", json={"code": vouchers[0].code, "store_id": shop.store.id}, headers=clerk)
    assert ok.status_code == 200 and ok.json()["uses_left"] == 0
    again = client.post("/api/v1/vouchers/verify", json={"code": vouchers[0].code, "store_id": shop.store.id},
                        headers=clerk)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "voucher_used_up")


def test_a_unit_without_savepoint_that_refuses_after_writing_undoes_the_batch_and_runs_alone(app, db, shop, vouchers):
    """Without a savepoint a refusal after writing cannot be undone alone: the batch runs again without that unit,
    which then runs in a transaction of its own (after the batch: the use is gone by then)."""
    code = vouchers[0].code
    runs = []

    def refuse_after_verifying(session):
        runs.append(session)
        counter.verify_as(session, user_id=shop.clerk.id, raw_code=code, store_id=shop.store.id, terminal_id=None,
                          settings=app.state.settings)
        raise Refused("refused after the use was consumed")

    group = group_commit_of(app)
    refused, verified, other = _together(group.run(refuse_after_verifying, savepoint=False), _verify(app, shop, code),
                                         _verify(app, shop, vouchers[1].code))
    assert len(runs) == 2 and runs[0] is not runs[1]
    assert isinstance(refused, VoucherUsedUp)  # alone, after the batch that consumed the use
    assert (verified.voucher_id, other.voucher_id) == (vouchers[0].id, vouchers[1].id)
    assert _uses_left(db, vouchers[0]) == _uses_left(db, vouchers[1]) == 0
    db.expire_all()
    assert sorted(db.scalars(select(Verification.voucher_id))) == [vouchers[0].id, vouchers[1].id]
    assert db.scalar(select(func.count()).select_from(Fact).where(Fact.kind == "voucher.verified")) == 2


def test_a_unit_without_savepoint_that_fails_otherwise_is_run_alone(app, db, shop, vouchers):
    runs = []

    def broken(session):
        runs.append(session)
        session.execute(text("UPDATE stores SET name = name WHERE id = :id"), {"id": shop.store.id})
        raise RuntimeError("a bug")

    group = group_commit_of(app)
    verified, failed, also = _together(_verify(app, shop, vouchers[0].code), group.run(broken, savepoint=False),
                                       _verify(app, shop, vouchers[1].code))
    assert isinstance(failed, RuntimeError) and not isinstance(failed, DomainError)
    assert len(runs) == 2 and runs[0] is not runs[1]  # once in the batch (undone whole), once alone
    assert (verified.voucher_id, also.voucher_id) == (vouchers[0].id, vouchers[1].id)
    assert _uses_left(db, vouchers[0]) == _uses_left(db, vouchers[1]) == 0
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Verification)) == 2
