"""Orders: placing them at server prices, stock, their state machine and expiry; what they raise (events.py)."""
