"""The platform's two category trees, products and services, with their stable codes (the seed in tree.py)."""
