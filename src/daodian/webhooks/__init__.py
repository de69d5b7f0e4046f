"""Webhooks: apps subscribe endpoints to events from the installing merchant's facts; signed, retried, logged deliveries."""
