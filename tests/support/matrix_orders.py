"""Authorization-matrix entries (see tests/support/matrix.py) for orders, vouchers, verifications,
payments and refunds.

Consumer worlds' orders belong to the world's consumer and sit at the store of the merchant world they
shop at (`shop`). Merchant worlds' orders (for counter routes) are consumer A's, at that world's store.
Each route gets an order in the state its call needs: unpaid to pay or cancel, paid to refund,
fulfilled to confirm.
"""

from daodian.kit.settings import get_settings
from daodian.orders import service as orders
from daodian.vouchers import counter
from tests.factories import Shop, make_order, make_voucher, pay_order, principal_of, sku_of
from tests.support.matrix import API_PREFIX, shop


def shop_of(scene, world) -> Shop:
    """The factories' Shop for the merchant world an object of `world` sits at."""
    objects = shop(scene, world).objects
    return Shop(merchant=objects["merchant"], store=objects["store"], item=objects["item"],
                product=objects["product"], sku=sku_of(scene.db, objects["product"]))


def customer(scene, world):
    """Whose object it is: the consumer world's consumer; at a merchant world, consumer A."""
    return world.owner if world.kind == "consumer" else scene.users["consumer_a"]


def staff_of(scene, world):
    """A manager of the merchant world the object sits at (counter and store rights)."""
    return shop(scene, world).objects["staff_member"]


def _unpaid_or_handed_over(scene, world) -> int:
    """Consumer worlds: an unpaid service order (to read, pay, cancel). Merchant worlds: a paid product
    order for pickup (for the counter to hand over)."""
    if world.kind == "consumer":
        return make_order(scene.db, world.owner, shop=shop_of(scene, world)).id
    return make_order(scene.db, customer(scene, world), shop=shop_of(scene, world), product=True, paid=True).id


def _fulfilled_order(scene, world) -> int:
    order = make_order(scene.db, customer(scene, world), shop=shop_of(scene, world), product=True, paid=True)
    orders.fulfil(scene.db, principal_of(scene.db, staff_of(scene, world)), order)
    return order.id


def _paid_service_order(scene, world) -> int:
    return make_order(scene.db, customer(scene, world), shop=shop_of(scene, world), paid=True).id


def _payment_id(scene, world) -> int:
    return pay_order(scene.db, make_order(scene.db, customer(scene, world), shop=shop_of(scene, world))).id


def fresh_voucher(scene, world):
    """A paid, unused voucher of the object's consumer for the shop's item, meant for the shop's store."""
    where = shop_of(scene, world)
    return make_voucher(scene.db, get_settings(), customer(scene, world), where.item, where.store)


def _verification_id(scene, world) -> int:
    voucher = fresh_voucher(scene, world)
    return counter.verify(scene.db, principal_of(scene.db, staff_of(scene, world)), raw_code=voucher.code,
                          store_id=shop_of(scene, world).store.id, terminal_id=None, settings=get_settings()).id


def _verify(scene, world) -> dict:
    voucher = scene.once(world, "voucher to verify", lambda: fresh_voucher(scene, world))
    return {"code": voucher.code, "store_id": world.objects["store"].id}


PARAMS = {
    "order_id": _unpaid_or_handed_over,
    f"{API_PREFIX}/orders/{{order_id}}/confirm#order_id": _fulfilled_order,
    f"{API_PREFIX}/orders/{{order_id}}/refunds#order_id": _paid_service_order,
    "payment_id": _payment_id,
    f"{API_PREFIX}/vouchers/{{code}}#code": lambda s, w: fresh_voucher(s, w).code,
    f"{API_PREFIX}/vouchers/{{code}}/qr.svg#code": lambda s, w: fresh_voucher(s, w).code,
    "verification_id": _verification_id,
}

BODIES = {
    "POST /api/v1/orders": lambda s, w: {"lines": [{"service_item_id": w.objects["item"].id, "quantity": 1}]},
    "POST /api/v1/orders/{order_id}/pay": {"provider": "sandbox"},
    "POST /api/v1/orders/{order_id}/refunds": {"reason": "不想要了"},
    "POST /api/v1/vouchers/verify": _verify,
}
