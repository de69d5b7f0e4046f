"""Product category tree, products and SKUs, service category tree, service items."""
