"""Marketing and membership: coupons, the points ledger, segment campaigns."""
