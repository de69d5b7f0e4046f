"""What every JSON route shares: request dependencies, the error envelope, query strings, keyset pages,
idempotency keys."""
