"""Coupons: templates, claims (stock in slots, batched for flash sales), redemption at checkout and at the
counter, pricing, and the coupon pages."""
