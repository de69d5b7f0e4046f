"""Who adds photos to a review: its author, and no one else (media asks through this)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.media.owners import Owner
from daodian.records.models import Review


def review_owner(session: Session, review_id: int) -> Owner | None:
    row = session.execute(select(Review.consumer_id, Review.merchant_id).where(Review.id == review_id)).first()
    return None if row is None else Owner(merchant_id=row.merchant_id, author_id=row.consumer_id)
