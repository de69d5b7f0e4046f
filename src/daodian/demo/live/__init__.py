"""The demo city's live deals, made through the services on the real clock: a running group buy and an open pre-
sale."""
