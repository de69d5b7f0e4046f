"""kit.db.insert_loaded: a new object written by one Core INSERT is a persistent object of the session, loaded
as written, as a flush would leave it."""

from sqlalchemy import event, select

from daodian.kit.db import insert_loaded
from daodian.payments.models import Payment, PaymentStatus
from daodian.payments.references import new_reference
from tests.factories import make_order, make_user


def _statements(db) -> list[str]:
    seen: list[str] = []
    event.listen(db.connection(), "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_an_inserted_object_is_persistent_with_its_defaults_and_its_later_changes_are_flushed(db):
    consumer = make_user(db)
    order = make_order(db, consumer)
    payment = Payment(order_id=order.id, provider="sandbox", status=PaymentStatus.PENDING, amount_fen=100,
                      out_trade_no=new_reference("P"), created_by=consumer.id)
    seen = _statements(db)
    insert_loaded(db, payment)
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO payments")
    assert payment.id is not None and payment in db and not db.dirty
    # Unset columns: their Python defaults, or None (NULL) without one, read with no statement.
    assert (payment.refunded_fen, payment.late, payment.details, payment.pay_url) == (0, False, {}, None)
    assert payment.created_at is not None and len(seen) == 1
    payment.pay_url = "https://pay.example/1"
    db.flush()
    assert seen[-1].startswith("UPDATE payments")
    row = db.execute(select(Payment.pay_url, Payment.refunded_fen, Payment.provider_trade_no, Payment.details)
                     .where(Payment.id == payment.id)).one()
    assert tuple(row) == ("https://pay.example/1", 0, None, {})
