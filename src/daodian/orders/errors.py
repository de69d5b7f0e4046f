"""Order and voucher errors, each with its HTTP status and stable code."""

from daodian.kit.errors import Conflict, Invalid, NotFound


class OrderNotFound(NotFound):
    code, message = "order_not_found", "No such order."


class OutOfStock(Conflict):
    code, message = "out_of_stock", "Not enough stock left for this SKU."


class NotForSale(Conflict):
    code, message = "not_for_sale", "This SKU or service item is not for sale."


class UnknownLineItem(NotFound):
    code, message = "unknown_line_item", "A line names a SKU or service item that does not exist."


class MultipleMerchants(Invalid):
    code, message = "multiple_merchants", "An order holds items of one merchant only; place one order per merchant."


class MixedOrder(Invalid):
    code, message = "mixed_order", "Products and service items go in separate orders."


class FulfilmentInvalid(Invalid):
    code, message = "invalid_fulfilment", "Choose delivery with an address, or pickup at a store of this merchant."


class StoreDoesNotOffer(Invalid):
    code, message = "store_does_not_offer", "That store does not offer every service item in this order."


class OrderExpired(Conflict):
    code, message = "order_expired", "This order was not paid in time and has expired."


