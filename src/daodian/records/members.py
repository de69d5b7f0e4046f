"""Who the consumer at the counter is: by phone number, by member code, or by a voucher of theirs
(vouchers.service: the merchant's own vouchers only).

A member code is a random per-account code the consumer's app shows (as text or a QR code) for the
clerk to scan. It is issued on first request and stays the same, so a printed or saved code keeps
working; it identifies an account but proves nothing, so the clerk still asks for consent.
"""

import secrets

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from daodian.records import repository
from daodian.records.errors import MemberNotFound
from daodian.records.models import IdentifiedBy
from daodian.records.schemas import MemberIn
from daodian.vouchers import service as vouchers
from daodian.vouchers.errors import VoucherNotFound

# Crockford's base32: no I, L, O or U, so nothing is misread at the counter. 10 characters = 50 bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


def new_member_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def member_code_for(session: Session, user_id: int) -> str:
    """The account's member code, issuing one on first use. (Served by a GET, whose SQLite transaction starts
    deferred: under heavy concurrent writing the first issue may get a 503 to retry; later reads never write.)"""
    for _ in range(5):
        code = repository.member_code_of(session, user_id)
        if code is not None:
            return code
        try:
            with session.begin_nested():  # a clash of 50-bit codes is unlikely, but a savepoint makes it a redraw
                repository.set_member_code_once(session, user_id, new_member_code())
        except IntegrityError:
            continue
    raise RuntimeError(f"could not issue a member code for user {user_id}")


def identify(session: Session, merchant_id: int, member: MemberIn) -> tuple[int, IdentifiedBy, int | None]:
    """(consumer id, how, voucher id) for the member the clerk entered; 422 when nobody matches."""
    if member.kind == IdentifiedBy.PHONE:
        user_id = repository.active_user_id_by_phone(session, member.value)
    elif member.kind == IdentifiedBy.MEMBER_CODE:
        user_id = repository.active_user_id_by_member_code(session, member.value)
    else:
        return _voucher_holder(session, merchant_id, member.value)
    if user_id is None:
        raise MemberNotFound()
    return user_id, member.kind, None


def _voucher_holder(session: Session, merchant_id: int, code: str) -> tuple[int, IdentifiedBy, int | None]:
    """Whoever holds a voucher of this merchant (any state: a used one still says who the customer is)."""
    try:
        voucher = vouchers.find(session, code)
    except VoucherNotFound:
        raise MemberNotFound() from None
    if voucher.merchant_id != merchant_id:  # another merchant's voucher: not ours to look at
        raise MemberNotFound()
    return voucher.consumer_id, IdentifiedBy.VOUCHER, voucher.id
