"""Loyalty errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, NotFound


class InsufficientPoints(Conflict):
    code, message = "insufficient_points", "Not enough points."


class PointsTransactionNotFound(NotFound):
    code, message = "points_transaction_not_found", "No such points transaction."
