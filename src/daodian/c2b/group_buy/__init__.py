"""Tiered group buys: the price drops as more people join within the window; settled once, refunded in full if it
fails."""
