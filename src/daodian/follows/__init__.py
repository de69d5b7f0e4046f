"""Following merchants: followers become members, merchants publish posts, consumers read them in their feed."""
