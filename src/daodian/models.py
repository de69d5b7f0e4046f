"""Imports every domain's tables so the metadata (migrations, tests) sees the whole schema."""

from daodian.accounts import consent as accounts_consent  # noqa: F401 - consents to be identified to merchants
from daodian.accounts import models as accounts_models
from daodian.analytics import models as analytics_models  # noqa: F401 - members' RFM segments
from daodian.bookings import models as booking_models  # noqa: F401 - bookings' tables
from daodian.catalog import models as catalog_models
from daodian.coupons import models as marketing_models  # noqa: F401 - coupons, campaigns
from daodian.kit.api.idempotency import IdempotencyKey  # noqa: F401 - idempotency keys
from daodian.kit.db import Base
from daodian.kit.facts import Fact
from daodian.linkage import models as linkage_models
from daodian.loyalty import models as loyalty_models  # noqa: F401 - points ledger
from daodian.merchants import models as merchants_models
from daodian.orders import models as orders_models  # noqa: F401 - orders, vouchers, verifications
from daodian.payments import models as payments_models  # noqa: F401 - payments, refunds, notifications
from daodian.records import models as records_models  # noqa: F401 - consumption records, reviews

__all__ = ["Base", "Fact", "accounts_models", "catalog_models", "linkage_models", "merchants_models"]
