"""Reviews by verified consumers only: each rests on a visit of theirs (a consumption record identified
to them with consent, or a verified voucher) and there is one review per visit.

The store rating is the running mean of the experience ratings, folded in by one conditional UPDATE
per review on top of whatever the store started with (an imported rating acts as the prior), and the
store's updated_at moves with it so every process's nearby index picks the new rating up.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from daodian.accounts.authz import Action, Principal, authorize, require_login, require_operator
from daodian.kit.api.pagination import PageParams
from daodian.kit.clock import utcnow
from daodian.kit.db import insert_unless_taken
from daodian.kit.facts import append_fact
from daodian.merchants import stores
from daodian.records import repository
from daodian.records.errors import (
    AlreadyReviewed,
    ProductRatingRequired,
    ReviewBasisNotFound,
    ReviewNotFound,
    StaffCannotReview,
)
from daodian.records.models import ConsumptionRecord, Review, ReviewStatus
from daodian.records.schemas import ReplyIn, ReviewCreate, ReviewRead


@dataclass(frozen=True)
class Basis:
    """The verified visit a review rests on."""

    store_id: int
    merchant_id: int
    has_products: bool
    record_id: int | None = None
    verification_id: int | None = None

    @property
    def kind(self) -> str:
        return "record" if self.record_id is not None else "verification"


def _basis(session: Session, principal: Principal, data: ReviewCreate) -> Basis:
    if data.record_id is None:
        found = repository.verification_basis(session, data.verification_id)
        # Someone else's verification, or one a manager reversed (the visit did not count), is no basis.
        if found is None or found.consumer_id != principal.user_id or found.reversed_at is not None:
            raise ReviewBasisNotFound()
        return Basis(store_id=found.store_id, merchant_id=found.merchant_id, verification_id=found.id,
                     has_products=False)
    record = session.get(ConsumptionRecord, data.record_id)
    if record is None or record.consumer_id != principal.user_id:
        raise ReviewBasisNotFound()
    return Basis(store_id=record.store_id, merchant_id=record.merchant_id, record_id=record.id,
                 has_products=repository.record_has_product_line(session, record.id))


def create_review(session: Session, principal: Principal, data: ReviewCreate) -> Review:
    require_login(principal)
    basis = _basis(session, principal, data)
    if basis.merchant_id in principal.roles:
        raise StaffCannotReview()
    if repository.review_exists(session, record_id=basis.record_id, verification_id=basis.verification_id):
        raise AlreadyReviewed()
    if data.rating_product is None and basis.has_products:
        raise ProductRatingRequired()

    now = utcnow()
    unique = "record_id" if basis.record_id is not None else "verification_id"
    review_id = insert_unless_taken(session, Review.__table__, (unique,), dict(
        consumer_id=principal.user_id, merchant_id=basis.merchant_id, store_id=basis.store_id,
        record_id=basis.record_id, verification_id=basis.verification_id,
        rating_experience=data.rating_experience, rating_service=data.rating_service,
        rating_product=data.rating_product, text=data.text.strip(), status=ReviewStatus.VISIBLE.value, created_at=now,
    ))
    if review_id is None:  # a concurrent request for the same visit committed first
        raise AlreadyReviewed()
    repository.add_to_store_rating(session, basis.store_id, data.rating_experience, now)
    review = session.get(Review, review_id)
    append_fact(session, "review.created", {
        "review_id": review.id, "basis": basis.kind, "record_id": review.record_id,
        "verification_id": review.verification_id, "rating_experience": review.rating_experience,
        "rating_service": review.rating_service, "rating_product": review.rating_product,
        "text_length": len(review.text),  # the words stay out of the analytics store
    }, occurred_at=now, merchant_id=review.merchant_id, store_id=review.store_id, consumer_id=review.consumer_id)
    return review


def get_review(session: Session, review_id: int) -> Review:
    review = session.get(Review, review_id)
    if review is None:
        raise ReviewNotFound()
    return review


def reply(session: Session, principal: Principal, review_id: int, data: ReplyIn) -> Review:
    """The merchant's public answer (a manager or owner); replying again replaces it."""
    review = get_review(session, review_id)
    authorize(principal, Action.STORE_MANAGE, review.merchant_id)
    now = utcnow()
    review.merchant_reply, review.replied_at, review.replied_by = data.text.strip(), now, principal.user_id
    session.flush()
    append_fact(session, "review.replied", {"review_id": review.id, "reply_length": len(review.merchant_reply)},
                occurred_at=now, merchant_id=review.merchant_id, store_id=review.store_id)
    return review


def hide(session: Session, principal: Principal, review_id: int) -> Review:
    """Operators take a review down; its rating leaves the store's average. Hiding twice changes nothing."""
    require_operator(principal)
    review = get_review(session, review_id)
    if repository.hide_review_if_visible(session, review.id):
        now = utcnow()
        repository.remove_from_store_rating(session, review.store_id, review.rating_experience, now)
        append_fact(session, "review.hidden", {"review_id": review.id}, occurred_at=now,
                    merchant_id=review.merchant_id, store_id=review.store_id)
    session.refresh(review)
    return review


def store_reviews(session: Session, principal: Principal, store_id: int,
                  params: PageParams) -> tuple[list[ReviewRead], str | None]:
    store = stores.visible_store(session, principal, store_id)
    rows, cursor = repository.newest_first(session, repository.visible_reviews_query(store.id), Review.id, params)
    return review_reads(session, rows), cursor


def review_reads(session: Session, reviews: list[Review]) -> list[ReviewRead]:
    names = repository.display_names(session, {r.consumer_id for r in reviews})
    return [ReviewRead(
        id=r.id, store_id=r.store_id, merchant_id=r.merchant_id,
        basis="record" if r.record_id is not None else "verification",
        rating_experience=r.rating_experience, rating_service=r.rating_service, rating_product=r.rating_product,
        text=r.text, author_name=names.get(r.consumer_id, ""), status=r.status, merchant_reply=r.merchant_reply,
        replied_at=r.replied_at, created_at=r.created_at,
    ) for r in reviews]
