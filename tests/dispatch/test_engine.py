"""The optimised policy on small scenes: ready times, capacity, the maximum click-to-door, determinism."""

import random
from dataclasses import replace

from daodian.dispatch.engine import plan
from tests.dispatch.helpers import MIN, PARAMS, courier, order, state

STORE = (0.0, 0.0)


def test_a_route_is_never_picked_up_before_its_orders_are_ready():
    scene = state([order("o1", STORE, (600, 0), placed=0, ready=30)], [courier("c1", (300, 0))])
    # Ready in 30 min, 1 min away: nothing to commit yet; the plan is revisited every cycle.
    assert plan(scene, 0).assignments == ()
    assert plan(scene, 26 * MIN).assignments == ()
    # Leaving one cycle later (at 28) it would arrive at 29 and pick up at 31 (2 of its 4 service minutes).
    (assignment,) = plan(scene, 27 * MIN).assignments
    route = assignment.route
    assert route.pickup_at == 30 * MIN >= route.stops[0].arrive_at + PARAMS.pickup_service_s // 2
    assert route.dropoff_at("o1") == 30 * MIN + 2 * MIN + 2 * MIN + 2 * MIN  # leave, drive 600 m, hand over


def test_an_order_is_not_assigned_before_it_is_placed():
    scene = state([order("o1", STORE, (600, 0), placed=10, ready=10)], [courier("c1", STORE)])
    assert plan(scene, 9 * MIN).assignments == ()
    assert plan(scene, 10 * MIN).assignments[0].route.order_ids == ("o1",)


def test_bundles_respect_the_capacity_when_orders_outnumber_couriers():
    orders = [order(f"o{i}", STORE, (300 * i, 0), placed=0, ready=5) for i in range(1, 8)]
    decisions = plan(state(orders, [courier("c1", (300, 0)), courier("c2", (0, 300))]), 5 * MIN)
    sizes = [len(a.route.order_ids) for a in decisions.assignments]
    # 7 orders, 2 couriers: the target of ceil(7 / 2) = 4 per bag is cut to the capacity of 3
    assert len(sizes) == 2 and max(sizes) == 3 and sum(sizes) >= 5
    carried = [o for a in decisions.assignments for o in a.route.order_ids]
    assert len(carried) == len(set(carried))


def test_the_urgent_order_gets_the_courier_that_keeps_it_within_the_maximum():
    # u1 was placed 80 min ago; only the near courier can still bring it within 90 min. f1 is fresh.
    orders = [order("f1", STORE, (300, 0), placed=99, ready=100), order("u1", STORE, (300, 0), placed=20, ready=100)]
    couriers = [courier("near", (0, 300)), courier("far", (6000, 0))]
    decisions = plan(state(orders, couriers), 100 * MIN)
    (route,) = (a.route for a in decisions.assignments if a.route.order_ids == ("u1",))
    assert route.courier_id == "near"
    assert route.dropoff_at("u1") - 20 * MIN <= PARAMS.max_click_to_door_s
    assert all(a.route.courier_id == "far" for a in decisions.assignments if "f1" in a.route.order_ids)


def test_no_pickup_after_the_couriers_shift():
    scene = state([order("o1", STORE, (300, 0), placed=0, ready=0)],
                  [courier("leaving", (3000, 0), off=5), courier("staying", (6000, 0))])
    (assignment,) = plan(scene, 0).assignments
    assert assignment.route.courier_id == "staying"  # "leaving" would reach the store after its shift


def test_the_last_courier_before_the_end_of_its_shift_is_used_rather_than_none():
    # At the store, it can pick up at 2 min past now (half the service) and its shift ends then: now or never.
    scene = state([order("o1", STORE, (300, 0), placed=0, ready=0)], [courier("last", STORE, off=12)])
    (assignment,) = plan(scene, 10 * MIN).assignments
    assert assignment.route.pickup_at == 12 * MIN


def test_orders_already_assigned_are_never_proposed_again():
    orders = [order("o1", STORE, (300, 0), placed=0, ready=0), order("o2", STORE, (600, 0), placed=0, ready=0)]
    decisions = plan(state(orders, [courier("c1", STORE), courier("c2", STORE)], assigned=frozenset({"o1"})), 0)
    assert [a.route.order_ids for a in decisions.assignments] == [("o2",)]


def test_the_same_state_gives_the_same_decisions_whatever_the_input_order():
    rng = random.Random(7)
    orders = [order(f"o{i}", (rng.randrange(3) * 1000.0, 0.0), (rng.uniform(-3000, 3000), rng.uniform(-3000, 3000)),
                    placed=0, ready=rng.randrange(0, 15)) for i in range(40)]
    couriers = [courier(f"c{i}", (rng.uniform(-3000, 3000), rng.uniform(-3000, 3000))) for i in range(12)]
    first = plan(state(orders, couriers), 10 * MIN)
    rng.shuffle(orders)
    rng.shuffle(couriers)
    again = plan(state(orders, couriers), 10 * MIN)
    assert first == again
    assert first.assignments  # the scene is busy enough to decide something


def test_a_courier_on_a_route_is_matched_only_from_where_and_when_it_is_free():
    scene = state([order("o1", STORE, (300, 0), placed=0, ready=0)],
                  [courier("busy", STORE, free=3), courier("idle", (1500, 0))])
    decisions = plan(scene, 0)
    # "busy" would be the better pick (free in 3 min at the store) but it is not free: nothing is committed to it.
    assert all(a.route.courier_id != "busy" for a in decisions.assignments)
    later = plan(replace(scene, couriers=(courier("busy", STORE, free=3), courier("idle", (1500, 0), free=60))),
                 3 * MIN)
    assert later.assignments[0].route.courier_id == "busy"


def test_a_burst_at_one_store_goes_out_with_every_idle_courier_at_once():
    """Twelve orders ready now at one store, six idle couriers around it: every courier leaves with a bundle in
    this cycle. (Each bundle's "not now" price is its best courier a cycle later; that one courier priced all six
    bundles, so the first matching alone sent one bundle and kept five waiting for it.)"""
    store = (0.0, 0.0)
    orders = [order(f"o{i}", store, (1500.0 + 40 * i, 900.0), 0, 0, store_id="s") for i in range(12)]
    couriers = [courier(f"c{i}", (200.0 * (i + 1), 100.0)) for i in range(6)]
    decisions = plan(state(orders, couriers), 0)
    assert len(decisions.assignments) == 6
    assert sorted(o for a in decisions.assignments for o in a.route.order_ids) == sorted(f"o{i}" for i in range(12))
