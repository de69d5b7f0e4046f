"""Merchants (the businesses), their staff, stores, opening hours, the services they offer and which stores
offer them, and consumers' consents to them."""
