"""Whose photos these are. Stores, products, service items and reviews live in domains above this one; each
answers "who may manage the photos of this one" through a lookup plugged in at start-up (daodian.bootstrap),
so media imports none of them."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize, authorize_self
from daodian.media.errors import PhotoOwnerNotFound
from daodian.media.models import OwnerKind

# How many photos one owner may carry: a review nine (the consumer's grid), the rest a merchant's gallery.
MAX_PHOTOS: dict[OwnerKind, int] = {OwnerKind.STORE: 20, OwnerKind.PRODUCT: 12, OwnerKind.SERVICE_ITEM: 12,
                                    OwnerKind.REVIEW: 9}

# The merchant action that covers each merchant-owned kind (reviews belong to their author instead).
MANAGE_ACTION: dict[OwnerKind, Action] = {OwnerKind.STORE: Action.STORE_MANAGE, OwnerKind.PRODUCT: Action.CATALOG_MANAGE,
                                          OwnerKind.SERVICE_ITEM: Action.CATALOG_MANAGE}


@dataclass(frozen=True)
class Owner:
    merchant_id: int | None  # whose staff manage the photos (stores, products, service items)
    author_id: int | None = None  # the consumer who does (reviews)


OwnerLookup = Callable[[Session, int], Owner | None]
_lookups: dict[OwnerKind, OwnerLookup] = {}


def answer_with(kind: OwnerKind, lookup: OwnerLookup) -> None:
    _lookups[kind] = lookup


def owner_of(session: Session, kind: OwnerKind, owner_id: int) -> Owner:
    lookup = _lookups.get(kind)
    if lookup is None:
        raise RuntimeError(f"no owner lookup for {kind} photos: call daodian.bootstrap.wire() at start-up")
    owner = lookup(session, owner_id)
    if owner is None:
        raise PhotoOwnerNotFound()  # no details: another consumer's review must answer exactly like a missing one
    return owner


def authorize_photos(principal: Principal, kind: OwnerKind, owner: Owner) -> None:
    """Only the review's author adds to a review; only the merchant's staff with the right action to the rest."""
    if kind == OwnerKind.REVIEW:
        authorize_self(principal, owner.author_id or 0, hidden_as=PhotoOwnerNotFound,
                       merchant_id=owner.merchant_id)
    else:
        authorize(principal, MANAGE_ACTION[kind], owner.merchant_id or 0)
