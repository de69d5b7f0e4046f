"""Merchants (the businesses), their stores, opening hours, and which stores offer which services."""
