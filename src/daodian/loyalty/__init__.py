"""Loyalty: the points ledger (append-only, double-entry), earning rules and member tiers."""
