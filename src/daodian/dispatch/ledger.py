"""The record of commitments: each order in at most one live assignment; take-backs explicit and kept.

The simulator and the tests keep it in memory; the delivery domain keeps the same rules in its tables (a unique
order id per live assignment, a row per release).
"""

from __future__ import annotations

from daodian.dispatch.model import Assignment, Release
from daodian.kit.errors import Conflict


class OrderAlreadyAssigned(Conflict):
    code = "order_already_assigned"
    message = "This order is already assigned to a courier; release it first."


class OrderNotAssigned(Conflict):
    code = "order_not_assigned"
    message = "This order is not assigned; there is nothing to release."


class Ledger:
    def __init__(self) -> None:
        self.assignments: dict[str, Assignment] = {}  # every assignment ever committed, by id, in commit order
        self.releases: list[Release] = []
        self._live: dict[str, str] = {}  # order id -> id of the assignment that carries it now

    def commit(self, assignment: Assignment) -> bool:
        """Record an assignment. True if new; False if this very assignment was committed already (a retried
        cycle). Refuses, without recording anything, an assignment of an order that another one carries."""
        if assignment.id in self.assignments:
            return False
        for order_id in assignment.route.order_ids:
            if order_id in self._live:
                raise OrderAlreadyAssigned(details={"order_id": order_id, "assignment_id": self._live[order_id]})
        self.assignments[assignment.id] = assignment
        for order_id in assignment.route.order_ids:
            self._live[order_id] = assignment.id
        return True

    def release(self, order_ids: tuple[str, ...], reason: str, at: int) -> list[Release]:
        """Take orders back from their assignments; one recorded `Release` per assignment touched."""
        missing = [order_id for order_id in order_ids if order_id not in self._live]
        if missing:
            raise OrderNotAssigned(details={"order_ids": missing})
        by_assignment: dict[str, list[str]] = {}
        for order_id in order_ids:
            by_assignment.setdefault(self._live.pop(order_id), []).append(order_id)
        made = [Release(tuple(ids), assignment_id, reason, at) for assignment_id, ids in by_assignment.items()]
        self.releases.extend(made)
        return made

    def assigned(self) -> frozenset[str]:
        """Orders carried by a live assignment: pass as `DispatchState.assigned`."""
        return frozenset(self._live)

    def assignment_of(self, order_id: str) -> Assignment | None:
        assignment_id = self._live.get(order_id)
        return self.assignments[assignment_id] if assignment_id else None
