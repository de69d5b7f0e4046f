"""Group buy errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, Invalid, NotFound


class GroupBuyNotFound(NotFound):
    code, message = "group_buy_not_found", "No such group buy."


class GroupBuyInvalid(Invalid):
    code, message = "invalid_group_buy", "This group buy does not add up."


class GroupBuyClosed(Conflict):
    code, message = "group_buy_closed", "This group buy is not open for joining."


class GroupBuyPending(Conflict):
    code, message = "group_buy_pending", "This group-buy deal is not decided yet; the voucher works once it succeeds."
