"""Offline consumption records (what a store sold, tied to a member who agreed) and the reviews they allow."""
