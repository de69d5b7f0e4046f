"""Segment campaigns: audiences sized under the privacy threshold and the differencing guard, coupons and posts
sent to them, and the merchant's marketing console."""
