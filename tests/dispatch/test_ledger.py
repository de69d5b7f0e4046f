"""Commitments: an order is assigned once, a retried commit is harmless, a take-back is explicit and recorded."""

import pytest

from daodian.dispatch.engine import plan
from daodian.dispatch.ledger import Ledger, OrderAlreadyAssigned, OrderNotAssigned
from tests.dispatch.helpers import courier, order, state

STORE = (0.0, 0.0)


def scene(ledger: Ledger, couriers=("c1",)):
    return state([order("o1", STORE, (300, 0), placed=0, ready=0)], [courier(c, STORE) for c in couriers],
                 assigned=ledger.assigned())


def test_committing_the_same_assignment_twice_is_a_no_op():
    ledger = Ledger()
    (assignment,) = plan(scene(ledger), 0).assignments
    assert ledger.commit(assignment) is True
    assert ledger.commit(assignment) is False
    assert list(ledger.assignments) == [assignment.id]


def test_a_second_different_assignment_of_an_order_is_refused():
    ledger = Ledger()
    first = plan(scene(ledger, ("c1",)), 0).assignments[0]
    other = plan(scene(Ledger(), ("c2",)), 0).assignments[0]  # as if a second planner had not seen the first
    ledger.commit(first)
    with pytest.raises(OrderAlreadyAssigned) as refused:
        ledger.commit(other)
    assert refused.value.code == "order_already_assigned" and refused.value.status == 409
    assert ledger.assignment_of("o1") == first
    assert plan(scene(ledger), 60).assignments == ()  # and the planner itself skips it


def test_reassignment_goes_through_an_explicit_recorded_release():
    ledger = Ledger()
    first = plan(scene(ledger, ("c1",)), 0).assignments[0]
    ledger.commit(first)
    (release,) = ledger.release(("o1",), "courier c1 had a flat tyre", at=120)
    assert (release.order_ids, release.assignment_id, release.at) == (("o1",), first.id, 120)
    again = plan(scene(ledger, ("c2",)), 180).assignments[0]
    assert ledger.commit(again) and again.route.courier_id == "c2"
    assert ledger.releases == [release] and list(ledger.assignments) == [first.id, again.id]
    with pytest.raises(OrderNotAssigned):
        ledger.release(("o404",), "no such order", at=200)
