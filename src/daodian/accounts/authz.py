"""Who may do what: the one place authorization is decided.

Every protected object resolves to the merchant that owns it (stores, items, products) or to the
consumer it belongs to. Routes call `authorize` / `authorize_self` after loading the object; a
principal without rights on it gets 404 when it may not even know the object exists.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from daodian.accounts.models import StaffRole
from daodian.kit.errors import Forbidden, NotAuthenticated


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

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

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


def authorize_self(principal: Principal, owner_user_id: int) -> None:
    """Allow access to a consumer's own object (operators may see any)."""
    require_login(principal)
    if principal.user_id != owner_user_id and not principal.is_operator:
        raise Forbidden("This belongs to another account.")


def require_operator(principal: Principal) -> None:
    require_login(principal)
    if not principal.is_operator:
        raise Forbidden("Only platform operators may do this.")
