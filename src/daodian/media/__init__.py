"""Photos of stores, products, service items and reviews: validated by content, re-encoded without EXIF, thumbnailed, stored on disk or in S3."""
