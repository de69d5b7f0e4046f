"""Who may do what: the one place authorization is decided.

Every protected object resolves to the merchant that owns it (stores, items, products) or to the
consumer it belongs to. Routes call `authorize` / `authorize_self` after loading the object; a
principal without rights on it gets 404 when it may not even know the object exists: a consumer's
object answers anyone else exactly as a missing one would (the route's own not-found error), so ids
and codes cannot be probed for what other people bought, booked or paid.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from daodian.accounts.models import StaffRole
from daodian.kit.errors import Forbidden, NotAuthenticated, NotFound


class Action(StrEnum):
    CONSOLE_VIEW = "console.view"  # see the merchant console and non-public merchant data
    MERCHANT_UPDATE = "merchant.update"
    MERCHANT_DELETE = "merchant.delete"
    STAFF_MANAGE = "staff.manage"
    STORE_MANAGE = "store.manage"  # create, edit, move, close stores; opening hours
    CATALOG_MANAGE = "catalog.manage"  # products, SKUs, service items
    COUNTER = "counter"  # work at the counter: verify codes, record sales


ROLE_ACTIONS: dict[StaffRole, frozenset[Action]] = {
    StaffRole.OWNER: frozenset(Action),
    StaffRole.MANAGER: frozenset(Action) - {Action.MERCHANT_DELETE, Action.STAFF_MANAGE},
    StaffRole.CLERK: frozenset({Action.CONSOLE_VIEW, Action.COUNTER}),
}


@dataclass(frozen=True)
class Principal:
    user_id: int | None = None
    display_name: str = ""
    is_operator: bool = False
    roles: dict[int, StaffRole] = field(default_factory=dict)  # merchant id -> role
    # An app's token (daodian.apps): the app, its installation when it acts for a merchant (then the account is
    # the installation's own and `roles` that one merchant), and the scopes the token carries.
    app_id: int | None = None
    installation_id: int | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_app(self) -> bool:
        return self.app_id is not None

    def can(self, action: Action, merchant_id: int) -> bool:
        if self.is_operator:
            return True
        role = self.roles.get(merchant_id)
        return role is not None and action in ROLE_ACTIONS[role]


ANONYMOUS = Principal()


def require_login(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise NotAuthenticated()


def authorize(principal: Principal, action: Action, merchant_id: int) -> None:
    """Allow `action` on an object of `merchant_id`, or raise 401/403."""
    require_login(principal)
    if not principal.can(action, merchant_id):
        raise Forbidden(f"Your account may not do '{action}' for this merchant.")


def authorize_self(principal: Principal, owner_user_id: int, *, hidden_as: type[NotFound],
                   merchant_id: int | None = None) -> None:
    """Allow access to a consumer's own object (operators may see any).

    Anyone else gets `hidden_as()`, the route's error for a missing object, so that another
    consumer's object is indistinguishable from none. Only staff who may already see the object
    (console.view at `merchant_id`, the merchant it was bought from) learn that they may not do this.
    """
    require_login(principal)
    if principal.user_id == owner_user_id or principal.is_operator:
        return
    if merchant_id is not None and principal.can(Action.CONSOLE_VIEW, merchant_id):
        raise Forbidden("This belongs to a consumer; your role may not do this.")
    raise hidden_as()


def require_operator(principal: Principal) -> None:
    require_login(principal)
    if not principal.is_operator:
        raise Forbidden("Only platform operators may do this.")
