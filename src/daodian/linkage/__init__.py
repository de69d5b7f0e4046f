"""Product -> service links (curated and mined), and the nearby stores that provide a product's services."""
