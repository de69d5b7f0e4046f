"""Loyalty: the points ledger (and, beside it, member tiers, follows and merchant posts)."""
