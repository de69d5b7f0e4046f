"""The consumer's PIPL Art. 24 switch: personalised recommendations and targeted marketing (default on)."""

from sqlalchemy.orm import Session

from daodian.accounts.models import MarketingPreference
from daodian.kit.clock import utcnow


def personalised(session: Session, consumer_id: int) -> bool:
    row = session.get(MarketingPreference, consumer_id)
    return True if row is None else row.personalised


def set_personalised(session: Session, consumer_id: int, value: bool) -> bool:
    row = session.get(MarketingPreference, consumer_id)
    if row is None:
        row = MarketingPreference(consumer_id=consumer_id)
        session.add(row)
    row.personalised, row.updated_at = value, utcnow()
    session.flush()
    return row.personalised
