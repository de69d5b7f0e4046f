"""The engine's entry point: `plan(state, now, policy)` -> `Decisions` (see `model.py` for the contract)."""

from __future__ import annotations

from daodian.dispatch.greedy import plan_greedy
from daodian.dispatch.model import Decisions, DispatchState, Policy
from daodian.dispatch.optimiser import plan_optimised

POLICIES = {"optimised": plan_optimised, "greedy": plan_greedy}


def plan(state: DispatchState, now: int, policy: Policy = "optimised") -> Decisions:
    """New assignments to commit at `now`. Pure and deterministic; never proposes an order in `state.assigned`
    or an order placed after `now`."""
    return POLICIES[policy](state, now)
