"""The demo's live deals' shoppers: consumers found or made by phone, and orders paid as the pay flow
records a sandbox payment whose notification arrived (payments.service.apply_success)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from daodian.accounts.models import User
from daodian.kit.settings import get_settings
from daodian.orders.models import Order
from daodian.payments import service as payments
from daodian.payments.models import Payment, PaymentStatus
from daodian.payments.references import new_reference


def consumer(session: Session, phone: str, display_name: str) -> User:
    user = session.scalar(select(User).where(User.phone == phone))
    if user is None:  # no password: the demo shoppers never sign in
        user = User(phone=phone, display_name=display_name, password_hash="!demo", is_operator=False,
                    is_active=True, failed_logins=0)
        session.add(user)
        session.flush()
    return user


def pay_in_sandbox(session: Session, order: Order) -> None:
    payment = Payment(order_id=order.id, provider="sandbox", status=PaymentStatus.PENDING, amount_fen=order.total_fen,
                      refunded_fen=0, out_trade_no=new_reference("P"), late=False, details={},
                      created_by=order.consumer_id)
    session.add(payment)
    session.flush()
    payments.apply_success(session, payment, amount_fen=payment.amount_fen, provider_reference="SBXDEMO",
                           settings=get_settings())
