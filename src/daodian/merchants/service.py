"""Merchant rules: sign-up, visibility, status changes and staff."""

from sqlalchemy.orm import Session

from daodian.accounts import service as accounts
from daodian.accounts.authz import Action, Principal, authorize, require_login
from daodian.kit.api.pagination import PageParams, fetch_page
from daodian.kit.errors import Forbidden, NotFound
from daodian.merchants import repository
from daodian.merchants.models import Merchant, MerchantStatus
from daodian.merchants.schemas import MerchantCreate, MerchantRead, MerchantUpdate


def create_merchant(session: Session, principal: Principal, data: MerchantCreate) -> Merchant:
    """Anyone logged in may sign a business up and becomes its owner; operators' sign-ups start active."""
    require_login(principal)
    merchant = Merchant(
        name=data.name.strip(), name_en=data.name_en, description=data.description, phone=data.phone,
        status=MerchantStatus.ACTIVE if principal.is_operator else MerchantStatus.PENDING,
    )
    session.add(merchant)
    session.flush()
    accounts.make_owner(session, merchant_id=merchant.id, user_id=principal.user_id)
    return merchant


def get_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("No such merchant.", code="merchant_not_found")
    return merchant


def is_public(merchant: Merchant) -> bool:
    return merchant.status == MerchantStatus.ACTIVE


def visible_merchant(session: Session, principal: Principal, merchant_id: int) -> Merchant:
    """A merchant the principal may see: active ones to everybody, others to their staff and operators."""
    merchant = get_merchant(session, merchant_id)
    if not is_public(merchant) and not principal.can(Action.CONSOLE_VIEW, merchant.id):
        raise NotFound("No such merchant.", code="merchant_not_found")
    return merchant


def managed_merchant(session: Session, principal: Principal, merchant_id: int, action: Action) -> Merchant:
    """Load a merchant for a change: 404 if it does not exist, 401/403 if the principal may not."""
    merchant = get_merchant(session, merchant_id)
    authorize(principal, action, merchant.id)
    return merchant


def list_merchants(session: Session, principal: Principal, params: PageParams,
                   status: MerchantStatus | None) -> tuple[list[Merchant], str | None]:
    if status is not None and status != MerchantStatus.ACTIVE and not principal.is_operator:
        raise Forbidden("Only operators may list merchants that are not active.")
    stmt = repository.merchants_query(statuses=[status or MerchantStatus.ACTIVE])
    return fetch_page(session, stmt, Merchant.id, params)


def update_merchant(session: Session, principal: Principal, merchant: Merchant, data: MerchantUpdate) -> Merchant:
    changes = data.model_dump(exclude_unset=True)
    status = changes.pop("status", None)
    if status is not None and status != merchant.status:
        if not principal.is_operator and status != MerchantStatus.CLOSED:
            raise Forbidden("Only operators approve or suspend merchants.", code="status_change_forbidden")
        merchant.status = status
    for key, value in changes.items():
        if value is not None or key in ("name_en", "phone"):
            setattr(merchant, key, value.strip() if key == "name" else value)
    session.flush()
    return merchant


def close_merchant(session: Session, merchant: Merchant) -> None:
    merchant.status = MerchantStatus.CLOSED
    session.flush()


def merchant_read(merchant: Merchant) -> MerchantRead:
    return MerchantRead(id=merchant.id, name=merchant.name, name_en=merchant.name_en, description=merchant.description,
                        phone=merchant.phone, status=merchant.status)


def merchants_by_ids(session: Session, ids: set[int]) -> dict[int, Merchant]:
    return repository.merchants_by_ids(session, ids)
