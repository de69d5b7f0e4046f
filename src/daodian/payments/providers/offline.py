"""Offline: cash or card taken at the store's POS, recorded by counter staff.

There is nothing to call: recording the payment is the payment, and a refund is staff handing
the money back at the counter, recorded the same way.
"""

import secrets

from daodian.payments.providers.base import PaymentInfo, PaymentProvider, RefundInfo, RefundResult, Started


class OfflineProvider(PaymentProvider):
    name = "offline"
    online = False

    def start(self, payment: PaymentInfo) -> Started:
        return Started(pay_url=None)

    def refund(self, refund: RefundInfo) -> RefundResult:
        return RefundResult("succeeded", provider_refund_no=f"POS{secrets.token_hex(6).upper()}")
