"""Imports every domain's tables so the metadata (migrations, tests) sees the whole schema."""

from daodian.accounts import consent as accounts_consent  # noqa: F401 - consents to be identified to merchants
from daodian.accounts import models as accounts_models  # noqa: F401 - users, sessions, staff, preferences
from daodian.accounts.tokens import changes as principal_changes  # noqa: F401 - changes to who a token is
from daodian.analytics import models as analytics_models  # noqa: F401 - members' RFM segments
from daodian.apps import models as apps_models  # noqa: F401 - apps, installations, OAuth codes and tokens
from daodian.bookings import models as booking_models  # noqa: F401 - slots and bookings
from daodian.c2b.group_buy import models as group_buy_models  # noqa: F401 - group buys and joins
from daodian.c2b.presale import models as presale_models  # noqa: F401 - pre-sales, candidates, votes
from daodian.campaigns import models as campaign_models  # noqa: F401 - segment campaigns
from daodian.catalog import models as catalog_models  # noqa: F401 - products and SKUs
from daodian.coupons import models as coupon_models  # noqa: F401 - templates, stock, coupons
from daodian.delivery import models as delivery_models  # noqa: F401 - couriers, positions, deliveries
from daodian.follows import models as follow_models  # noqa: F401 - follows, posts
from daodian.kit.api.idempotency import IdempotencyKey  # noqa: F401 - idempotency keys
from daodian.kit.db import Base
from daodian.kit.facts import Fact
from daodian.kit.leases import JobLease  # noqa: F401 - periodic jobs' leases
from daodian.kit.outbox import OutboxCursor  # noqa: F401 - the outbox consumers' cursors
from daodian.linkage import models as linkage_models  # noqa: F401 - product -> service links
from daodian.loyalty import models as loyalty_models  # noqa: F401 - points ledger, tiers
from daodian.media import models as media_models  # noqa: F401 - photos of stores, products, items, reviews
from daodian.merchants import models as merchants_models  # noqa: F401 - merchants, stores, service items
from daodian.orders import models as orders_models  # noqa: F401 - orders and their lines
from daodian.payments import models as payments_models  # noqa: F401 - payments, refunds, notifications
from daodian.records import models as records_models  # noqa: F401 - consumption records, reviews
from daodian.taxonomy import models as taxonomy_models  # noqa: F401 - the category trees
from daodian.vouchers import models as voucher_models  # noqa: F401 - vouchers, verifications
from daodian.webhooks import models as webhook_models  # noqa: F401 - webhook endpoints, deliveries, attempts

__all__ = ["Base", "Fact"]
