"""Marketing: coupons, segment campaigns (and group buys and pre-sales)."""
