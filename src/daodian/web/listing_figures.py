"""The figures a listing row shows beside the rating: 人均 (average spend per visit, from paid orders and the
stores' own records of offline sales) and 已售 (orders and recorded sales of the last 30 days). Computed for
the few dozen stores of one page at once, two grouped queries each."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from daodian.kit.clock import utcnow
from daodian.orders.models import Order
from daodian.records.models import ConsumptionRecord

SPEND_WINDOW = timedelta(days=90)  # 人均 over a season: enough visits, still today's prices
SOLD_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class StoreFigures:
    avg_spend_fen: int | None  # None: no visit in the window
    sold_30d: int


def _sums(session: Session, store_col, time_col, amount, ids: list[int], since, *where) -> dict[int, tuple[int, int]]:
    rows = session.execute(select(store_col, func.count(), func.coalesce(func.sum(amount), 0))
                           .where(store_col.in_(ids), time_col >= since, *where).group_by(store_col))
    return {store_id: (count, int(total)) for store_id, count, total in rows}


def figures_of(session: Session, store_ids: list[int]) -> dict[int, StoreFigures]:
    if not store_ids:
        return {}
    now = utcnow()
    paid = (Order.paid_at.is_not(None),)
    spend_orders = _sums(session, Order.store_id, Order.paid_at, Order.paid_fen - Order.refunded_fen, store_ids,
                         now - SPEND_WINDOW, *paid)
    spend_records = _sums(session, ConsumptionRecord.store_id, ConsumptionRecord.occurred_at,
                          ConsumptionRecord.total_fen, store_ids, now - SPEND_WINDOW)
    sold_orders = _sums(session, Order.store_id, Order.paid_at, Order.paid_fen, store_ids, now - SOLD_WINDOW, *paid)
    sold_records = _sums(session, ConsumptionRecord.store_id, ConsumptionRecord.occurred_at,
                         ConsumptionRecord.total_fen, store_ids, now - SOLD_WINDOW)
    figures = {}
    for store_id in store_ids:
        visits = spend_orders.get(store_id, (0, 0))[0] + spend_records.get(store_id, (0, 0))[0]
        spent = spend_orders.get(store_id, (0, 0))[1] + spend_records.get(store_id, (0, 0))[1]
        sold = sold_orders.get(store_id, (0, 0))[0] + sold_records.get(store_id, (0, 0))[0]
        figures[store_id] = StoreFigures(round(spent / visits) if visits else None, sold)
    return figures
