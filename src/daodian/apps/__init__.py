"""Apps built on daodian by outside developers: registration, installation at a merchant, OAuth 2.0 grants and scopes."""
