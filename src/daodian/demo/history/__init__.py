"""The demo city's past: 90 days of the closed loop (purchases, consumptions, coupons, points) written as the
domains would have."""
