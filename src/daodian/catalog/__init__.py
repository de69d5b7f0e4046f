"""The online catalog: products and their SKUs, in the product category tree (taxonomy)."""
