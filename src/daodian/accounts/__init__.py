"""Consumers, merchant staff, operators, login sessions and who may do what."""
