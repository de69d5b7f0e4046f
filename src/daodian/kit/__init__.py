"""Shared building blocks every domain may import: settings, database, errors, money, time."""
