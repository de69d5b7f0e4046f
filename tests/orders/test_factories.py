from daodian.vouchers import repository as voucher_repository
from tests.factories import make_order, make_shop, make_user


def test_order_factories(db):
    consumer = make_user(db)
    shop = make_shop(db)
    assert make_order(db, consumer, shop=shop).status == "created"
    paid = make_order(db, consumer, shop=shop, product=True, paid=True)
    assert (paid.status, paid.paid_fen) == ("paid", 29900)
    service = make_order(db, consumer, shop=shop, paid=True)
    [voucher] = voucher_repository.vouchers_of_order(db, service.id)
    assert voucher.consumer_id == consumer.id and voucher.uses_left == 1 and service.status == "voucher_issued"
