"""The greedy baseline: the nearest idle courier fetches each order once it is ready, alone."""

from daodian.dispatch.engine import plan
from tests.dispatch.helpers import MIN, courier, order, state

STORE = (0.0, 0.0)


def test_waits_until_the_order_is_ready():
    scene = state([order("o1", STORE, (300, 0), placed=0, ready=10)], [courier("c1", (300, 0))])
    assert plan(scene, 9 * MIN, "greedy").assignments == ()
    (assignment,) = plan(scene, 10 * MIN, "greedy").assignments
    assert assignment.route.depart_at == 10 * MIN and assignment.policy == "greedy"


def test_the_nearest_idle_courier_goes_and_a_busy_one_is_skipped():
    scene = state([order("o1", STORE, (300, 0), placed=0, ready=0)],
                  [courier("busy", STORE, free=5), courier("far", (3000, 0)), courier("near", (900, 0))])
    (assignment,) = plan(scene, 0, "greedy").assignments
    assert assignment.route.courier_id == "near"


def test_earliest_ready_first_one_order_per_route():
    orders = [order("late", STORE, (300, 0), placed=0, ready=5), order("early", STORE, (300, 0), placed=0, ready=2),
              order("third", STORE, (600, 0), placed=0, ready=3)]
    decisions = plan(state(orders, [courier("c1", (300, 0)), courier("c2", (3000, 0))]), 6 * MIN, "greedy")
    assert [(a.route.order_ids, a.route.courier_id) for a in decisions.assignments] == [
        (("early",), "c1"), (("third",), "c2")]  # two couriers: "late" waits for the next one free


def test_no_courier_who_cannot_reach_the_store_before_their_shift_ends():
    scene = state([order("o1", STORE, (300, 0), placed=0, ready=0)], [courier("c1", (3000, 0), off=5)])
    assert plan(scene, 0, "greedy").assignments == ()
