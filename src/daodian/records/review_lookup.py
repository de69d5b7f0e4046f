"""Which visits are reviewed already, for pages that offer "write a review" next to each visit."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.records.models import Review


def reviewed_verifications(session: Session, verification_ids: set[int]) -> dict[int, int]:
    """verification id -> its review's id, for those of `verification_ids` that have one."""
    if not verification_ids:
        return {}
    rows = session.execute(select(Review.verification_id, Review.id)
                           .where(Review.verification_id.in_(verification_ids)))
    return dict(rows.all())
