"""Vouchers: codes issued for paid service orders, verification at the counter (exactly once), QR, and the
order's completion."""
