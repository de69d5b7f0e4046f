"""Nearby search: every store in a per-process index, ranked by distance, rating and opening hours
(docs/ranking.md)."""
